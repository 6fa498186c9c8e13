#!/usr/bin/env bash
# SIGTERM during a database outage (issue 10): inputs.file (tail) -> outputs.timescale on a private
# PostgreSQL; PostgreSQL is stopped part way, the agent is stopped with SIGTERM while its output still
# holds undelivered trades, then both are restarted: every one of the 200,000 trades is stored, once
# (trade_data's primary key absorbs what is read again). Run with the default buffer and with
# `buffer: {when_full: block}` and a small buffer.
source "$(dirname "$0")/lib.sh"
if [[ -z "${CVAGENT_TEST_PG_BIN:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "CVAGENT_TEST_PG_BIN is not set"
  echo "SKIP: CVAGENT_TEST_PG_BIN is not set (run through scripts/test.sh)"
  exit 77
fi
pg_service="${CVAGENT_SOURCE_DIR:-$(dirname "$0")/../..}/tests/services/postgres.sh"
export CVAGENT_PG_BIN="$CVAGENT_TEST_PG_BIN"
chmod 755 "$WORK"  # the server runs as `postgres` and lives under $WORK
pg="$WORK/pg"
trap 'bash "$pg_service" stop "$pg" || true; cleanup' EXIT
eval "$(bash "$pg_service" start "$pg")"
url=$CVAGENT_TEST_PG_URL
q() { "$CVAGENT_TEST_PG_BIN/psql" "$url" -qAt -c "$1"; }
stored() { q "SELECT count(*) FROM trade_data" 2>/dev/null || echo -1; }
has_stored() { (($(stored) >= $1)); }

count=200000
/usr/bin/python3 - "$WORK/trades.jsonl" "$count" <<'PY'
import sys
t0 = 1795962600000000000
with open(sys.argv[1], "w") as f:
    for n in range(int(sys.argv[2])):
        f.write('{"name":"trade","tags":{"exchange":"kraken","pair":"BTC/USD","side":"buy"},'
                '"fields":{"price":95863.2,"volume":0.01,"trade_id":%d,"ord_type":"limit"},"time":%d}\n'
                % (n, t0 + n * 1000))
PY

run() {  # NAME BUFFER_YAML
  local name=$1 buffer=$2 dir="$WORK/$1"
  mkdir -p "$dir"
  cat >"$dir/p.yaml" <<YAML
agent: {http: "", state_dir: $dir/state, shutdown_timeout: 2s}
inputs:
  - file: {path: $WORK/trades.jsonl, interval: 100ms}
outputs:
  - timescale:
      connection: $url
      batch_size: 1000
      retry: {initial: 100ms, max: 500ms}
$buffer
YAML
  "$CVAGENT" schema apply -c "$dir/p.yaml" >"$WORK/$name-schema.log" 2>&1 || fail "$name: schema apply"
  q "TRUNCATE trade_data"

  "$CVAGENT" -c "$dir/p.yaml" 2>"$WORK/$name-agent1.log" &
  local agent=$!
  cleanup_pids+=("$agent")
  wait_for 60 has_stored 20000 || fail "$name: nothing stored before the outage"
  bash "$pg_service" stop "$pg"
  wait_for 20 grep -q "write of .* failed" "$WORK/$name-agent1.log" || fail "$name: the outage was not noticed"
  sleep 1
  kill -TERM "$agent"
  set +e
  wait "$agent"
  local rc=$?
  set -e
  # 1: metrics were dropped at the deadline (or the shutdown watchdog ended the process).
  ((rc == 0 || rc == 1)) || fail "$name: agent exit code $rc after SIGTERM"

  eval "$(bash "$pg_service" start "$pg")"
  local after_outage
  after_outage=$(stored)
  ((after_outage < count)) || fail "$name: everything was stored before the outage: the test proves nothing"
  "$CVAGENT" -c "$dir/p.yaml" 2>"$WORK/$name-agent2.log" &
  agent=$!
  cleanup_pids+=("$agent")
  wait_for 120 has_stored "$count" || fail "$name: $(stored) of $count trades stored after the restarts"
  sleep 1
  kill -TERM "$agent"
  wait "$agent" || fail "$name: second run exit code $?"
  [[ $(stored) -eq $count ]] || fail "$name: $(stored) rows, want $count"
  [[ $(q "SELECT count(DISTINCT trade_id) FROM trade_data") -eq $count ]] || fail "$name: trade ids missing"
  echo "$name: ok ($after_outage stored before the outage, $count of $count after the restarts, exit $rc on SIGTERM)"
}

run default-buffer ""
run block-small-buffer "      buffer: {max: 2000, when_full: block}"

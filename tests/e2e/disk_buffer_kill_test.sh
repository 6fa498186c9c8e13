#!/usr/bin/env bash
# e2e: a disk buffer carries trades across a crash while the database is down.
#  1. The fake exchange streams its recording; the agent (inputs.kraken -> outputs.timescale with
#     `buffer: {type: disk}`) runs while PostgreSQL is down (nothing listens on its port).
#  2. Once every trade is in the disk buffer, the agent is SIGKILLed and the exchange stopped.
#  3. PostgreSQL starts (a private instance), the agent starts again with the same state_dir and
#     no exchange: every trade is stored exactly once, from the disk buffer.
set -euo pipefail
: "${CVAGENT:?CVAGENT must point at the cvagent binary}"
if [[ -z "${CVAGENT_TEST_PG_BIN:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && { echo "FAIL: CVAGENT_TEST_PG_BIN is not set" >&2; exit 1; }
  echo "SKIP: CVAGENT_TEST_PG_BIN is not set (run through scripts/test.sh)"
  exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# An e2e of the core's disk buffer with two plugins: inputs.kraken's fake exchange feeds it.
kraken_tests="$root/plugins/inputs/kraken/tests"
session="$root/tests/data/kraken/ws_v2_session.jsonl"
source "$root/tests/e2e/lib.sh" # WORK, cleanup_pids, fail, wait_for, free_port
work=$WORK
chmod 755 "$work" # the private PostgreSQL runs as the postgres user
stop_all() {
  for pid in "${cleanup_pids[@]:-}"; do [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true; done
  CVAGENT_PG_BIN="$CVAGENT_TEST_PG_BIN" "$root/tests/services/postgres.sh" stop "$work/pg" || true
  cleanup
}
trap stop_all EXIT
scrape() {
  /usr/bin/python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
    "http://127.0.0.1:$agent_port/metrics" 2>/dev/null || true
}
metric() { # metric NAME PLUGIN: its value on /metrics, 0 when absent
  scrape | awk -v n="$1" -v p="plugin=\"$2\"" '$1 ~ "^"n"[{]" && index($1, p) { v = $2 } END { print v + 0 }'
}

expected=$(/usr/bin/python3 - "$session" <<'PY'
import json, sys
print(len({(e["symbol"], e["trade_id"]) for m in map(json.loads, open(sys.argv[1]))
           if m.get("channel") == "trade" for e in m["data"]}))
PY
)

/usr/bin/python3 "$kraken_tests/fake_exchange.py" --recording "$session" \
  >"$work/fx.out" 2>"$work/fx.log" &
fx=$!
cleanup_pids+=("$fx")
wait_for 20 test -s "$work/fx.out" || fail "fake exchange did not start"
read -r ws_port http_port < <(/usr/bin/python3 -c \
  'import json,sys; d=json.load(open(sys.argv[1])); print(d["ws_port"], d["http_port"])' "$work/fx.out")
agent_port=$(free_port)
down_port=$(free_port) # nothing listens here: the database is down

cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:$agent_port", state_dir: $work/state}
inputs:
  - kraken:
      url: ws://127.0.0.1:$ws_port/v2
      rest_url: http://127.0.0.1:$http_port
      pairs: [BTC/USD, ETH/USD, SOL/USD]
      channels: [ticker, trade] # the fake exchange starts once both are subscribed
      namepass: [trade]
      reconnect_initial: 50ms
outputs:
  - timescale:
      connection: \${PG_URL}
      batch_size: 100
      retry: {initial: 100ms, max: 200ms}
      buffer: {type: disk}
YAML

PG_URL="postgresql://postgres@127.0.0.1:$down_port/cvagent" "$CVAGENT" -c "$work/p.yaml" \
  2>"$work/agent1.log" &
agent=$!
cleanup_pids+=("$agent")
all_on_disk() {
  [[ $(metric cvagent_input_metrics_total inputs.kraken) -ge $expected &&
     $(metric cvagent_output_buffer_metrics outputs.timescale) -ge $expected ]]
}
wait_for 60 all_on_disk ||
  fail "not every trade reached the disk buffer: input $(metric cvagent_input_metrics_total inputs.kraken), buffered $(metric cvagent_output_buffer_metrics outputs.timescale) of $expected"
[[ $(metric cvagent_output_metrics_written_total outputs.timescale) == 0 ]] || fail "written while the database was down?"
kill -KILL "$agent"
wait "$agent" 2>/dev/null || true
kill "$fx"
wait "$fx" 2>/dev/null || true
ls "$work/state/buffers/outputs.timescale/"*.cvb >/dev/null || fail "no segment files in the default directory"

# The database comes up; the exchange stays gone.
eval "$(CVAGENT_PG_BIN="$CVAGENT_TEST_PG_BIN" "$root/tests/services/postgres.sh" start "$work/pg" |
  sed 's/CVAGENT_TEST_PG_URL/PRIVATE_PG_URL/; s/CVAGENT_TEST_PG_BIN/PRIVATE_PG_BIN/')"
export PG_URL="$PRIVATE_PG_URL"
q() { "$CVAGENT_TEST_PG_BIN/psql" "$PG_URL" -qAt -c "$1"; }
"$CVAGENT" schema apply -c "$work/p.yaml" >"$work/apply.log" 2>&1 || fail "schema apply"

"$CVAGENT" -c "$work/p.yaml" 2>"$work/agent2.log" &
agent=$!
cleanup_pids+=("$agent")
stored() { [[ $(q "SELECT count(*) FROM trade_data") -ge $expected ]]; }
wait_for 60 stored || fail "only $(q 'SELECT count(*) FROM trade_data') of $expected trades stored after the restart"
sleep 1 # a duplicate, if any, would be written by now
kill -TERM "$agent"
wait "$agent" || fail "agent exit code $? after SIGTERM"

[[ $(q "SELECT count(*) FROM trade_data") == "$expected" ]] || fail "$(q 'SELECT count(*) FROM trade_data') rows, want $expected"
[[ $(q "SELECT count(DISTINCT (pair, trade_id)) FROM trade_data") == "$expected" ]] || fail "duplicate trades"
grep -q "$expected metrics to replay" "$work/agent2.log" || fail "the restart did not replay the disk buffer"
grep -q "damaged" "$work/agent2.log" && ! grep -q "0 damaged regions" "$work/agent2.log" && fail "damage reported"
echo "ok: $expected trades received before a SIGKILL with the database down, each stored once after the restart"

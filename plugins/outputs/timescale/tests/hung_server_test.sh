#!/usr/bin/env bash
# e2e: a hung PostgreSQL. The agent (inputs.file tailing a file -> outputs.timescale) stores a first
# half, then every process of its PRIVATE server is stopped with SIGSTOP (the server accepts the
# TCP connection in the kernel and never answers: no error, no reset) while a second half is
# appended. The core's write_timeout cancels the hung write (TimescaleOutput::cancel shuts the
# socket down), counts a timeout on /metrics, shows the output degraded on /health and retries.
# After SIGCONT every trade is stored exactly once, and SIGTERM ends the agent with exit 0.
#   env: CVAGENT, CVAGENT_SOURCE_DIR, CVAGENT_TEST_PG_BIN (server binaries, from postgres.sh)
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
if [[ -z "${CVAGENT_TEST_PG_BIN:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "CVAGENT_TEST_PG_BIN is not set"
  echo "SKIP: CVAGENT_TEST_PG_BIN is not set (run through scripts/test.sh)"
  exit 77
fi
half=5000

# The server runs as `postgres`, which needs to reach its directory: not under the 0700 $WORK.
pgroot=$(mktemp -d /tmp/cvagent-hung-pg.XXXXXX)
chmod 755 "$pgroot"
server_pids() {  # the postmaster and its children
  local pm
  pm=$(head -1 "$pgroot/pg/data/postmaster.pid" 2>/dev/null) || return 0
  echo "$pm"
  pgrep -P "$pm" || true
}
stop_server() {
  for pid in $(server_pids); do kill -CONT "$pid" 2>/dev/null || true; done
  CVAGENT_PG_BIN="$CVAGENT_TEST_PG_BIN" bash "$CVAGENT_SOURCE_DIR/tests/services/postgres.sh" stop "$pgroot/pg" || true
  rm -rf "$pgroot"
}
trap 'stop_server; cleanup' EXIT
env_lines=$(CVAGENT_PG_BIN="$CVAGENT_TEST_PG_BIN" bash "$CVAGENT_SOURCE_DIR/tests/services/postgres.sh" start "$pgroot/pg") ||
  fail "cannot start a private PostgreSQL"
url=$(sed -n 's/^export CVAGENT_TEST_PG_URL=//p' <<<"$env_lines")
q() { "$CVAGENT_TEST_PG_BIN/psql" "$url" -qAt -c "$1"; }

trades() {  # trades FROM TO: line protocol, ids FROM..TO-1
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
pairs = ["BTC/USD", "ETH/USD", "SOL/USD"]
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print(f"trade,exchange=kraken,pair={pairs[i % 3]},side=buy price={100 + i}.5,volume=0.25,trade_id={i}i {1795962600000000000 + i * 1000}")
PY
}

port=$(free_port)
cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$port", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/trades.lp, format: influx, interval: 100ms}
outputs:
  - timescale:
      connection: "$url"
      create_schema: true
      connect_timeout: 2s
      batch_size: 500
      write_timeout: 2s
      retry: {initial: 100ms, max: 1s}
YAML
trades 0 "$half" >"$WORK/trades.lp"
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")
stored() { q "SELECT count(*) FROM trade_data" 2>/dev/null || echo 0; }
has_stored() { [[ "$(stored)" -ge "$1" ]]; }
wait_for 30 has_stored "$half" || fail "first half: $(stored) of $half stored"

# Hang the server: postmaster first, so it forks nothing new, then every backend.
for pid in $(server_pids); do kill -STOP "$pid"; done
trades "$half" $((2 * half)) >>"$WORK/trades.lp"

metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
at_least() {  # at_least SERIES N
  local n
  n=$(metric "$1")
  [[ -n "$n" ]] && awk -v n="$n" -v want="$2" 'BEGIN {exit !(n >= want)}'
}
wait_for 20 at_least 'cvagent_output_write_timeouts_total{plugin="outputs.timescale"}' 1 ||
  fail "no write timeout counted: $(curl -sS "http://127.0.0.1:$port/metrics" | grep timeouts)"
curl -sS "http://127.0.0.1:$port/health" >"$WORK/health.json"
grep -q '"id":"outputs.timescale","kind":"output","state":"degraded"' "$WORK/health.json" ||
  fail "the hung output is not degraded on /health: $(cat "$WORK/health.json")"
grep -q 'write_timeout' "$WORK/health.json" || fail "/health does not say why: $(cat "$WORK/health.json")"
# Alive (200: a restart would not fix the server) but not ready (503, naming the output).
http_code() { curl -sS -o "$WORK/$2.json" -w '%{http_code}' "http://127.0.0.1:$port/$1"; }
[[ "$(http_code health health2)" == 200 ]] || fail "/health is not 200 while an output retries"
[[ "$(http_code ready ready)" == 503 ]] || fail "/ready is not 503 while the output hangs: $(cat "$WORK/ready.json")"
grep -q '"waiting_for":\[{"id":"outputs.timescale"' "$WORK/ready.json" ||
  fail "/ready does not name the output: $(cat "$WORK/ready.json")"
# While the server stays frozen the core keeps retrying (reconnects time out after connect_timeout).
wait_for 20 at_least 'cvagent_output_write_errors_total{plugin="outputs.timescale"}' 3 ||
  fail "no retries while hung: $(curl -sS "http://127.0.0.1:$port/metrics" | grep write_errors)"
for pid in $(server_pids); do kill -CONT "$pid"; done
wait_for 40 has_stored $((2 * half)) || fail "after SIGCONT: $(stored) of $((2 * half)) stored"
healthy_again() { curl -sS "http://127.0.0.1:$port/health" | grep -q '"id":"outputs.timescale","kind":"output","state":"ok"'; }
wait_for 20 healthy_again || fail "not ok after the server came back: $(curl -sS "http://127.0.0.1:$port/health")"
ready_again() { [[ "$(http_code ready ready)" == 200 ]]; }
wait_for 20 ready_again || fail "not ready after the server came back: $(cat "$WORK/ready.json")"
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
[[ $rc -eq 0 ]] || fail "agent exit code $rc after SIGTERM"
counts=$(q "SELECT count(*), count(DISTINCT trade_id) FROM trade_data")
[[ "$counts" == "$((2 * half))|$((2 * half))" ]] || fail "rows|distinct ids: $counts, want $((2 * half)) each"
grep -q "write hung for 2s (write_timeout): cancelled, will retry" "$WORK/agent.log" ||
  fail "the timeout was not logged"
echo "hung server: ok ($((2 * half)) stored exactly once; $(grep -c 'write hung' "$WORK/agent.log") timeout(s) logged)"

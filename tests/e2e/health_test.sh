#!/usr/bin/env bash
# /health is liveness, /ready is readiness (docs/deployment.md, "Health and readiness"):
# - Kraken unreachable: the input is degraded with the reason, /health stays 200 (a restart would
#   not bring Kraken back), and /ready is 200 because every output is connected.
# - An output that cannot connect: /health 200, /ready 503 naming it.
# - A plugin that cannot work (a replay file that does not exist): /health 503.
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"

closed=$(free_port)  # nothing listens there
code() { curl -sS 2>/dev/null -o "$WORK/$2.json" -w '%{http_code}' "http://127.0.0.1:$port/$1"; }
start_agent() {  # start_agent NAME: runs $WORK/NAME.yaml
  "$CVAGENT" -c "$WORK/$1.yaml" 2>"$WORK/$1.log" &
  agent=$!
  cleanup_pids+=("$agent")
}
stop_agent() {
  kill -TERM "$agent"
  local rc=0
  wait "$agent" || rc=$?
  [[ $rc -eq 0 ]] || fail "$1: exit code $rc after SIGTERM"
}

# 1. Kraken down, file output connected.
port=$(free_port)
cat >"$WORK/down.yaml" <<YAML
agent: {http: "127.0.0.1:$port", state_dir: $WORK/state-down}
inputs:
  - kraken: {url: "ws://127.0.0.1:$closed/v2", rest_backfill: false, reconnect: {initial: 50ms, max: 200ms}}
outputs:
  - file: {path: $WORK/out.jsonl}
YAML
start_agent down
kraken_degraded() {
  [[ "$(code health health)" == 200 ]] &&
    grep -q '"id":"inputs.kraken","kind":"input","state":"degraded","detail":"[^"]*reconnecting in' "$WORK/health.json"
}
wait_for 20 kraken_degraded || fail "kraken down: want 200 with kraken degraded, got: $(cat "$WORK/health.json")"
output_ready() { [[ "$(code ready ready)" == 200 ]]; }
wait_for 10 output_ready || fail "kraken down, file output connected: /ready $(cat "$WORK/ready.json")"
grep -q '"status":"ready"' "$WORK/ready.json" || fail "ready body: $(cat "$WORK/ready.json")"
stop_agent "kraken down"

# 2. An output that cannot connect: alive, not ready.
port=$(free_port)
cat >"$WORK/noout.yaml" <<YAML
agent: {http: "127.0.0.1:$port", state_dir: $WORK/state-noout}
inputs:
  - file: {path: $WORK/none.lp, format: influx}
outputs:
  - timescale: {connection: "postgresql://cvagent@127.0.0.1:$closed/cvagent", connect_timeout: 1s,
                retry: {initial: 50ms, max: 200ms}}
YAML
: >"$WORK/none.lp"
start_agent noout
not_ready() {
  [[ "$(code ready ready)" == 503 ]] &&
    grep -q '"waiting_for":\[{"id":"outputs.timescale","state":"degraded","detail":"connect failed' "$WORK/ready.json"
}
if "$CVAGENT" plugins list 2>/dev/null | grep -q 'outputs.timescale'; then
  wait_for 20 not_ready || fail "output down: want /ready 503 naming it, got: $(cat "$WORK/ready.json")"
  [[ "$(code health health)" == 200 ]] || fail "output down: /health $(cat "$WORK/health.json")"
else
  echo "note: outputs.timescale not built; the unconnected-output case is covered by http_test"
fi
stop_agent "output down"

# 3. A plugin that cannot work: unhealthy.
port=$(free_port)
cat >"$WORK/fatal.yaml" <<YAML
agent: {http: "127.0.0.1:$port", state_dir: $WORK/state-fatal}
inputs:
  - kraken: {replay: $WORK/no-such-recording.jsonl}
outputs:
  - file: {path: $WORK/out2.jsonl}
YAML
start_agent fatal
failed() { [[ "$(code health health)" == 503 ]] && grep -q '"state":"failed","detail":"cannot open replay file' "$WORK/health.json"; }
wait_for 20 failed || fail "missing replay file: want 503 failed, got: $(cat "$WORK/health.json")"
stop_agent "replay missing"
echo "health: ok (kraken down is degraded and 200; an unconnected output is 503 on /ready only; a fatal plugin is 503)"

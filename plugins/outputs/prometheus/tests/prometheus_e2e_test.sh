#!/usr/bin/env bash
# The cvagent binary: inputs.file -> outputs.prometheus (listen) and outputs.prometheus
# (remote_write) into a real Prometheus with the remote-write receiver. Prometheus is stopped
# mid-stream and started again on the same port and TSDB: every sample is there afterwards.
#   env: CVAGENT (binary), CVAGENT_SOURCE_DIR, PROMETHEUS (optional, /usr/bin/prometheus)
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[[ -x "$PROMETHEUS" ]] || fail "prometheus not installed ($PROMETHEUS)"

agent_port=$(free_port)
listen_port=$(free_port)
prom_port=$(free_port)
base_ms=$(( $(date +%s) * 1000 - 20 * 60 * 1000 ))

# tickers FROM TO: JSON lines, 10 pairs, 1 ms apart per line.
tickers() {
  /usr/bin/python3 - "$1" "$2" "$base_ms" <<'PY'
import sys
start, end, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for i in range(start, end):
    print('{"name":"ticker","tags":{"exchange":"kraken","pair":"C%d/USD"},'
          '"fields":{"last":%d.5,"bid":%d.0},"time":%d}' % (i % 10, 1000 + i, 999 + i,
                                                            (base + i) * 1000000))
PY
}

start_prometheus() {
  "$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver \
    >>"$WORK/prometheus.log" 2>&1 &
  prom_pid=$!
  cleanup_pids+=("$prom_pid")
  wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$prom_port/-/ready" || fail "prometheus not ready"
}
stored_samples() {
  curl -fsS "http://127.0.0.1:$prom_port/api/v1/query" \
    --data-urlencode 'query=sum(count_over_time(ticker_last[1h]))' \
    --data-urlencode "time=$(( base_ms / 1000 + 1800 ))" 2>/dev/null |
    sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)"\].*/\1/p'
}
has_samples() { [[ "$(stored_samples)" == "$1" ]]; }

echo 'global: {scrape_interval: 15s}' >"$WORK/prometheus.yml"
start_prometheus

tickers 0 1000 >"$WORK/in.jsonl"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$agent_port", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl, interval: 100ms}
outputs:
  - prometheus:
      id: live
      listen: 127.0.0.1:$listen_port
      fields: [last]
      flush_interval: 100ms
  - prometheus:
      id: history
      remote_write: http://127.0.0.1:$prom_port/api/v1/write
      timeout: 2s
      batch_size: 200
      flush_interval: 100ms
      retry: {initial: 100ms, max: 500ms}
YAML
"$CVAGENT" validate -c "$WORK/p.yaml" >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")

wait_for 30 has_samples 1000 || fail "remote write: $(stored_samples) of 1000 samples"
curl -fsS "http://127.0.0.1:$listen_port/metrics" >"$WORK/scrape.txt" || fail "no listen endpoint"
grep -qx 'ticker_last{exchange="kraken",pair="C9/USD"} 1999.5' "$WORK/scrape.txt" ||
  fail "listen endpoint: $(grep C9 "$WORK/scrape.txt")"
[[ $(grep -c '^ticker_last{' "$WORK/scrape.txt") == 10 ]] || fail "expected 10 series"
grep -q '^ticker_bid' "$WORK/scrape.txt" && fail "fields: [last] exported bid"

# Prometheus down mid-stream: the output retries, nothing is lost.
kill -TERM "$prom_pid"
wait "$prom_pid" || true
tickers 1000 1500 >>"$WORK/in.jsonl"
wait_for 20 grep -q 'retrying with backoff' "$WORK/agent.log" || fail "no retry while prometheus was down"
start_prometheus
wait_for 60 has_samples 1500 || fail "after the restart: $(stored_samples) of 1500 samples"
# (to files first: grep -q closing the pipe early would fail curl under pipefail)
curl -fsS "http://127.0.0.1:$listen_port/metrics" >"$WORK/scrape2.txt" || fail "no listen endpoint"
grep -qx 'ticker_last{exchange="kraken",pair="C9/USD"} 2499.5' "$WORK/scrape2.txt" ||
  fail "listen endpoint did not follow: $(grep C9 "$WORK/scrape2.txt")"
curl -fsS "http://127.0.0.1:$agent_port/metrics" >"$WORK/agent-metrics.txt" || fail "no agent /metrics"
grep -q '^cvagent_prometheus_series{plugin="live"} 10$' "$WORK/agent-metrics.txt" ||
  fail "agent metric: $(grep prometheus_series "$WORK/agent-metrics.txt")"

kill -TERM "$agent"
wait "$agent" || fail "agent exit"
echo "prometheus e2e: ok"

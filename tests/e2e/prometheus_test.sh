#!/usr/bin/env bash
# A real Prometheus scrapes the agent's /metrics; /health answers 200 while it runs.
source "$(dirname "$0")/lib.sh"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[[ -x "$PROMETHEUS" ]] || fail "prometheus not installed ($PROMETHEUS)"

agent_port=$(free_port)
prom_port=$(free_port)
for ((n = 0; n < 42; n++)); do
  printf '{"name":"trade","tags":{},"fields":{"seq":%d},"time":%d}\n' "$n" "$n"
done >"$WORK/in.jsonl"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$agent_port", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl, interval: 100ms}
outputs:
  - file: {path: $WORK/out.jsonl, flush_interval: 100ms}
YAML
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")
wait_for 20 curl -fsS "http://127.0.0.1:$agent_port/health" -o "$WORK/health.json" || fail "no /health"
grep -q '"status":"healthy"' "$WORK/health.json" || fail "unhealthy: $(cat "$WORK/health.json")"

cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: cvagent
    static_configs: [{targets: ["127.0.0.1:$agent_port"]}]
YAML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
cleanup_pids+=("$!")
query() {
  curl -fsS "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null
}
scraped() {
  query 'cvagent_output_metrics_written_total{plugin="outputs.file"}' | grep -q '"42"\]'
}
wait_for 60 scraped || fail "Prometheus never saw 42 written metrics: $(query 'cvagent_output_metrics_written_total')"
query 'up{job="cvagent"}' | grep -q '"1"\]' || fail "target not up"
kill -TERM "$agent"
wait "$agent" || fail "agent exit"
echo "prometheus: ok"

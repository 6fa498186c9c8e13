#!/usr/bin/env bash
# End-to-end rate through the whole agent: bench_input_kraken --serve (a fake exchange streaming N trade
# frames over loopback) -> cvagent (inputs.kraken -> queue -> outputs.discard). Reports the time
# from the agent's start until outputs.discard has stored N metrics (polled on /metrics every 50 ms).
# Usage: agent_loopback.sh BUILD_DIR [N]
set -euo pipefail
build=${1:?build dir}
n=${2:-500000}
work=$(mktemp -d /tmp/kraken-agent-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
"$build/bin/bench_input_kraken" --serve "$n" >"$work/port" &
pids+=($!)
until [[ -s "$work/port" ]]; do sleep 0.05; done
port=$(head -1 "$work/port")
http=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:$http", state_dir: $work/state}
inputs:
  - kraken: {url: "ws://127.0.0.1:$port/v2", pairs: [BTC/USD, ETH/USD, SOL/USD], channels: [trade]}
outputs:
  - discard: {}
YAML
written() {
  /usr/bin/python3 - "http://127.0.0.1:$http/metrics" <<'PY' 2>/dev/null || echo 0
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1]).read().decode()
m = re.search(r'^cvagent_output_metrics_written_total\{[^}]*plugin="outputs.discard"[^}]*\} (\S+)', text, re.M)
print(int(float(m.group(1))) if m else 0)
PY
}
start=$(date +%s.%N)
"$build/bin/cvagent" -c "$work/p.yaml" 2>"$work/agent.log" &
pids+=($!)
while [[ "$(written)" -lt "$n" ]]; do sleep 0.05; done
end=$(date +%s.%N)
/usr/bin/python3 -c "import sys; n,s,e=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'{n} trades in {e-s:.2f} s (agent start included): {n/(e-s):,.0f} trades/s')" "$n" "$start" "$end"

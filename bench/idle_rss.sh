#!/usr/bin/env bash
# Resident memory of an idle agent: file input on an empty file, a discard output, the HTTP
# endpoint on. Prints the RSS after it settles.   bench/idle_rss.sh build/release
set -euo pipefail
build=${1:-build/test}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
: >"$work/empty.jsonl"
cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:0", state_dir: $work/state}
inputs:
  - file: {path: $work/empty.jsonl, interval: 1s}
outputs:
  - discard: {}
YAML
"$build/bin/cvagent" -c "$work/p.yaml" 2>"$work/agent.log" &
pid=$!
sleep "${SETTLE_SECONDS:-3}"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
threads=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
awk -v r="$rss_kb" -v h="$hwm_kb" -v t="$threads" 'BEGIN { printf "idle RSS: %.1f MB (peak %.1f MB), %d threads\n", r / 1024, h / 1024, t }'

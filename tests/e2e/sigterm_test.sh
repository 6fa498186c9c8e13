#!/usr/bin/env bash
# SIGTERM while metrics stream through file -> file: every metric read is written, once, in order.
source "$(dirname "$0")/lib.sh"

cat >"$WORK/p.yaml" <<YAML
agent: {http: "", shutdown_timeout: 20s, state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/in.jsonl, interval: 20ms}
outputs:
  - file: {path: $WORK/out.jsonl, batch_size: 300, flush_interval: 200ms}
YAML
: >"$WORK/in.jsonl"
# The writer keeps appending while the agent is stopped.
(
  for ((i = 0; i < 400; i++)); do
    for ((j = 0; j < 100; j++)); do
      n=$((i * 100 + j))
      printf '{"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"seq":%d,"price":95863.2},"time":%d}\n' "$n" "$n"
    done >>"$WORK/in.jsonl"
    sleep 0.005
  done
) &
writer=$!
cleanup_pids+=("$writer")
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")
wait_for 20 has_lines "$WORK/out.jsonl" 1000 || fail "nothing written"
kill -TERM "$agent"
set +e
wait "$agent"
rc=$?
set -e
[[ $rc -eq 0 ]] || fail "agent exit code $rc after SIGTERM"
summary=$(grep -o 'stopped: [0-9]* metrics gathered, [0-9]* written, [0-9]* dropped' "$WORK/agent.log") ||
  fail "no shutdown summary"
read -r gathered written dropped < <(echo "$summary" | sed -E 's/stopped: ([0-9]+) metrics gathered, ([0-9]+) written, ([0-9]+) dropped/\1 \2 \3/')
[[ "$dropped" -eq 0 ]] || fail "$dropped dropped"
[[ "$gathered" -eq "$written" ]] || fail "gathered $gathered but wrote $written"
[[ "$(lines "$WORK/out.jsonl")" -eq "$written" ]] || fail "output has $(lines "$WORK/out.jsonl") lines, want $written"
# Exactly the first N metrics of the input, in order: no gap, no duplicate.
/usr/bin/python3 - "$WORK/out.jsonl" <<'PY' || fail "output is not the input's prefix"
import json, sys
seqs = [json.loads(l)["fields"]["seq"] for l in open(sys.argv[1])]
assert seqs == list(range(len(seqs))), "gap or duplicate"
PY
kill "$writer" 2>/dev/null || true
echo "sigterm: ok ($written metrics read and written)"

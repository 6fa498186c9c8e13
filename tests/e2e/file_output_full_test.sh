#!/usr/bin/env bash
# outputs.file against a full file-size limit (RLIMIT_FSIZE: writes past it fail with EFBIG part
# way through a batch, as on a full disk): while the limit holds, the file only ever holds whole
# lines; once it is lifted every metric is written exactly once, in order.
source "$(dirname "$0")/lib.sh"

count=20000
append_trades "$WORK/in.jsonl" 0 "$count"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state, shutdown_timeout: 10s}
inputs:
  - file: {path: $WORK/in.jsonl, interval: 100ms}
outputs:
  - file:
      path: $WORK/out.jsonl
      batch_size: 700
      flush_interval: 50ms
      buffer: {when_full: block}
      retry: {initial: 50ms, max: 200ms}
YAML
limit_kib=300
: >"$WORK/agent.log"
# The limit applies to the agent only; SIGXFSZ ignored turns the overrun into EFBIG (an ignored
# signal stays ignored across exec).
(
  trap '' XFSZ
  ulimit -S -f "$limit_kib"  # the soft limit only, so it can be lifted again
  exec "$CVAGENT" -c "$WORK/p.yaml"
) 2>"$WORK/agent.log" &
agent=$!
cleanup_pids+=("$agent")

full_and_whole() {
  grep -q "File too large" "$WORK/agent.log" || return 1
  [[ -s "$WORK/out.jsonl" ]]
}
wait_for 20 full_and_whole || fail "the file-size limit was never hit"
# Several failed retries while the limit holds: the file stays whole lines, under the limit.
for _ in 1 2 3 4 5; do
  sleep 0.2
  size=$(stat -c %s "$WORK/out.jsonl")
  ((size <= limit_kib * 1024)) || fail "file is $size bytes, over the limit"
  [[ "$(tail -c 1 "$WORK/out.jsonl" | od -An -c | tr -d ' ')" == '\n' ]] || fail "the file ends in half a line"
done
written_while_full=$(lines "$WORK/out.jsonl")
((written_while_full < count)) || fail "everything fit under the limit: the test proves nothing"
retries=$(grep -c "File too large" "$WORK/agent.log" || true)
prlimit --pid "$agent" --fsize=unlimited: || fail "cannot lift the limit"
wait_for 30 has_lines "$WORK/out.jsonl" "$count" || fail "$(lines "$WORK/out.jsonl") of $count written after the limit was lifted"
sleep 0.5
kill -TERM "$agent"
wait "$agent" || fail "agent exit code $?"
check_seqs "$WORK/out.jsonl" "$count" || fail "output is not every metric once, in order"
echo "file output full: ok ($written_while_full lines before the limit, $retries failed writes logged, $count of $count after, once each)"

#!/usr/bin/env bash
# Log rotation mid-stream, the agent tailing at its default interval (10 s): inputs.file -> outputs.file.
#  1. rename rotation (logrotate `create`): the old file holds lines the agent has not read yet when
#     it is renamed away and a new file takes its place;
#  2. copytruncate: the file is copied and truncated with unread lines in it.
# Each run: 20,000 lines, exactly once each and in order in the output (nothing fails, so nothing
# is read twice).
source "$(dirname "$0")/lib.sh"

run() {  # NAME ROTATE_COMMAND
  local name=$1 rotate=$2 dir="$WORK/$1"
  mkdir -p "$dir"
  cat >"$dir/p.yaml" <<YAML
agent: {http: "", state_dir: $dir/state, shutdown_timeout: 10s}
inputs:
  - file: {path: $dir/app.log}
outputs:
  - file: {path: $dir/out.jsonl, batch_size: 1000, flush_interval: 100ms}
YAML
  append_trades "$dir/app.log" 0 5000
  "$CVAGENT" -c "$dir/p.yaml" 2>"$WORK/$name-agent.log" &
  local agent=$!
  cleanup_pids+=("$agent")
  # The first gather (at start) reads the first 5,000; the next is 10 s later.
  wait_for 8 has_lines "$dir/out.jsonl" 5000 || fail "$name: first gather not written"
  append_trades "$dir/app.log" 5000 5000          # unread when the file is rotated
  (cd "$dir" && eval "$rotate")
  append_trades "$dir/app.log" 10000 10000        # into the new (or truncated) file
  wait_for 25 has_lines "$dir/out.jsonl" 20000 || fail "$name: $(lines "$dir/out.jsonl") of 20000 lines written"
  sleep 0.5                               # anything extra (a duplicate) would show now
  kill -TERM "$agent"
  wait "$agent" || fail "$name: agent exit code $?"
  check_seqs "$dir/out.jsonl" 20000 || fail "$name: output is not every line once, in order"
  grep -q "rotated\|truncated" "$WORK/$name-agent.log" || fail "$name: the rotation was not logged"
  echo "$name: ok (20000 of 20000 lines, once each, in order)"
}

run rename 'mv app.log app.log.1 && : >app.log'
run copytruncate 'cp app.log app.log.1 && : >app.log'

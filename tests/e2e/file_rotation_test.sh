#!/usr/bin/env bash
# Log rotation mid-stream, the agent tailing at its default interval (10 s): inputs.file -> outputs.file.
#  1. rename rotation (logrotate `create`): the old file holds lines the agent has not read yet when
#     it is renamed away and a new file takes its place;
#  2. copytruncate: the file is copied and truncated with unread lines in it.
# Each run: 20,000 lines, exactly once each and in order in the output (nothing fails, so nothing
# is read twice).
source "$(dirname "$0")/lib.sh"

# write FILE FIRST COUNT: appends trades FIRST..FIRST+COUNT-1 (one open per call, as a logger does).
write() {
  /usr/bin/python3 - "$@" <<'PY'
import sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "a") as f:
    for n in range(first, first + count):
        f.write('{"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"seq":%d,"price":95863.2},"time":%d}\n' % (n, n))
PY
}

check_output() {  # FILE COUNT: the output is exactly 0..COUNT-1, in order
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "$3: output is not every line once, in order"
import json, sys
seqs = [json.loads(l)["fields"]["seq"] for l in open(sys.argv[1])]
want = int(sys.argv[2])
missing = sorted(set(range(want)) - set(seqs))
dups = len(seqs) - len(set(seqs))
assert seqs == list(range(want)), f"{len(seqs)} lines, {len(missing)} missing (first {missing[:5]}), {dups} duplicates"
PY
}

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
  write "$dir/app.log" 0 5000
  "$CVAGENT" -c "$dir/p.yaml" 2>"$WORK/$name-agent.log" &
  local agent=$!
  cleanup_pids+=("$agent")
  # The first gather (at start) reads the first 5,000; the next is 10 s later.
  wait_for 8 has_lines "$dir/out.jsonl" 5000 || fail "$name: first gather not written"
  write "$dir/app.log" 5000 5000          # unread when the file is rotated
  (cd "$dir" && eval "$rotate")
  write "$dir/app.log" 10000 10000        # into the new (or truncated) file
  wait_for 25 has_lines "$dir/out.jsonl" 20000 || fail "$name: $(lines "$dir/out.jsonl") of 20000 lines written"
  sleep 0.5                               # anything extra (a duplicate) would show now
  kill -TERM "$agent"
  wait "$agent" || fail "$name: agent exit code $?"
  check_output "$dir/out.jsonl" 20000 "$name"
  grep -q "rotated\|truncated" "$WORK/$name-agent.log" || fail "$name: the rotation was not logged"
  echo "$name: ok (20000 of 20000 lines, once each, in order)"
}

run rename 'mv app.log app.log.1 && : >app.log'
run copytruncate 'cp app.log app.log.1 && : >app.log'

# Shared helpers for the e2e scripts. Each script gets CVAGENT (the binary) from CTest.
set -euo pipefail
: "${CVAGENT:?CVAGENT must point at the cvagent binary}"
WORK=$(mktemp -d /tmp/cvagent-e2e.XXXXXX)
cleanup_pids=()
cleanup() {
  for pid in "${cleanup_pids[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do
    [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# write_alias_bomb FILE: 353 bytes of YAML (the issue's was 566), nine levels of nine aliases (9^9 nodes once expanded).
write_alias_bomb() {
  {
    echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    local prev=a level
    for level in b c d e f g h i; do
      echo "$level: &$level [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
      prev=$level
    done
    echo 'inputs: *i'
  } >"$1"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

lines() { [[ -f "$1" ]] && wc -l <"$1" || echo 0; }
# has_lines FILE N: FILE has at least N lines (for wait_for, which re-evaluates it).
has_lines() { [[ "$(lines "$1")" -ge "$2" ]]; }

# start_kafka_mock MOCK_BINARY [ARGS...]: a private librdkafka mock cluster living as long as this
# script (it exits at the end of its stdin); sets `brokers` to its bootstrap list.
start_kafka_mock() {
  local bin=$1
  shift
  mkfifo "$WORK/mock.in"
  "$bin" "$@" <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.log" &
  cleanup_pids+=($!)
  exec 3>"$WORK/mock.in"
  wait_for 10 grep -q '^bootstrap ' "$WORK/mock.out" || fail "the mock cluster did not start"
  brokers=$(sed -n 's/^bootstrap //p' "$WORK/mock.out")
}

# append_trades FILE FIRST COUNT: appends JSON-lines trades with fields.seq FIRST..FIRST+COUNT-1 (one
# open of the file per call, as a logger does).
append_trades() {
  /usr/bin/python3 - "$@" <<'PY'
import sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "a") as f:
    for n in range(first, first + count):
        f.write('{"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"seq":%d,"price":95863.2},"time":%d}\n' % (n, n))
PY
}

# check_seqs FILE COUNT: FILE holds exactly the trades 0..COUNT-1, in order (no gap, no duplicate).
check_seqs() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
seqs = [json.loads(l)["fields"]["seq"] for l in open(sys.argv[1])]
want = int(sys.argv[2])
missing = sorted(set(range(want)) - set(seqs))
dups = len(seqs) - len(set(seqs))
assert seqs == list(range(want)), f"{len(seqs)} lines, {len(missing)} missing (first {missing[:5]}), {dups} duplicates"
PY
}

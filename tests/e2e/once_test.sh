#!/usr/bin/env bash
# --once gathers, flushes and exits; --test prints what would be written and writes nothing.
source "$(dirname "$0")/lib.sh"

printf 'trade,pair=BTC/USD price=1.5 10\ntrade,pair=ETH/USD price=2.5 20\n' >"$WORK/in.lp"
cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:1", state_dir: $WORK/state, tags: {host: e2e}}
inputs:
  - file: {path: $WORK/in.lp, format: influx}
outputs:
  - file: {path: $WORK/out.jsonl, tagpass: {pair: ["BTC/*"]}}
YAML
"$CVAGENT" -c "$WORK/p.yaml" --once 2>"$WORK/once.log" || fail "--once failed"
[[ "$(lines "$WORK/out.jsonl")" -eq 1 ]] || fail "--once wrote $(lines "$WORK/out.jsonl") lines"
grep -qF '{"name":"trade","tags":{"host":"e2e","pair":"BTC/USD"},"fields":{"price":1.5},"time":10}' "$WORK/out.jsonl" ||
  fail "unexpected output: $(cat "$WORK/out.jsonl")"

"$CVAGENT" -c "$WORK/p.yaml" --test >"$WORK/test.out" 2>"$WORK/test.log" || fail "--test failed"
[[ "$(lines "$WORK/test.out")" -eq 2 ]] || fail "--test printed $(lines "$WORK/test.out") lines"
[[ "$(lines "$WORK/out.jsonl")" -eq 1 ]] || fail "--test wrote to the output"

"$CVAGENT" --version | grep -qE '^cvagent [0-9]+\.[0-9]+\.[0-9]+' || fail "--version"
"$CVAGENT" -c "$WORK/p.yaml" --log-format json --once 2>"$WORK/json.log" || fail "json logs"
/usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/json.log" ||
  fail "--log-format json is not JSON lines"
set +e
"$CVAGENT" --no-such-flag 2>/dev/null
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "bad usage exit code $rc"
# A one-shot run that drops data logs it and exits 1: an output that never succeeds (a full disk)
# with a buffer of 10 for 100 metrics.
for ((n = 0; n < 100; n++)); do printf 'trade v=%di %d\n' "$n" "$n"; done >"$WORK/many.lp"
cat >"$WORK/drop.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state-drop, shutdown_timeout: 1s}
inputs:
  - file: {path: $WORK/many.lp, format: influx}
outputs:
  - file: {path: /dev/full, batch_size: 10, buffer: {max: 10, when_full: drop_oldest}, retry: {initial: 50ms}}
YAML
set +e
"$CVAGENT" -c "$WORK/drop.yaml" --once 2>"$WORK/drop.log"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "a --once run that dropped metrics exited $rc"
grep -q "dropped a 'trade' metric (buffer_full): the buffer is full" "$WORK/drop.log" || fail "buffer drops not logged"
grep -q "done: 100 metrics gathered, 0 written, 100 dropped" "$WORK/drop.log" || fail "drop summary: $(grep done "$WORK/drop.log")"

# The generated sample is a valid pipeline once it has an input and an output (its plugins are
# commented out; a pipeline with none is refused). They come from a second file, merged.
"$CVAGENT" config sample >"$WORK/sample.yaml" 2>/dev/null || fail "config sample"
printf 'inputs:\n  - file: {path: in.jsonl}\noutputs:\n  - stdout: {}\n' >"$WORK/minimal.yaml"
"$CVAGENT" validate -c "$WORK/sample.yaml" -c "$WORK/minimal.yaml" >/dev/null 2>"$WORK/sample.log" ||
  fail "the sample does not validate"
set +e
"$CVAGENT" validate -c "$WORK/sample.yaml" >/dev/null 2>"$WORK/sample.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "the sample without plugins validated (exit $rc)"
echo "once: ok"

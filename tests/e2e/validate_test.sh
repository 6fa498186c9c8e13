#!/usr/bin/env bash
# `cvagent validate`: a misspelled option gives file:line:column and a suggestion, exit 2; a plugin
# built for another plugin ABI is refused naming its file; a good pipeline exits 0.
source "$(dirname "$0")/lib.sh"

cat >"$WORK/bad.yaml" <<'YAML'
agent:
  http: ""
inputs:
  - file:
      path: in.jsonl
outputs:
  - file:
      path: out.jsonl
      bach_size: 500
YAML
set +e
"$CVAGENT" validate -c "$WORK/bad.yaml" >"$WORK/out.log" 2>"$WORK/err.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "validate exit code $rc, want 2"
grep -qF "$WORK/bad.yaml:9:7: error: unknown option 'bach_size'" "$WORK/err.log" ||
  fail "no file:line:column message"
grep -qF "did you mean 'batch_size'" "$WORK/err.log" || fail "no suggestion"

sed 's/bach_size/batch_size/' "$WORK/bad.yaml" >"$WORK/good.yaml"
"$CVAGENT" validate -c "$WORK/good.yaml" >"$WORK/out.log" 2>"$WORK/err.log" ||
  fail "a valid pipeline was refused"

# A plugin built against another plugin API version.
cat >"$WORK/abi.yaml" <<'YAML'
agent: {http: ""}
outputs:
  - badabi: {}
YAML
set +e
"$CVAGENT" validate --plugin-dir "$FIXTURE_PLUGINS" -c "$WORK/abi.yaml" 2>"$WORK/err.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "ABI mismatch exit code $rc, want 2"
grep -qF "$FIXTURE_PLUGINS/libcvagent_output_badabi.so: built for plugin ABI version" "$WORK/err.log" ||
  fail "the refusal does not name the plugin file"

# Invalid YAML and a missing file.
printf 'inputs:\n  - file: {path: [\n' >"$WORK/broken.yaml"
set +e
"$CVAGENT" validate -c "$WORK/broken.yaml" 2>"$WORK/err.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "broken YAML exit code $rc"
grep -qE "broken.yaml:[0-9]+:[0-9]+: error: invalid YAML" "$WORK/err.log" || fail "no YAML position"

# Issue 16: what used to validate, abort or exhaust memory is refused with exit 2 and a position.
expect_refused() {  # NAME MESSAGE ARGS...
  local name=$1 message=$2
  shift 2
  set +e
  "$CVAGENT" validate "$@" >"$WORK/out.log" 2>"$WORK/err.log"
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "$name: validate exit code $rc, want 2 ($(cat "$WORK/out.log"))"
  grep -qF "$message" "$WORK/err.log" || fail "$name: no '$message' in: $(cat "$WORK/err.log")"
}
: >"$WORK/empty.yaml"
expect_refused "an empty file" "empty.yaml:1:1: error: the pipeline has no inputs" -c "$WORK/empty.yaml"
mkdir -p "$WORK/confdir"
expect_refused "a directory given as -c" "confdir: error: is a directory" -c "$WORK/confdir"
echo "agent: {http: ''}" >"$WORK/confdir/agent.yaml"
expect_refused "a --config-dir of agent settings only" "the pipeline has no outputs" \
  --config-dir "$WORK/confdir"
sed 's/bach_size: 500/batch_size: 99999999999999/' "$WORK/bad.yaml" >"$WORK/huge.yaml"
expect_refused "a huge batch_size" "huge.yaml:9:19: error: option 'batch_size' must be at most 1000000" \
  -c "$WORK/huge.yaml"
write_alias_bomb "$WORK/bomb.yaml"
# The limit on the address space turns a regression into a quick failure, not a swapping machine.
(
  ulimit -v 4000000
  expect_refused "an alias bomb" "nodes (aliases are expanded); refused" -c "$WORK/bomb.yaml"
)

# Issue 16: plugin files the agent must not map or run. An entry point exported as a function
# segfaulted `plugins list`; a world-writable plugin directory was used as is.
mkdir -p "$WORK/fnplugins"
cp "$FIXTURE_PLUGINS/libcvagent_output_functionentry.so" "$WORK/fnplugins/"
"$CVAGENT" plugins list --plugin-dir "$WORK/fnplugins" >"$WORK/out.log" 2>"$WORK/err.log" ||
  fail "plugins list failed on a function entry point (exit $?)"
grep -qF "exports 'cvagent_plugin_v1' as a function" "$WORK/err.log" || fail "no function refusal"
mkdir -p "$WORK/open"
cp "$FIXTURE_PLUGINS/libcvagent_output_good.so" "$WORK/open/"
chmod 0777 "$WORK/open"
"$CVAGENT" plugins list --plugin-dir "$WORK/open" >"$WORK/out.log" 2>"$WORK/err.log"
grep -qF "its directory $WORK/open is world-writable" "$WORK/err.log" || fail "no directory refusal"
if grep -q "outputs.good" "$WORK/out.log"; then fail "a plugin in a world-writable directory was listed"; fi
"$CVAGENT" plugins list --allow-insecure-plugins --plugin-dir "$WORK/open" >"$WORK/out.log" 2>"$WORK/err.log"
grep -q "outputs.good" "$WORK/out.log" || fail "--allow-insecure-plugins did not load it"
grep -qF "INSECURE PLUGIN loaded anyway" "$WORK/err.log" || fail "no warning for an insecure plugin"
echo "validate: ok"

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
echo "validate: ok"

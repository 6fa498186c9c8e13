#!/usr/bin/env bash
# e2e: processors.alert through the cvagent binary.
# 1. configs/examples/file-to-alerts.yaml validates.
# 2. Bad rules are refused with file:line:column (unknown kind, a window of 0, a missing threshold,
#    a misspelled option, a field the metric never has).
# 3. The recorded trades through normalize -> ohlc -> alert -> file give exactly the alerts an
#    independent Python model of the rule computes; a second run on the same input with the same
#    state directory raises none (nothing re-fires after a restart).
source "${CVAGENT_SOURCE_DIR:?}/tests/e2e/lib.sh"
src=$CVAGENT_SOURCE_DIR

"$CVAGENT" validate -c "$src/configs/examples/file-to-alerts.yaml" >"$WORK/validate.log" 2>&1 ||
  fail "the example alerting pipeline does not validate"

cat >"$WORK/bad.yaml" <<'YAML'
agent: {http: ""}
inputs:
  - file: {path: in.jsonl}
processors:
  - alert:
      rules:
        - id: a
          kind: spike
          metric: ticker
          field: last
        - id: b
          kind: change
          metric: ticker
          field: last
          threshold_pct: 2
        - id: c
          kind: change
          metric: ticker
          field: last
          window: 5m
        - id: d
          kind: threshold
          metric: ticker
          field: last
          abve: 100
        - id: e
          kind: threshold
          metric: candle
          field: last
          above: 100
outputs:
  - file: {path: out.jsonl}
YAML
set +e
"$CVAGENT" validate -c "$WORK/bad.yaml" >"$WORK/out.log" 2>"$WORK/err.log"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "validate exit code $rc, want 2"
expect() { grep -qF "$1" "$WORK/err.log" || fail "no '$1' in the diagnostics"; }
expect "$WORK/bad.yaml:8:17: error: option 'kind' must be one of change, threshold, zscore, absence, forecast_miss, got 'spike'"
expect "$WORK/bad.yaml:11:11: error: alert rule \`b\`: \`window\` must be set and more than 0 for kind change"
expect "$WORK/bad.yaml:16:11: error: alert rule \`c\`: \`threshold_pct\` is required for kind change"
expect "$WORK/bad.yaml:25:11: error: unknown option 'abve'"
expect "did you mean 'above'"
if grep -qF "needs at least one rule" "$WORK/err.log" || grep -qF 'unknown kind ``' "$WORK/err.log"; then
  fail "follow-on errors reported for rules that failed to bind"
fi
expect "$WORK/bad.yaml:26:11: error: alert rule \`e\`: metric \`candle\` has no numeric field \`last\`"

# A run on the recorded trades, twice with the same state directory.
cat >"$WORK/run.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state}
inputs:
  - file: {path: $src/configs/data/sample-trades.jsonl, format: json}
processors:
  - normalize: {}
  - ohlc: {intervals: [1m]}
  - alert:
      rules:
        - id: btc_above
          kind: threshold
          metric: trade
          tags: {pair: "BTC/*"}
          by: [pair]              # buys and sells are one series
          field: price
          above: 95875
          hysteresis_pct: 0.005
          cooldown: 30s
outputs:
  - file: {path: $WORK/out.jsonl}
YAML
"$CVAGENT" -c "$WORK/run.yaml" --once 2>"$WORK/agent.log" || fail "cvagent --once failed"
/usr/bin/python3 - "$src/configs/data/sample-trades.jsonl" "$WORK/out.jsonl" <<'PY' || fail "alerts differ"
import json, sys
# The rule, independently: above 95875 fires (unless within 30 s of the previous alert), clears
# at or below 95875 * (1 - 0.00005); out-of-order trades of a pair are not judged.
level, clear_at, cooldown = 95875.0, 95875.0 * (1 - 0.00005), 30_000_000_000
want, active, last_fired, latest = [], False, None, None
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["tags"]["pair"] != "BTC/USD":
        continue
    t, p = m["time"], float(m["fields"]["price"])
    if latest is not None and t < latest:
        continue
    latest = t
    if active:
        if p <= clear_at:
            active = False
            want.append((t, True, p))
    elif p > level and (last_fired is None or t - last_fired >= cooldown):
        active, last_fired = True, t
        want.append((t, False, p))
out = [json.loads(l) for l in open(sys.argv[2])]
got = [(m["time"], m["fields"]["resolved"], m["fields"]["last"]) for m in out if m["name"] == "alert"]
for m in out:
    if m["name"] == "alert":
        assert m["tags"] == {"pair": "BTC/USD", "rule": "btc_above", "severity": "warning"}, m
        assert m["fields"]["type"] == "THRESHOLD" and m["fields"]["threshold"] == 95875.0, m
assert len(want) >= 2, f"the data should make the rule fire: {want}"
if got != want:
    print(f"want {want}\ngot  {got}", file=sys.stderr)
    sys.exit(1)
print(f"{len(got)} alerts as computed")
PY
[[ -s "$WORK/state/processors.alert/alert-state" ]] || fail "no alert state saved"
rm "$WORK/out.jsonl"
"$CVAGENT" -c "$WORK/run.yaml" --once 2>"$WORK/agent2.log" || fail "second run failed"
if grep -q '"name":"alert"' "$WORK/out.jsonl"; then
  fail "alerts raised again after a restart: $(grep '"name":"alert"' "$WORK/out.jsonl" | head -3)"
fi
grep -q "alert state restored" "$WORK/agent2.log" || fail "the restart did not restore the state"
echo "alert config/e2e: ok"

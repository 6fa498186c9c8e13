#!/usr/bin/env bash
# e2e: `cvagent validate` on processors.forecast configurations. Bad ones (an unknown model, a
# horizon of 0, a field the metric never has, a horizon that is not a whole number of steps) exit 2
# with file:line:column; configs/examples/kraken-forecast-to-timescale.yaml is valid.
: "${CVAGENT_SOURCE_DIR:?CVAGENT_SOURCE_DIR must point at the source tree}"
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
work=$WORK

# expect_error NAME 'forecast options (YAML, indented 6)' 'expected text with file:line:column'
expect_error() {
  local name=$1 options=$2 expected=$3
  cat >"$work/$name.yaml" <<YAML
agent: {http: ""}
inputs:
  - file: {path: in.jsonl}
processors:
  - forecast:
$options
outputs:
  - file: {path: out.jsonl}
YAML
  set +e
  "$CVAGENT" validate -c "$work/$name.yaml" >"$work/out.log" 2>"$work/err.log"
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "$name: exit code $rc, want 2"
  grep -qF "$work/$name.yaml:$expected" "$work/err.log" || fail "$name: no '$expected'"
}

expect_error unknown_model '      models: [naive, holt, prophet]' \
  "6:15: error: option 'models' must be one of naive, moving_average, holt, ar, got 'prophet'"

expect_error zero_horizon '      horizons: [1m, 0s]' "6:7: error: forecast: horizon \`0s\` must be positive"

expect_error missing_field '      series:
        - metric: candle
          field: cloze' "7:11: error: forecast: \`candle\` metrics have no numeric field \`cloze\`; did you mean 'close'?"

expect_error uneven_horizon '      series:
        - {metric: ticker, field: last, step: 1m}
      horizons: [90s]' "6:7: error: forecast: horizon \`90s\` must be a whole number of steps"

expect_error unknown_key '      horizon: [1m]' "6:7: error: unknown option 'horizon'"

"$CVAGENT" validate -c "$CVAGENT_SOURCE_DIR/configs/examples/kraken-forecast-to-timescale.yaml" \
  >"$work/out.log" 2>"$work/err.log" || fail "the forecasting example is not valid"
echo "forecast configuration: ok"

#!/usr/bin/env bash
# e2e against the shared PostgreSQL (tests/services/postgres.sh): the real Kraken 1m candles go
# through processors.forecast into outputs.timescale (`cvagent schema apply`, then `--once`), a
# few alert and ticker rows are added, and every SQL query of the Grafana dashboard
# deploy/grafana/dashboards/cvagent-analytics.json (valid JSON, checked first) runs against that
# database with Grafana's macros expanded; the forecast panels must return the stored forecasts,
# joined to their candles, and the alert panels the alerts.
: "${CVAGENT_SOURCE_DIR:?CVAGENT_SOURCE_DIR must point at the source tree}"
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
dashboard="$CVAGENT_SOURCE_DIR/deploy/grafana/dashboards/cvagent-analytics.json"
/usr/bin/python3 -m json.tool "$dashboard" >/dev/null || fail "$dashboard is not valid JSON"
if [[ -z "${CVAGENT_TEST_PG_URL:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "CVAGENT_TEST_PG_URL is not set"
  echo "SKIP: CVAGENT_TEST_PG_URL is not set (run through scripts/test.sh)"
  exit 77
fi
psql_bin="${CVAGENT_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
work=$WORK
db="cvagent_forecast_e2e_$$"
url="${CVAGENT_TEST_PG_URL%/*}/$db"
trap '"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; cleanup' EXIT
q() { "$psql_bin" "$url" -qAt -v ON_ERROR_STOP=1 -c "$1"; }
"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null

# Kraken's REST OHLC rows as closed 1m candle metrics (the last row is the open minute).
/usr/bin/python3 - "$CVAGENT_SOURCE_DIR/tests/data/kraken/http_ohlc.json" \
  "$work/candles.jsonl" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["result"]["XBTUSDT"][:-1]
with open(sys.argv[2], "w") as out:
    for t, o, h, l, c, vwap, volume, count in rows:
        out.write(json.dumps({
            "name": "candle",
            "tags": {"exchange": "kraken", "interval": "1m", "pair": "XBT/USDT"},
            "fields": {"open": float(o), "high": float(h), "low": float(l), "close": float(c),
                       "volume": float(volume), "vwap": float(vwap), "trades": count,
                       "partial": False},
            "time": t * 1_000_000_000}) + "\n")
PY
candles=$(wc -l <"$work/candles.jsonl")

# One horizon: see the README of this plugin (the horizon tag and outputs.timescale).
cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:0", state_dir: $work/state}
inputs:
  - file: {path: $work/candles.jsonl, format: json, tail: false}
processors:
  - forecast:
      horizons: [1m]
outputs:
  - timescale:
      connection: $url
      batch_size: 500
YAML
"$CVAGENT" schema apply -c "$work/p.yaml" >"$work/apply.log" 2>&1 || fail "schema apply"
"$CVAGENT" -c "$work/p.yaml" --once >"$work/run.log" 2>&1 || fail "--once run"
[[ $(q "SELECT count(*) FROM ohlc_data") == "$candles" ]] || fail "candles not stored"
# Every minute but the last resolves the forecasts made the minute before: 4 models.
[[ $(q "SELECT count(DISTINCT model_name) FROM prediction_data") == 4 ]] || fail "models missing"
resolved=$(q "SELECT count(*) FROM prediction_data p JOIN ohlc_data o ON o.timestamp = p.timestamp AND o.pair = 'XBT/USDT' WHERE p.model_name = 'naive' AND p.actual_price = o.close")
[[ "$resolved" -eq $((candles - 1)) ]] || fail "naive: $resolved actuals equal to their candle's close, want $((candles - 1))"
[[ $(q "SELECT count(*) FROM prediction_data WHERE crypto_symbol <> 'BTC'") == 0 ]] || fail "symbol not BTC"
horizon=$(q "SELECT DISTINCT horizon FROM prediction_data")

# What processors.alert would store, and a ticker price, for the alert and join panels.
q "INSERT INTO alert_data (timestamp, pair, last_price, change_percent, threshold, alert_type, rule, severity, message) VALUES
   (to_timestamp(1762800000), 'XBT/USDT', 105000, 1.5, 1.0, 'PRICE_UP', 'btc-jump', 'warning', 'BTC up 1.5 % in 5m'),
   (to_timestamp(1762810000), 'XBT/USDT', 104000, -1.2, 1.0, 'PRICE_DOWN', 'btc-jump', 'critical', 'BTC down')" >/dev/null
q "INSERT INTO ticker_data (timestamp, pair, last) VALUES (to_timestamp(1762800000), 'XBT/USDT', 105001)" >/dev/null

# Every query of the dashboard (panels, variables, annotations) with Grafana's macros expanded
# for pair XBT/USDT, model holt and the stored horizon over the recording's day. Prints
# "<title>\t<rows>" per query; a query that fails stops the test.
/usr/bin/python3 - "$dashboard" "$horizon" >"$work/queries.tsv" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
values = {"pair": "XBT/USDT", "model": "holt", "horizon": sys.argv[2]}
def expand(sql):
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)",
                 r"\1 BETWEEN TIMESTAMPTZ '2025-11-10 00:00:00+00' AND TIMESTAMPTZ '2025-11-12 00:00:00+00'", sql)
    sql = re.sub(r"\$\{(\w+):sqlstring\}", lambda m: "'" + values[m.group(1)].replace("'", "''") + "'", sql)
    sql = sql.replace("now()", "TIMESTAMPTZ '2025-11-11 12:00:00+00'")
    assert "$" not in sql, "unexpanded macro in: " + sql
    return sql
queries = []
for v in dash["templating"]["list"]:
    queries.append(("variable " + v["name"], v["query"]))
for a in dash["annotations"]["list"]:
    queries.append(("annotation " + a["name"], a["target"]["rawSql"]))
for p in dash["panels"]:
    for t in p.get("targets", []):
        if "rawSql" in t:
            queries.append((p["title"] + " " + t["refId"], t["rawSql"]))
for title, sql in queries:
    print(title.replace("\t", " ") + "\t" + expand(sql).replace("\n", " "))
PY
count=0
while IFS=$'\t' read -r title sql; do
  n=$("$psql_bin" "$url" -qAt -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM ($sql) AS q" 2>"$work/query.log") ||
    fail "dashboard query '$title' failed: $(cat "$work/query.log")"
  printf '%s\t%s\n' "$title" "$n" >>"$work/rows.tsv"
  count=$((count + 1))
done <"$work/queries.tsv"
[[ $count -ge 12 ]] || fail "only $count dashboard queries found"
rows_of() { awk -F'\t' -v t="$1" '$1 == t {print $2}' "$work/rows.tsv"; }
expect_rows() {  # title minimum
  local n
  n=$(rows_of "$1")
  [[ -n "$n" && "$n" -ge "$2" ]] || fail "dashboard query '$1' returned ${n:-no} rows, want >= $2"
}
expect_rows "variable model" 4
expect_rows "variable horizon" 1
expect_rows "Forecast with interval vs actual close (\$pair, \$model, \$horizon) A" $((candles))
expect_rows "Forecast with interval vs actual close (\$pair, \$model, \$horizon) B" $((candles - 30))
expect_rows "MAE relative to naive (\$pair, \$horizon) A" 4
expect_rows "Interval coverage (\$pair, \$horizon) A" 4
expect_rows "Absolute percentage error per model (\$pair, \$horizon) A" $((candles))
expect_rows "Latest resolved forecasts with the candle and ticker they are judged on (\$pair) A" 100
expect_rows "annotation Alerts" 2
expect_rows "Close with alerts (\$pair) B" 2
expect_rows "Alerts per 5 minutes by type (all pairs) A" 2
expect_rows "Latest alerts A" 2
# The join panel pairs each forecast with its candle and the ticker before it.
joined=$(q "$(awk -F'\t' '$1 ~ /^Latest resolved forecasts/ {print $2}' "$work/queries.tsv") " | awk -F'|' '$7 == $8 && $9 == "105001"' | wc -l)
[[ "$joined" -ge 1 ]] || fail "no forecast row joined with its candle close and the ticker price"
# Coverage per model is a share, and naive's MAE ratio is exactly 1.
q "$(awk -F'\t' '$1 ~ /^Interval coverage/ {print $2}' "$work/queries.tsv")" >"$work/coverage.txt"
awk -F'|' '$2 < 0.5 || $2 > 1 {bad = 1} END {exit bad}' "$work/coverage.txt" || fail "coverage out of range: $(cat "$work/coverage.txt")"
q "$(awk -F'\t' '$1 ~ /^MAE relative/ {print $2}' "$work/queries.tsv")" >"$work/mae.txt"
grep -qx "naive|1" "$work/mae.txt" || fail "naive's MAE ratio is not 1: $(cat "$work/mae.txt")"
echo "ok: $count dashboard queries ran; $resolved forecasts joined to their candles"
cat "$work/mae.txt" "$work/coverage.txt"

#!/usr/bin/env bash
# The Grafana dashboards of deploy/grafana/dashboards against what the agent really produces:
#  1. every dashboard is valid JSON with unique panel ids and a gridPos per panel;
#  2. every Prometheus series they query is one the agent exports: cvagent_* names are registered
#     somewhere in the sources, process_* names appear on a running agent's /metrics;
#  3. every SQL query of cvagent-overview (panels and variables) runs against a database made by
#     `cvagent schema apply`, with Grafana's macros expanded, and returns rows for the data
#     inserted: the price panel both raw (a 1-hour range, averaged per interval) and downsampled (a
#     7-day range, from the hourly aggregate), the candles at the interval variable's values, and
#     the freshness table one row per feed and pair with its age.
# CVAGENT_TEST_PG_FLAVOR=timescaledb runs part 3 against the TimescaleDB cluster.
: "${CVAGENT_SOURCE_DIR:?CVAGENT_SOURCE_DIR must point at the source tree}"
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
dash_dir="$CVAGENT_SOURCE_DIR/deploy/grafana/dashboards"

# --- 1 and 2
port=$(free_port)
cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$port", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/none.jsonl}
outputs:
  - file: {path: $WORK/out.jsonl}
YAML
: >"$WORK/none.jsonl"
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
cleanup_pids+=($!)
scrape() { curl -fsS "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt" 2>/dev/null; }
wait_for 20 scrape || fail "the agent does not serve /metrics"
/usr/bin/python3 - "$dash_dir" "$CVAGENT_SOURCE_DIR" "$WORK/metrics.txt" <<'PY' || fail "dashboard checks"
import json, os, re, sys
dash_dir, src, metrics_file = sys.argv[1:4]
scraped = {line.split("{")[0].split(" ")[0] for line in open(metrics_file) if line and line[0] != "#"}
sources = ""
for top in ("agent", "plugins", "plugin-api"):
    for root, _, files in os.walk(os.path.join(src, top)):
        for f in files:
            if f.endswith((".cc", ".h")) and "/tests" not in root:
                sources += open(os.path.join(root, f), encoding="utf-8").read()
errors = []
checked = 0
for name in sorted(os.listdir(dash_dir)):
    dash = json.load(open(os.path.join(dash_dir, name), encoding="utf-8"))
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        errors.append(f"{name}: duplicate panel ids")
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", []) if "expr" in t]
    for p in dash["panels"]:
        if "gridPos" not in p:
            errors.append(f"{name}: panel {p['title']} has no gridPos")
    for expr in exprs:
        for metric in set(re.findall(r"\b((?:cvagent|process)_[a-z0-9_]+)", expr)):
            checked += 1
            if metric.startswith("process_"):
                if metric not in scraped:
                    errors.append(f"{name}: {metric} is not on the agent's /metrics")
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", metric)[len("cvagent_"):]
            # Plugin metrics are registered by their name without the prefix; the prometheus
            # output's own series (cvagent-live) are not the agent's.
            if f'"{base}"' not in sources and metric not in scraped:
                errors.append(f"{name}: {metric} is exported nowhere (no \"{base}\" in the sources)")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"dashboards: {checked} metric references checked")
PY

# --- 3
if [[ "${CVAGENT_TEST_PG_FLAVOR:-}" == "timescaledb" ]]; then
  if [[ -n "${CVAGENT_TEST_TSDB_SKIP:-}" ]]; then
    echo "SKIP: TimescaleDB flavour skipped: $CVAGENT_TEST_TSDB_SKIP"
    exit 77
  fi
  CVAGENT_TEST_PG_URL=${CVAGENT_TEST_TSDB_URL:-}
fi
if [[ -z "${CVAGENT_TEST_PG_URL:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "CVAGENT_TEST_PG_URL is not set"
  echo "SKIP: CVAGENT_TEST_PG_URL is not set (run through scripts/test.sh); parts 1 and 2 passed"
  exit 77
fi
psql_bin="${CVAGENT_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
db="cvagent_dash_$$"
url="${CVAGENT_TEST_PG_URL%/*}/$db"
trap '"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; cleanup' EXIT
"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null
cat >"$WORK/schema.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state2}
inputs:
  - file: {path: $WORK/none.jsonl}
outputs:
  - timescale: {connection: "$url"}
YAML
"$CVAGENT" schema apply -c "$WORK/schema.yaml" >"$WORK/apply.log" 2>&1 || fail "schema apply"
q() { "$psql_bin" "$url" -qAt -v ON_ERROR_STOP=1 -c "$1"; }
# Data relative to "now" (the dashboard's freshness panel asks now()): one ticker a minute for the
# last 3 days on two pairs, trades and candles for the last hour, two news sites.
q "INSERT INTO ticker_data (timestamp, pair, last)
   SELECT now() - m * INTERVAL '1 minute', p, 100 + m % 7
     FROM generate_series(0, 3 * 24 * 60) m, unnest(ARRAY['BTC/USD', 'ETH/USD']) p" >/dev/null
q "INSERT INTO trade_data (timestamp, pair, price, volume, side, trade_id)
   SELECT now() - s * INTERVAL '1 second', 'BTC/USD', 100, 0.5, 'b', s FROM generate_series(0, 3600) s" >/dev/null
q "INSERT INTO ohlc_data (timestamp, pair, interval, open, high, low, close, volume)
   SELECT date_trunc('minute', now()) - m * INTERVAL '1 minute', 'BTC/USD', '1m', 1, 2, 0.5, 1.5, 10
     FROM generate_series(0, 59) m
   UNION ALL
   SELECT date_trunc('minute', now()) - m * INTERVAL '5 minutes', 'BTC/USD', '5m', 1, 2, 0.5, 1.5, 50
     FROM generate_series(0, 11) m" >/dev/null
q "INSERT INTO article_data (timestamp, article_id, title, url, website, receive_time)
   VALUES (now() - INTERVAL '2 hours', 'a1', 'BTC up', 'https://a.example/1', 'a.example', now() - INTERVAL '90 minutes'),
          (now() - INTERVAL '1 day', 'b1', 'ETH down', 'https://b.example/1', 'b.example', now() - INTERVAL '23 hours')" >/dev/null
if [[ "${CVAGENT_TEST_PG_FLAVOR:-}" == "timescaledb" ]]; then
  q "CALL refresh_continuous_aggregate('ticker_ohlc_hourly', NULL, NULL)" >/dev/null
fi

# Each query with the macros expanded for a range: "<title>\t<range>\t<sql>".
/usr/bin/python3 - "$dash_dir/cvagent-overview.json" >"$WORK/queries.tsv" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1], encoding="utf-8"))
values = {"pair": "BTC/USD", "interval": "5m"}
ranges = {"1h": ("now() - INTERVAL '1 hour'", "now()", 3_600_000 // 1000),
          "7d": ("now() - INTERVAL '7 days'", "now()", 7 * 86_400_000 // 1000)}
def expand(sql, rng):
    start, end, interval_ms = ranges[rng]
    # Grafana puts the range in as quoted RFC 3339 literals; here as expressions on now().
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN {start} AND {end}", sql)
    sql = sql.replace("$__timeFrom()", f"({start})").replace("$__timeTo()", f"({end})")
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = re.sub(r"\$\{(\w+):sqlstring\}", lambda m: "'" + values[m.group(1)] + "'", sql)
    assert "$" not in sql, "unexpanded macro in: " + sql
    return sql.replace("\n", " ")
for v in dash["templating"]["list"]:
    if v.get("datasource", {}).get("uid") == "timescaledb":
        print(f"variable {v['name']}\t1h\t{expand(v['query'], '1h')}")
for p in dash["panels"]:
    for t in p.get("targets", []):
        if "rawSql" in t:
            for rng in ranges:
                print(f"{p['title']} {t['refId']}\t{rng}\t{expand(t['rawSql'], rng)}")
PY
while IFS=$'\t' read -r title rng sql; do
  n=$(q "SELECT count(*) FROM ($sql) AS q" 2>"$WORK/query.log") ||
    fail "query '$title' ($rng) failed: $(cat "$WORK/query.log")"
  printf '%s\t%s\t%s\n' "$title" "$rng" "$n" >>"$WORK/rows.tsv"
done <"$WORK/queries.tsv"
rows() { awk -F'\t' -v t="$1" -v r="$2" '$1 == t && $2 == r {print $3}' "$WORK/rows.tsv"; }
expect() {  # title range min max
  local n
  n=$(rows "$1" "$2")
  [[ -n "$n" && "$n" -ge "$3" && "$n" -le "$4" ]] || fail "'$1' over $2: ${n:-no} rows, want $3..$4"
}
expect "variable pair" 1h 2 2
expect "variable interval" 1h 2 2
# 1 h raw at one point per 3.6 s bucket -> the 61 one-minute tickers; 7 d -> hourly closes (73).
expect 'Last price ($pair) A' 1h 60 62
expect 'Last price ($pair) A' 7d 72 74
expect 'Candles ($pair, $interval) A' 1h 12 12
expect 'Data freshness per feed and pair A' 1h 7 7
# The freshness table's ages: the BTC ticker just now, the b.example site 23 hours old.
ages=$(q "SELECT feed || ' ' || source || ' ' || round(age) FROM ($(awk -F'\t' '$1 == "Data freshness per feed and pair A" && $2 == "1h" {print $3}' "$WORK/queries.tsv")) f ORDER BY 1")
grep -qE '^news b\.example 828[0-9][0-9]$' <<<"$ages" || fail "news age: $ages"
grep -qE '^ticker BTC/USD [0-9]$' <<<"$ages" || fail "ticker age: $ages"
echo "dashboards: ok ($(wc -l <"$WORK/rows.tsv") queries ran${CVAGENT_TEST_PG_FLAVOR:+ on $CVAGENT_TEST_PG_FLAVOR})"

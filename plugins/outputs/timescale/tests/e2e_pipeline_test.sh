#!/usr/bin/env bash
# e2e: the cvagent binary against the shared PostgreSQL (tests/services/postgres.sh).
#  1. `cvagent schema apply -c pipeline.yaml` twice: the schema is there once, nothing changes.
#  2. `cvagent -c pipeline.yaml --once` replays the Kraken recording's trades (inputs.file ->
#     outputs.timescale), twice: trade_data holds each trade exactly once.
#  3. The connection comes from ${VAR} substitution and from connection_file; the password never
#     appears in the agent's output.
set -euo pipefail
: "${CVAGENT:?CVAGENT must point at the cvagent binary}"
# The TimescaleDB flavour (CVAGENT_TEST_PG_FLAVOR=timescaledb) runs against the server of
# tests/services/timescaledb.sh instead.
if [[ "${CVAGENT_TEST_PG_FLAVOR:-}" == "timescaledb" ]]; then
  if [[ -n "${CVAGENT_TEST_TSDB_SKIP:-}" ]]; then
    echo "SKIP: TimescaleDB flavour skipped: $CVAGENT_TEST_TSDB_SKIP"
    exit 77
  fi
  CVAGENT_TEST_PG_URL=${CVAGENT_TEST_TSDB_URL:-}
fi
if [[ -z "${CVAGENT_TEST_PG_URL:-}" ]]; then
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && { echo "FAIL: CVAGENT_TEST_PG_URL is not set" >&2; exit 1; }
  echo "SKIP: CVAGENT_TEST_PG_URL is not set (run through scripts/test.sh)"
  exit 77
fi
psql_bin="${CVAGENT_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
data=$(cd "$(dirname "$0")/../../../../tests/data/kraken" && pwd)  # fixtures shared by plugins
work=$(mktemp -d /tmp/cvagent-timescale-e2e.XXXXXX)
db="cvagent_e2e_$$"
base="${CVAGENT_TEST_PG_URL%/*}"
url="$base/$db"
cleanup() {
  "$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}
q() { "$psql_bin" "$url" -qAt -c "$1"; }

"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null

/usr/bin/python3 - "$data/ws_v2_session.jsonl" "$work/trades.jsonl" <<'PY'
import json, sys, datetime
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        frame = json.loads(line)
        if frame.get("channel") != "trade":
            continue
        for t in frame["data"]:
            out.write(json.dumps({
                "name": "trade",
                "tags": {"exchange": "kraken", "pair": t["symbol"], "side": t["side"]},
                "fields": {"price": t["price"], "volume": t["qty"], "trade_id": t["trade_id"],
                           "ord_type": t["ord_type"]},
                "time": t["timestamp"]}) + "\n")
PY
expected=$(/usr/bin/python3 -c '
import json, sys
print(len({(m["tags"]["pair"], m["time"], m["fields"]["trade_id"]) for m in map(json.loads, open(sys.argv[1]))}))' "$work/trades.jsonl")

# The password is accepted and ignored by the test server (trust authentication).
secret_url="${url/postgres@/postgres:Sekr1tPassw0rd@}"
printf '%s\n' "$secret_url" >"$work/pg-url"
cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:0", state_dir: $work/state}
inputs:
  - file: {path: $work/trades.jsonl, format: json, tail: false}
outputs:
  - timescale:
      connection: \${CVAGENT_E2E_PG_URL}
      batch_size: 200
YAML
cat >"$work/p-file.yaml" <<YAML
agent: {http: "127.0.0.1:0", state_dir: $work/state2}
inputs:
  - file: {path: $work/trades.jsonl, format: json, tail: false}
outputs:
  - timescale:
      connection_file: $work/pg-url
YAML
export CVAGENT_E2E_PG_URL="$secret_url"

for i in 1 2; do
  "$CVAGENT" schema apply -c "$work/p.yaml" >"$work/apply$i.log" 2>&1 || fail "schema apply $i"
  grep -q "schema applied" "$work/apply$i.log" || fail "schema apply $i printed no confirmation"
done
[[ $(q "SELECT count(*) FROM cvagent_schema_migrations") == 4 ]] || fail "migrations not recorded once"
[[ $(q "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('ticker_data','trade_data','ohlc_data','article_data','alert_data','sentiment_data','prediction_data','ticker_ohlc_hourly','sentiment_hourly')") == 9 ]] \
  || fail "schema relations missing"

"$CVAGENT" -c "$work/p.yaml" --once >"$work/run1.log" 2>&1 || fail "first --once run"
[[ $(q "SELECT count(*) FROM trade_data") == "$expected" ]] || fail "after one run: $(q 'SELECT count(*) FROM trade_data') rows, want $expected"
"$CVAGENT" -c "$work/p-file.yaml" --once >"$work/run2.log" 2>&1 || fail "replay through connection_file"
[[ $(q "SELECT count(*) FROM trade_data") == "$expected" ]] || fail "after the replay: $(q 'SELECT count(*) FROM trade_data') rows, want $expected"
[[ $(q "SELECT count(*) FROM trade_data WHERE side NOT IN ('b','s') OR trade_id IS NULL") == 0 ]] || fail "bad rows"

if grep -q "Sekr1tPassw0rd" "$work"/*.log; then fail "the password appears in the agent's output"; fi
echo "ok: $expected trades stored once after two runs"

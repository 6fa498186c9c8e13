#!/usr/bin/env bash
# A backfill with DEFAULT settings delivers everything: `cvagent --once` of a 300,000-line file
# (inputs.file) into Kafka (a private librdkafka mock cluster, read back with kcat) or into
# PostgreSQL (the shared test server, SELECT count) stores all 300,000 and exits 0. The output's
# buffer (100,000) is smaller than the file: the default `when_full: block` slows the input down
# instead of dropping.
#   backfill_test.sh kafka|timescale
#   env: CVAGENT, CVAGENT_BUILD_DIR (kafka: bin/cvagent-kafka-mock), CVAGENT_TEST_PG_URL and
#        CVAGENT_TEST_PG_BIN (timescale)
source "$(dirname "$0")/lib.sh"
sink=${1:?usage: backfill_test.sh kafka|timescale}
total=300000

skip() {
  [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "$1"
  echo "SKIP: $1"
  exit 77
}

# trades with ids 0..total-1 as line protocol, 7 pairs
/usr/bin/python3 - "$total" >"$WORK/trades.lp" <<'PY'
import sys
pairs = ["BTC/USD", "ETH/USD", "SOL/USD", "ADA/USD", "DOT/USD", "LINK/USD", "XRP/USD"]
out = sys.stdout
for i in range(int(sys.argv[1])):
    side = "buy" if i % 2 else "sell"
    out.write(f"trade,exchange=kraken,pair={pairs[i % 7]},side={side} price={100 + i % 1000}.5,volume=0.25,trade_id={i}i {1795962600000000000 + i * 1000}\n")
PY

run_once() {  # run_once OUTPUT_YAML
  cat >"$WORK/p.yaml" <<YAML
agent: {http: "", state_dir: $WORK/state}
inputs:
  - file: {path: $WORK/trades.lp, format: influx, tail: false}
outputs:
$1
YAML
  local rc=0
  "$CVAGENT" -c "$WORK/p.yaml" --once 2>"$WORK/agent.log" || rc=$?
  grep -q "done: $total metrics gathered, $total written, 0 dropped" "$WORK/agent.log" ||
    fail "summary: $(grep 'done:' "$WORK/agent.log" || echo none)"
  [[ $rc -eq 0 ]] || fail "--once exited $rc"
  ! grep -q "buffer_full" "$WORK/agent.log" || fail "buffer_full drops logged"
}

case "$sink" in
  kafka)
    mock="${CVAGENT_BUILD_DIR:-}/bin/cvagent-kafka-mock"
    [[ -x "$mock" ]] || skip "$mock is not built"
    command -v kcat >/dev/null || skip "kcat is not installed"
    start_kafka_mock "$mock" --topic rawtrade:6
    run_once "  - kafka: {brokers: \"$brokers\"}"
    # Read everything back: every trade id exactly once.
    kcat -C -b "$brokers" -t rawtrade -e -q -f '%s\n' 2>"$WORK/kcat.log" |
      grep -o '"trade_id":[0-9]*' | sort | uniq -c | awk '{print $1}' | sort | uniq -c >"$WORK/ids" ||
      fail "kcat failed: $(cat "$WORK/kcat.log")"
    [[ "$(cat "$WORK/ids" | tr -s ' ')" == " $total 1" ]] ||
      fail "trade ids read back (count x copies): $(cat "$WORK/ids")"
    ;;
  timescale)
    [[ -n "${CVAGENT_TEST_PG_URL:-}" ]] || skip "CVAGENT_TEST_PG_URL is not set (run through scripts/test.sh)"
    psql_bin="${CVAGENT_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
    db="cvagent_backfill_$$"
    url="${CVAGENT_TEST_PG_URL%/*}/$db"
    "$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null
    trap '"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; cleanup' EXIT
    output="  - timescale: {connection: \"$url\"}"
    printf 'outputs:\n%s\n' "$output" >"$WORK/schema.yaml"
    "$CVAGENT" schema apply -c "$WORK/schema.yaml" >"$WORK/schema.log" 2>&1 || fail "schema apply"
    run_once "$output"
    stored=$("$psql_bin" "$url" -qAt -c "SELECT count(*), count(DISTINCT trade_id) FROM trade_data")
    [[ "$stored" == "$total|$total" ]] || fail "trade_data holds (rows|distinct ids) $stored, want $total"
    ;;
  *)
    fail "unknown sink $sink"
    ;;
esac
echo "backfill $sink: ok ($total of $total stored)"

#!/usr/bin/env bash
# Integration: alert -> outputs.kafka -> inputs.kafka -> outputs.timescale fills alert_data.
# A producer agent (inputs.file -> alert -> outputs.kafka + outputs.file, --once) raises alerts on
# hand-built tickers for 5 pairs; kcat checks that rawalert carries the old Spark shape (pair,
# last, change, threshold as numbers, timestamp in epoch milliseconds); a storer agent
# (inputs.kafka -> outputs.timescale) must then hold exactly the alerts the producer wrote, every
# NOT NULL column filled.
#   env: CVAGENT, CVAGENT_SOURCE_DIR; CVAGENT_TEST_KAFKA_BROKERS (tests/services/kafka.sh) and
#   CVAGENT_TEST_PG_URL (tests/services/postgres.sh), skipped without them.
source "${CVAGENT_SOURCE_DIR:?}/tests/e2e/lib.sh"
for var in CVAGENT_TEST_KAFKA_BROKERS CVAGENT_TEST_PG_URL; do
  if [[ -z "${!var:-}" ]]; then
    [[ "${CVAGENT_TEST_REQUIRE_SERVICES:-}" == "1" ]] && fail "$var is not set"
    echo "SKIP: $var is not set (run through scripts/test.sh or tests/services/*.sh)"
    exit 77
  fi
done
brokers=$CVAGENT_TEST_KAFKA_BROKERS
psql_bin="${CVAGENT_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
db="cvagent_alert_$$"
url="${CVAGENT_TEST_PG_URL%/*}/$db"
topic="rawalert_test_$$_$RANDOM"  # the shared cluster outlives this test: a topic of its own
drop_db() { "$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap 'drop_db; cleanup' EXIT
"$psql_bin" "$CVAGENT_TEST_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null
q() { "$psql_bin" "$url" -qAt -F '|' -c "$1"; }

# Tickers, 1 s apart: each pair climbs through 105 (fires), flaps around it (hysteresis holds),
# falls to 100 (resolves), and jumps 3 % in a minute (change rule) at its own moment.
/usr/bin/python3 - "$WORK/tickers.jsonl" <<'PY'
import json, sys
t0 = 1795962600_000_000_000
with open(sys.argv[1], "w") as out:
    for s in range(400):
        for i in range(5):
            pair = f"P{i}/USD"
            if s < 100:
                price = 100 + s * 0.06            # 100 -> 106: crosses 105 at s = 84
            elif s < 200:
                price = 105 + (0.3 if s % 2 else -0.3)   # flapping, above the 103.95 clear level
            elif s < 250:
                price = 100.0                     # resolves
            elif s < 300 + 10 * i:
                price = 100.0
            else:
                price = 103.5                     # +3.5 % jump: the change rule fires
            out.write(json.dumps({"name": "ticker", "tags": {"exchange": "kraken", "pair": pair},
                                  "fields": {"last": price}, "time": t0 + s * 1_000_000_000}) + "\n")
PY

cat >"$WORK/producer.yaml" <<YAML
agent: {http: "", state_dir: $WORK/pstate}
inputs:
  - file: {path: $WORK/tickers.jsonl, format: json}
processors:
  - alert:
      rules:
        - {id: above_105, kind: threshold, metric: ticker, field: last, above: 105,
           hysteresis_pct: 1, cooldown: 0s, severity: critical}
        - {id: jump_1m, kind: change, metric: ticker, field: last, window: 1m,
           threshold_pct: 3, cooldown: 0s,
           message: "{pair} on {exchange}: {change}% in {window}, now {last}"}
outputs:
  - kafka:
      brokers: "$brokers"
      namepass: [alert]
      topics: {alert: $topic}
  - file: {path: $WORK/alerts.jsonl, namepass: [alert]}
YAML
"$CVAGENT" -c "$WORK/producer.yaml" --once 2>"$WORK/producer.log" || fail "producer --once failed"
expected=$(lines "$WORK/alerts.jsonl")
# Per pair: above_105 fires and resolves; jump_1m fires on the climb (3.6 %/min), the fall and the
# jump. Which alerts fire is the unit tests' business: here every one raised must reach alert_data.
[[ "$expected" -ge 15 ]] || fail "the producer raised only $expected alerts"

kcat -C -b "$brokers" -t "$topic" -e -q -f '%k\t%s\n' >"$WORK/kcat.out" 2>"$WORK/kcat.log" ||
  fail "kcat failed: $(cat "$WORK/kcat.log")"
/usr/bin/python3 - "$WORK/kcat.out" "$expected" <<'PY' || fail "rawalert messages are not in the Spark shape"
import json, sys
rows = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == int(sys.argv[2]), f"{len(rows)} messages, want {sys.argv[2]}"
for key, value in rows:
    m = json.loads(value)
    assert key == m["pair"], (key, m)
    for f in ("last", "change", "threshold"):
        assert isinstance(m[f], float), (f, m)
    assert isinstance(m["timestamp"], int) and 1.7e12 < m["timestamp"] < 1.9e12, m  # epoch ms
    assert m["type"] in ("THRESHOLD", "PRICE_UP", "PRICE_DOWN"), m
    assert isinstance(m["resolved"], bool) and m["rule"] and m["severity"], m
PY

cat >"$WORK/storer.yaml" <<YAML
agent: {http: "", state_dir: $WORK/sstate}
inputs:
  - kafka:
      brokers: "$brokers"
      topics: [$topic]
      metrics: {$topic: alert}
      group: alert-storer-$$
      commit_interval: 200ms
outputs:
  - timescale:
      connection: "$url"
      create_schema: true
      batch_size: 100
      flush_interval: 100ms
YAML
"$CVAGENT" -c "$WORK/storer.yaml" 2>"$WORK/storer.log" &
storer=$!
cleanup_pids+=($storer)
rows() { q "SELECT count(*) FROM alert_data" 2>/dev/null || echo 0; }
wait_for 60 bash -c "[[ \$(\"$psql_bin\" \"$url\" -qAt -c 'SELECT count(*) FROM alert_data' 2>/dev/null || echo 0) -ge $expected ]]" ||
  fail "alert_data has $(rows) rows, want $expected"
kill -TERM "$storer"
wait "$storer" || fail "storer exited with $?"

q "SELECT (extract(epoch FROM timestamp) * 1000000)::bigint, pair, rule, severity, last_price,
          change_percent, threshold, alert_type, message FROM alert_data ORDER BY 1, 2, 3" >"$WORK/db.out"
/usr/bin/python3 - "$WORK/alerts.jsonl" "$WORK/db.out" <<'PY' || fail "alert_data differs from the alerts raised"
import json, sys
want = []
for l in open(sys.argv[1]):
    m = json.loads(l)
    f, t = m["fields"], m["tags"]
    want.append((m["time"] // 1000, t["pair"], t["rule"], t["severity"], f["last"], f["change"],
                 f["threshold"], f["type"], f["message"]))
want.sort(key=lambda r: r[:3])
got = []
for l in open(sys.argv[2]):
    us, pair, rule, sev, last, change, thr, typ, msg = l.rstrip("\n").split("|", 8)
    got.append((int(us), pair, rule, sev, float(last), float(change), float(thr), typ, msg))
assert len(got) == len(want), f"{len(got)} rows, want {len(want)}"
for g, w in zip(got, want):
    assert g[:4] == w[:4] and g[7:] == w[7:], (g, w)
    for a, b in zip(g[4:7], w[4:7]):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (g, w)
kinds = {(r[2], r[8].startswith("resolved: ")) for r in got}
assert ("above_105", False) in kinds and ("above_105", True) in kinds and ("jump_1m", False) in kinds, kinds
print(f"alert_data: {len(got)} rows as raised")
PY
echo "alert -> kafka -> timescale: ok"

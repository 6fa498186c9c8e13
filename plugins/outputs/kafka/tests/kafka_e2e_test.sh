#!/usr/bin/env bash
# Two agents through Kafka (librdkafka's mock cluster, 3 brokers): a producer agent (inputs.file ->
# outputs.kafka, --once) and a storer agent (inputs.kafka -> outputs.file) that is stopped with
# SIGTERM and restarted; kcat reads what the producer wrote. Checks that every trade arrives, that
# one pair stays on one partition, and that the restarted storer resumes where it stopped.
#   env: CVAGENT (binary), KAFKA_MOCK (cvagent-kafka-mock), CVAGENT_SOURCE_DIR
source "$CVAGENT_SOURCE_DIR/tests/e2e/lib.sh"
: "${KAFKA_MOCK:?KAFKA_MOCK must point at cvagent-kafka-mock}"

start_kafka_mock "$KAFKA_MOCK" --topic rawtrade:6

# trades with ids from..to-1 as line protocol, 7 pairs
make_trades() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
pairs = ["BTC/USD", "ETH/USD", "SOL/USD", "ADA/USD", "DOT/USD", "LINK/USD", "XRP/USD"]
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    side = "buy" if i % 2 else "sell"
    print(f"trade,exchange=kraken,pair={pairs[i % 7]},side={side} price={100 + i}.5,volume=0.25,trade_id={i}i {1795962600000000000 + i * 1000}")
PY
}

produce() {  # produce FROM TO
  make_trades "$1" "$2" >"$WORK/in-$1.lp"
  cat >"$WORK/producer-$1.yaml" <<YAML
agent: {http: "127.0.0.1:$(free_port)", state_dir: $WORK/pstate-$1}
inputs:
  - file: {path: $WORK/in-$1.lp, format: influx}
outputs:
  - kafka: {brokers: "$brokers", batch_size: 500}
YAML
  "$CVAGENT" -c "$WORK/producer-$1.yaml" --once 2>"$WORK/producer-$1.log" || fail "producer --once failed"
}

storer_config() {  # storer_config OUT_FILE
  cat <<YAML
agent: {http: "127.0.0.1:$(free_port)", state_dir: $WORK/sstate}
inputs:
  - kafka:
      brokers: "$brokers"
      topics: [rawtrade]
      group: e2e-storer
      commit_interval: 200ms
      # The mock cluster waits for a departed member's session to expire before it rebalances.
      properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}
outputs:
  - file: {path: $1, batch_size: 200, flush_interval: 100ms}
YAML
}

distinct_ids() { grep -o '"trade_id":[0-9]*' "$@" | sort -u | wc -l; }

produce 0 3000

# kcat sees what the producer agent wrote: every trade, one partition per pair, and no headers
# (rawtrade says which metric it holds; the storer below reads it back without them).
kcat -C -b "$brokers" -t rawtrade -e -q -f '%p %k %h %s\n' >"$WORK/kcat.out" 2>"$WORK/kcat.log" ||
  fail "kcat failed: $(cat "$WORK/kcat.log")"
[[ "$(lines "$WORK/kcat.out")" -eq 3000 ]] || fail "kcat read $(lines "$WORK/kcat.out") messages"
! grep -q 'metric=' "$WORK/kcat.out" || fail "a header on rawtrade: $(grep -m1 'metric=' "$WORK/kcat.out")"
[[ "$(awk '{print $2}' "$WORK/kcat.out" | sort -u | wc -l)" -eq 7 ]] || fail "expected 7 keys"
[[ "$(awk '{print $1, $2}' "$WORK/kcat.out" | sort -u | wc -l)" -eq 7 ]] ||
  fail "a pair landed on more than one partition"

# The storer reads everything, then stops on SIGTERM.
storer_config "$WORK/out1.jsonl" >"$WORK/storer1.yaml"
"$CVAGENT" -c "$WORK/storer1.yaml" 2>"$WORK/storer1.log" &
storer=$!
cleanup_pids+=($storer)
wait_for 60 has_lines "$WORK/out1.jsonl" 3000 || fail "storer wrote $(lines "$WORK/out1.jsonl") of 3000"
sleep 0.5  # let the last completions reach the consumer thread before the stop commits them
kill -TERM "$storer"
wait "$storer" || fail "storer exited with $?"
[[ "$(distinct_ids "$WORK/out1.jsonl")" -eq 3000 ]] || fail "storer lost trades"

# More trades while the storer is down; the restarted storer resumes at the committed offsets.
produce 3000 4000
storer_config "$WORK/out2.jsonl" >"$WORK/storer2.yaml"
"$CVAGENT" -c "$WORK/storer2.yaml" 2>"$WORK/storer2.log" &
storer=$!
cleanup_pids+=($storer)
wait_for 60 has_lines "$WORK/out2.jsonl" 1000 || fail "restarted storer wrote $(lines "$WORK/out2.jsonl")"
sleep 1
kill -TERM "$storer"
wait "$storer" || fail "restarted storer exited with $?"
[[ "$(distinct_ids "$WORK/out1.jsonl" "$WORK/out2.jsonl")" -eq 4000 ]] || fail "trades lost across the restart"
reread=$(grep -o '"trade_id":[0-9]*' "$WORK/out2.jsonl" | awk -F: '$2 < 3000' | wc -l)
[[ "$reread" -lt 3000 ]] || fail "the restarted storer read everything again ($reread old trades)"
grep -q '"side":"buy"' "$WORK/out2.jsonl" || fail "tags not read back: $(head -1 "$WORK/out2.jsonl")"
echo "kafka e2e: ok (re-read after restart: $reread)"

#!/usr/bin/env bash
# The shared Kafka for tests: librdkafka's mock cluster with 3 brokers on loopback
# (tests/services/kafka_mock). `start DIR` prints CVAGENT_TEST_KAFKA_BROKERS; `stop DIR` ends it.
# Tests that take brokers down or inject errors start a cluster of their own instead.
set -euo pipefail
cmd=${1:?usage: kafka.sh start|stop DIR}
dir=${2:?usage: kafka.sh start|stop DIR}
mkdir -p "$dir"

case "$cmd" in
  start)
    bin="${CVAGENT_BUILD_DIR:?CVAGENT_BUILD_DIR is not set}/bin/cvagent-kafka-mock"
    [[ -x "$bin" ]] || { echo "kafka.sh: $bin is not built" >&2; exit 1; }
    "$bin" --brokers 3 --keep-running </dev/null >"$dir/mock.out" 2>"$dir/mock.log" &
    echo $! >"$dir/pid"
    for _ in $(seq 1 100); do
      if grep -q '^bootstrap ' "$dir/mock.out" 2>/dev/null; then
        echo "export CVAGENT_TEST_KAFKA_BROKERS=$(sed -n 's/^bootstrap //p' "$dir/mock.out")"
        echo "export CVAGENT_TEST_KAFKA_MOCK=$bin"
        exit 0
      fi
      sleep 0.1
    done
    echo "kafka.sh: the mock cluster did not start, see $dir/mock.log" >&2
    exit 1
    ;;
  stop)
    if [[ -f "$dir/pid" ]]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      rm -f "$dir/pid"
    fi
    ;;
  *)
    echo "usage: kafka.sh start|stop DIR" >&2
    exit 2
    ;;
esac

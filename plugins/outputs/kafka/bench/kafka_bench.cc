// The producer path of one agent: outputs.kafka's write() of 1000-metric batches into librdkafka's
// mock cluster (3 brokers, a process of its own), each write waiting for every delivery report.
//
//   bench_output_kafka --benchmark_min_time=3

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "contract/kafka_json.h"
#include "contract/testing/sample_metrics.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "kafka/testing/mock_cluster.h"
#include "kafka_output.h"

namespace {

using cvagent::FieldValue;
using cvagent::Metric;

std::vector<Metric> trades(std::size_t n) {
  static const std::vector<std::string> pairs = {"BTC/USD", "ETH/USD",  "SOL/USD", "ADA/USD",
                                                 "DOT/USD", "LINK/USD", "XRP/USD"};
  std::vector<Metric> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(cvagent::testing::MetricBuilder("trade")
                      .tag("exchange", "kraken")
                      .tag("pair", pairs[i % pairs.size()])
                      .tag("side", i % 2 ? "buy" : "sell")
                      .field("price", FieldValue{95863.2 + static_cast<double>(i % 100)})
                      .field("volume", FieldValue{0.0125})
                      .field("trade_id", FieldValue{static_cast<std::int64_t>(i)})
                      .field("ord_type", "limit")
                      .field("receive_time", FieldValue{std::int64_t{1'795'962'600'123'456'789}})
                      .time(1'795'962'600'123'456'000 + static_cast<std::int64_t>(i)));
  }
  return out;
}

void encodeAll(benchmark::State& state, const std::vector<Metric>& metrics) {
  std::string out;
  for (auto _ : state) {
    for (const auto& m : metrics) {
      out.clear();
      cvagent::contract::appendJson(m, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(metrics.size()));
}

void BM_EncodeTradeShape(benchmark::State& state) { encodeAll(state, trades(1000)); }
BENCHMARK(BM_EncodeTradeShape);

// One metric of every kind of the contract (article's nested legacy keys, alert's milliseconds...).
void BM_EncodeEveryKind(benchmark::State& state) {
  encodeAll(state, cvagent::testing::everyKind());
}
BENCHMARK(BM_EncodeEveryKind);

void BM_ProduceToMockCluster(benchmark::State& state) {
  cvagent::testing::MockCluster cluster(3, {"rawtrade:6"});
  cvagent::testing::TestContext ctx;
  cvagent::outputs::kafka::KafkaOptions options;
  options.brokers = {cluster.bootstrap()};
  using cvagent::outputs::kafka::KafkaFormat;
  options.format = state.range(1) ? KafkaFormat::kInflux : KafkaFormat::kJson;
  options.linger = std::chrono::milliseconds(state.range(2));
  cvagent::outputs::kafka::KafkaOutput output(options, ctx);
  output.connect();
  const auto batch = trades(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const auto result = output.write(batch);
    if (result.status() != cvagent::WriteStatus::kOk || !result.exceptions().empty()) {
      state.SkipWithError("write failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  output.close();
}
BENCHMARK(BM_ProduceToMockCluster)
    ->ArgNames({"batch", "influx", "linger_ms"})
    ->Args({1000, 0, 5})
    ->Args({5000, 0, 5})
    ->Args({5000, 0, 1})
    ->Args({20000, 0, 5})
    ->Args({20000, 0, 1})
    ->Args({20000, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

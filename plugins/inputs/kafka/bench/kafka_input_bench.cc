// The consumer path of one agent: inputs.kafka reading trades (topic JSON shape) from librdkafka's
// mock cluster (3 brokers, a process of its own), decoding them and releasing each metric at once
// (as if every output had stored it), so offsets are stored and committed as in production.
//
//   bench_input_kafka --benchmark_min_time=3

#include <benchmark/benchmark.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "contract/kafka_json.h"
#include "contract/testing/sample_metrics.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "kafka/testing/metric_producer.h"
#include "kafka/testing/mock_cluster.h"
#include "kafka_input.h"

namespace {

using cvagent::FieldValue;
using cvagent::Metric;

double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// user+system CPU seconds of another process (the mock cluster), from /proc.
double childCpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream in(line.substr(line.rfind(')') + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) in >> skip;  // fields 3..13
  double utime = 0, stime = 0;
  in >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class CountingEmitter final : public cvagent::Emitter {
 public:
  void emit(Metric&& metric) override {
    Metric released = std::move(metric);  // destroyed here: the delivery completes
    count.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<std::int64_t> count{0};
};

// Decoding alone: topic shapes back into metrics, as handle() does for each message.
void decodeShapes(benchmark::State& state, const std::vector<Metric>& metrics) {
  std::vector<std::pair<std::string, std::string>> shaped;  // kind, JSON
  for (const Metric& m : metrics) {
    std::string json;
    cvagent::contract::appendJson(m, json);
    shaped.emplace_back(m.name(), std::move(json));
  }
  simdjson::dom::parser parser;
  Metric out;
  std::string error;
  for (auto _ : state) {
    for (const auto& [kind, json] : shaped) {
      if (!cvagent::contract::parseValue(parser, json, kind, 0, out, error)) {
        state.SkipWithError(error.c_str());
        return;
      }
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(shaped.size()));
}

void BM_DecodeTradeShape(benchmark::State& state) {
  std::vector<Metric> trades;
  for (std::int64_t i = 0; i < 1000; ++i) {
    trades.push_back(cvagent::testing::MetricBuilder("trade")
                         .tag("exchange", "kraken")
                         .tag("pair", i % 2 ? "BTC/USD" : "ETH/USD")
                         .tag("side", i % 2 ? "buy" : "sell")
                         .field("price", FieldValue{95863.2 + static_cast<double>(i % 100)})
                         .field("volume", FieldValue{0.0125})
                         .field("trade_id", FieldValue{i})
                         .field("ord_type", "limit")
                         .field("receive_time", FieldValue{std::int64_t{1'795'962'600'123'456'789}})
                         .time(1'795'962'600'123'456'000 + i));
  }
  decodeShapes(state, trades);
}
BENCHMARK(BM_DecodeTradeShape);

void BM_DecodeEveryKind(benchmark::State& state) {
  decodeShapes(state, cvagent::testing::everyKind());
}
BENCHMARK(BM_DecodeEveryKind);

void BM_ConsumeFromMockCluster(benchmark::State& state) {
  const auto messages = state.range(0);
  cvagent::testing::MockCluster cluster(3, {"rawtrade:6"});
  {
    // librdkafka 2.0.2's mock answers a Fetch with one message set per partition, so consumption
    // from it is paced by the producer's batch size: produce the data in big batches.
    cvagent::testing::MetricProducer producer(cluster.bootstrap(),
                                              {{"linger.ms", "50"},
                                               {"batch.size", std::to_string(8 << 20)},
                                               {"message.max.bytes", std::to_string(16 << 20)},
                                               {"batch.num.messages", "100000"},
                                               {"compression.codec", "lz4"}});
    std::vector<Metric> batch;
    static const std::vector<std::string> pairs = {"BTC/USD", "ETH/USD", "SOL/USD",
                                                   "ADA/USD", "DOT/USD", "LINK/USD"};
    for (std::int64_t i = 0; i < messages; ++i) {
      batch.push_back(cvagent::testing::MetricBuilder("trade")
                          .tag("exchange", "kraken")
                          .tag("pair", pairs[static_cast<std::size_t>(i) % pairs.size()])
                          .tag("side", i % 2 ? "buy" : "sell")
                          .field("price", FieldValue{95863.2 + static_cast<double>(i % 100)})
                          .field("volume", FieldValue{0.0125})
                          .field("trade_id", FieldValue{i})
                          .field("ord_type", "limit")
                          .time(1'795'962'600'123'456'000 + i));
    }
    try {
      producer.produce(batch);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  int group = 0;
  double agent_cpu = 0, mock_cpu = 0;
  for (auto _ : state) {
    cvagent::testing::TestContext ctx;
    cvagent::inputs::kafka::KafkaInputOptions options;
    options.brokers = {cluster.bootstrap()};
    options.topics = {"rawtrade"};
    options.group = "bench-" + std::to_string(group++);
    // Second argument: fetch.wait.max.ms when not 0 (no effect on the mock's pace: tried 10, 100).
    if (state.range(1))
      options.properties = {{"fetch.wait.max.ms", std::to_string(state.range(1))}};
    cvagent::inputs::kafka::KafkaInput input(options, ctx);
    CountingEmitter out;
    input.start(out);
    // Timed from the first message (after the group join, which is the mock's fixed delay).
    while (out.count.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto begin = std::chrono::steady_clock::now();
    const double cpu0 = processCpuSeconds(), mock0 = childCpuSeconds(cluster.pid());
    while (out.count.load() < messages) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto end = std::chrono::steady_clock::now();
    agent_cpu += processCpuSeconds() - cpu0;
    mock_cpu += childCpuSeconds(cluster.pid()) - mock0;
    state.SetIterationTime(std::chrono::duration<double>(end - begin).count());
    input.stop();
  }
  state.SetItemsProcessed(state.iterations() * messages);
  // CPU per message, independent of what else the machine runs.
  const double total = static_cast<double>(state.iterations() * messages);
  state.counters["agent_cpu_us_per_msg"] = agent_cpu * 1e6 / total;
  state.counters["mock_cpu_us_per_msg"] = mock_cpu * 1e6 / total;
}
BENCHMARK(BM_ConsumeFromMockCluster)
    ->Args({300000, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();

// Metrics per second through the real runtime: an input -> the bounded queue -> three pass-through
// processors -> one output buffer and worker -> a null output.
//   build/bench/bench_pipeline --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"
#include "runtime/pipeline.h"

namespace cvagent::bench {
namespace {

// Filled before each run; the input moves it out in one gather.
std::vector<Metric> g_prepared;

struct Empty {
  static void describe(Schema<Empty>&) {}
};

class PreparedInput final : public Input {
 public:
  PreparedInput(const Empty&, PluginContext&) {}
  void gather(Emitter& out) override {
    for (auto& m : g_prepared) out.emit(std::move(m));
  }
};

class PassThrough final : public Processor {
 public:
  PassThrough(const Empty&, PluginContext&) {}
  void process(Metric&& m, Emitter& out) override { out.emit(std::move(m)); }
};

std::atomic<std::uint64_t> g_written{0};

class NullOutput final : public Output {
 public:
  NullOutput(const Empty&, PluginContext&) {}
  WriteResult write(std::span<const Metric> batch) override {
    g_written.fetch_add(batch.size(), std::memory_order_relaxed);
    return WriteResult::ok();
  }
};

const PluginDescriptor kInput = inputDescriptor<PreparedInput, Empty>("prepared", "bench");
const PluginDescriptor kPass = processorDescriptor<PassThrough, Empty>("pass", "bench");
const PluginDescriptor kNull = outputDescriptor<NullOutput, Empty>("sink", "bench");

Metric trade(std::int64_t i) {
  Metric m("trade", 1795530420000000000 + i);
  m.setTag("exchange", "kraken");
  m.setTag("pair", "BTC/USD");
  m.setTag("side", i % 2 ? "buy" : "sell");
  m.reserveFields(5);
  m.setField("price", 95863.2 + static_cast<double>(i % 100) / 10);
  m.setField("volume", 0.00125);
  m.setField("trade_id", std::int64_t{83621201} + i);
  m.setField("ord_type", std::string("limit"));
  m.setField("receive_time", std::int64_t{1795530420000000000} + i);
  return m;
}

void BM_PipelineThroughput(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  plugins::PluginRegistry registry({});
  registry.addBuiltin(&kInput);
  registry.addBuiltin(&kPass);
  registry.addBuiltin(&kNull);
  Diagnostics diags;
  auto root = config::parseYaml(R"(
agent: {http: '', queue_size: 10000, state_dir: /tmp/cvagent-bench-state}
inputs:
  - prepared: {}
processors:
  - pass: {}
  - pass: {}
  - pass: {}
outputs:
  - sink: {batch_size: 5000, flush_interval: 10ms, buffer: {max: 100000, when_full: block}}
)",
                                "bench.yaml", config::processEnv(), diags);
  const auto config = config::parsePipeline(*root, diags);
  if (!diags.empty()) {
    state.SkipWithError(diags.front().str().c_str());
    return;
  }
  observability::Telemetry telemetry;
  SystemClock clock;
  for (auto _ : state) {
    state.PauseTiming();
    g_prepared.clear();
    g_prepared.reserve(n);
    for (std::size_t i = 0; i < n; ++i) g_prepared.push_back(trade(static_cast<std::int64_t>(i)));
    g_written = 0;
    runtime::Pipeline pipeline(config, registry, telemetry, clock);
    std::vector<std::string> errors;
    if (!pipeline.build(errors)) state.SkipWithError("build failed");
    state.ResumeTiming();
    pipeline.start(/*once=*/true);
    pipeline.waitInputsDone();
    while (g_written.load(std::memory_order_relaxed) < n) std::this_thread::yield();
    state.PauseTiming();
    pipeline.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_PipelineThroughput)
    ->Arg(1'000'000)
    ->Arg(50'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace cvagent::bench

BENCHMARK_MAIN();

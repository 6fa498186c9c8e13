// Metrics per second through the real runtime: an input -> the bounded queue -> three pass-through
// processors -> one output buffer and worker -> a null output.
//   build/bench/bench_pipeline --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "bench_plugins.h"
#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"
#include "runtime/pipeline.h"

namespace cvagent::bench {
namespace {

void BM_PipelineThroughput(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  plugins::PluginRegistry registry({});
  registry.addBuiltin(&kPreparedInput);
  registry.addBuiltin(&kPassThrough);
  registry.addBuiltin(&kNullOutput);
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

// The disk buffer beside the memory buffer, in the same run:
//  - BM_OutputBuffer/<kind>: metrics/s through the real runtime (input -> queue -> one output's
//    buffer -> its worker -> a null output), the buffer written and read back concurrently;
//    kind 0 = memory, 1 = disk sync: interval, 2 = disk sync: batch.
//  - BM_DiskBufferAppendThenRead/<sync>: the DiskBuffer alone, appending groups of 1,000 then
//    reading everything back and acknowledging it (sync 0 = interval, 1 = batch).
// Disk buffers go to $CVAGENT_BENCH_DIR (default /tmp), a real disk rather than tmpfs.
//   build/dev/bin/bench_disk_buffer --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "bench_plugins.h"
#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"
#include "runtime/disk_buffer.h"
#include "runtime/pipeline.h"

namespace cvagent::bench {
namespace {

// CPU seconds of the whole process (every thread): the cost per metric whatever else the machine
// is running.
double processCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string benchDir() {
  const char* base = std::getenv("CVAGENT_BENCH_DIR");
  std::string templ = std::string(base ? base : "/tmp") + "/cvagent-bench-disk-XXXXXX";
  return ::mkdtemp(templ.data());
}

class NullLogger final : public Logger {
 public:
  bool enabled(LogLevel level) const override { return level >= LogLevel::kWarn; }
  void write(LogLevel, std::string_view message) override {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
  }
};

void BM_OutputBuffer(benchmark::State& state) {
  const std::size_t n = 500'000;
  const int kind = static_cast<int>(state.range(0));
  const std::string dir = benchDir();
  state.SetLabel(kind == 0 ? "memory" : kind == 1 ? "disk, sync: interval" : "disk, sync: batch");
  const std::string buffer = kind == 0 ? "{max: 100000, when_full: block}"
                                       : std::string("{type: disk, when_full: block, sync: ") +
                                             (kind == 1 ? "interval" : "batch") + "}";
  plugins::PluginRegistry registry({});
  registry.addBuiltin(&kPreparedInput);
  registry.addBuiltin(&kNullOutput);
  Diagnostics diags;
  auto root = config::parseYaml("agent: {http: '', queue_size: 10000, state_dir: " + dir +
                                    "}\ninputs:\n  - prepared: {}\noutputs:\n  - sink: "
                                    "{batch_size: 5000, flush_interval: 10ms, buffer: " +
                                    buffer + "}\n",
                                "bench.yaml", config::processEnv(), diags);
  const auto config = config::parsePipeline(*root, diags);
  if (!diags.empty()) {
    state.SkipWithError(diags.front().str().c_str());
    return;
  }
  observability::Telemetry telemetry;
  SystemClock clock;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    g_prepared.clear();
    g_prepared.reserve(n);
    for (std::size_t i = 0; i < n; ++i) g_prepared.push_back(trade(static_cast<std::int64_t>(i)));
    g_written = 0;
    runtime::Pipeline pipeline(config, registry, telemetry, clock);
    std::vector<std::string> errors;
    if (!pipeline.build(errors)) state.SkipWithError(errors.front().c_str());
    const double cpu_before = processCpuSeconds();
    state.ResumeTiming();
    pipeline.start(/*once=*/true);
    pipeline.waitInputsDone();
    while (g_written.load(std::memory_order_relaxed) < n) std::this_thread::yield();
    state.PauseTiming();
    cpu += processCpuSeconds() - cpu_before;
    pipeline.stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["cpu_us_per_metric"] = cpu * 1e6 / static_cast<double>(state.iterations() * n);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OutputBuffer)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DiskBufferAppendThenRead(benchmark::State& state) {
  const std::size_t n = 500'000, group = 1000;
  const bool batch = state.range(0) == 1;
  state.SetLabel(batch ? "sync: batch" : "sync: interval");
  std::vector<Metric> in;
  for (std::size_t i = 0; i < n; ++i) in.push_back(trade(static_cast<std::int64_t>(i)));
  NullLogger log;
  std::uint64_t bytes = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = benchDir();
    runtime::DiskBufferOptions o;
    o.directory = dir;
    o.sync = batch ? runtime::DiskSync::kBatch : runtime::DiskSync::kInterval;
    const double cpu_before = processCpuSeconds();
    state.ResumeTiming();
    {
      runtime::DiskBuffer buffer(o, log);
      for (std::size_t i = 0; i < n; i += group) buffer.append(std::span(in).subspan(i, group));
      bytes = buffer.diskBytes();
      std::vector<Metric> out;
      out.reserve(5000);
      std::size_t read = 0;
      while (true) {
        runtime::DiskPosition end;
        out.clear();
        const std::size_t got = buffer.read(out, 5000, end);
        buffer.acknowledge(end);
        read += got;
        if (got == 0) break;
      }
      if (read != n) state.SkipWithError("read back fewer than written");
    }
    state.PauseTiming();
    cpu += processCpuSeconds() - cpu_before;
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["bytes_per_metric"] = static_cast<double>(bytes) / static_cast<double>(n);
  state.counters["cpu_us_per_metric"] = cpu * 1e6 / static_cast<double>(state.iterations() * n);
}
BENCHMARK(BM_DiskBufferAppendThenRead)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace cvagent::bench

BENCHMARK_MAIN();

// Memory while a disk buffer grows: an input generating trades as fast as it can, an output that is
// down (every write answered "retry"), `buffer: {type: disk}`. Prints the resident memory each time
// another 128 MiB are on disk, until the target (default 2 GiB) is reached.
//   build/dev/bin/bench_disk_buffer_rss [target-bytes] [directory]
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "bench_plugins.h"
#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"
#include "runtime/pipeline.h"

namespace cvagent::bench {
namespace {

class Generator final : public Input {
 public:
  Generator(const Empty&, PluginContext&) {}
  void gather(Emitter& out) override {
    for (int k = 0; k < 20'000; ++k, ++i_) {
      Metric m("trade", 1795530420000000000 + i_);
      m.setTag("exchange", "kraken");
      m.setTag("pair", "BTC/USD");
      m.setTag("side", i_ % 2 ? "buy" : "sell");
      m.setField("price", 95863.2 + static_cast<double>(i_ % 100) / 10);
      m.setField("volume", 0.00125);
      m.setField("trade_id", std::int64_t{83621201} + i_);
      m.setField("ord_type", std::string("limit"));
      out.emit(std::move(m));
    }
  }

 private:
  std::int64_t i_ = 0;
};

class DownOutput final : public Output {
 public:
  DownOutput(const Empty&, PluginContext&) {}
  WriteResult write(std::span<const Metric>) override {
    return WriteResult::retry("the database is down");
  }
};

const PluginDescriptor kGenerator = inputDescriptor<Generator, Empty>("generator", "bench");
const PluginDescriptor kDown = outputDescriptor<DownOutput, Empty>("down", "bench");

double rssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

std::uint64_t directoryBytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

}  // namespace
}  // namespace cvagent::bench

int main(int argc, char** argv) {
  using namespace cvagent;
  using namespace cvagent::bench;
  const std::uint64_t target = argc > 1 ? std::stoull(argv[1]) : (2ull << 30);
  std::string dir;
  if (argc > 2) {
    dir = argv[2];
  } else {
    std::string templ = "/tmp/cvagent-bench-rss-XXXXXX";
    dir = ::mkdtemp(templ.data());
  }
  plugins::PluginRegistry registry({});
  registry.addBuiltin(&kGenerator);
  registry.addBuiltin(&kDown);
  Diagnostics diags;
  auto root = config::parseYaml(
      "agent: {http: '', log_level: error, state_dir: " + dir +
          "}\ninputs:\n  - generator: {interval: 1ms}\noutputs:\n  - down: {batch_size: 1000, "
          "retry: {initial: 1s, max: 1s}, buffer: {type: disk, max_bytes: 100GiB, when_full: "
          "block}}\n",
      "rss.yaml", config::processEnv(), diags);
  const auto config = config::parsePipeline(*root, diags);
  if (!diags.empty()) {
    std::fprintf(stderr, "%s\n", diags.front().str().c_str());
    return 2;
  }
  observability::Telemetry telemetry;
  SystemClock clock;
  runtime::Pipeline pipeline(config, registry, telemetry, clock);
  std::vector<std::string> errors;
  if (!pipeline.build(errors)) {
    std::fprintf(stderr, "%s\n", errors.front().c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  pipeline.start();
  std::printf("%10s %12s %10s\n", "seconds", "disk MiB", "RSS MiB");
  std::uint64_t next = 0;
  double first_rss = 0, max_rss = 0;
  while (true) {
    const std::uint64_t bytes = directoryBytes(dir);
    const double rss = rssMiB();
    max_rss = std::max(max_rss, rss);
    if (bytes >= next) {
      if (next == 0) first_rss = rss;
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("%10.1f %12.0f %10.1f\n", secs, static_cast<double>(bytes) / (1 << 20), rss);
      std::fflush(stdout);
      next += 128ull << 20;
    }
    if (bytes >= target) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  pipeline.stop(std::chrono::steady_clock::now());
  std::printf("metrics gathered: %llu; RSS first %.1f MiB, highest %.1f MiB\n",
              static_cast<unsigned long long>(pipeline.stats().gathered), first_rss, max_rss);
  if (argc <= 2) std::filesystem::remove_all(dir);
  return 0;
}

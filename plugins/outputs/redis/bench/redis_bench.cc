// outputs.redis throughput into a local redis-server (no persistence), next to redis-benchmark's
// pipelined HSET and XADD against the same server in the same run: the limit on this machine.
//   build/dev/bin/bench_redis   (or the build's bench_redis path)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "redis_output.h"
#include "redis_server.h"

namespace cvagent::outputs::redis {
namespace {

testing::RedisServer* server = nullptr;

std::vector<Metric> makeBatch(std::size_t size, std::int64_t& next_time) {
  static const char* pairs[] = {"BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD",
                                "ADA/USD", "DOT/USD", "LTC/USD", "DOGE/USD"};
  std::vector<Metric> batch;
  batch.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    Metric m("trade", next_time);
    next_time += 1000;
    m.setTag("exchange", "kraken");
    m.setTag("pair", pairs[i % 8]);
    m.setField("price", 95863.2 + static_cast<double>(i));
    m.setField("volume", 0.0125);
    m.setField("side", std::string("buy"));
    batch.push_back(std::move(m));
  }
  return batch;
}

void runModes(benchmark::State& state, std::vector<std::string> modes) {
  cvagent::testing::TestContext context;
  RedisOptions options;
  // Over TCP as in production; CVAGENT_BENCH_REDIS_UNIX=1 for the unix socket.
  options.endpoint = Secret(std::getenv("CVAGENT_BENCH_REDIS_UNIX") ? "unix:" + server->socketPath()
                                                                    : server->url());
  options.modes = std::move(modes);
  RedisOutput out(options, context);
  // Google Benchmark runs a function several times on the same server: event times keep rising
  // across runs so no entry is refused as a replay.
  static std::int64_t next_time = 1'795'962'600'000'000'000;
  const auto size = static_cast<std::size_t>(state.range(0));
  // Fresh event times every batch so every entry is really added (a replay would be refused).
  std::vector<std::vector<Metric>> batches;
  for (int i = 0; i < 64; ++i) batches.push_back(makeBatch(size, next_time));
  std::size_t b = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (b == batches.size()) {
      b = 0;
      for (auto& batch : batches) batch = makeBatch(size, next_time);
    }
    state.ResumeTiming();
    const WriteResult r = out.write(batches[b++]);
    if (r.status() != WriteStatus::kOk || !r.exceptions().empty()) {
      state.SkipWithError(r.reason().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_RedisStream(benchmark::State& state) { runModes(state, {"stream"}); }
void BM_RedisLatest(benchmark::State& state) { runModes(state, {"latest"}); }
void BM_RedisStreamAndLatest(benchmark::State& state) { runModes(state, {"stream", "latest"}); }
void BM_RedisTimeseries(benchmark::State& state) { runModes(state, {"timeseries"}); }
BENCHMARK(BM_RedisStream)->Arg(1000)->Arg(5000)->UseRealTime();
BENCHMARK(BM_RedisLatest)->Arg(1000)->UseRealTime();
BENCHMARK(BM_RedisStreamAndLatest)->Arg(1000)->UseRealTime();
BENCHMARK(BM_RedisTimeseries)->Arg(1000)->UseRealTime();

// redis-benchmark's pipelined HSET and XADD (100 commands per round trip, one client, as
// outputs.redis uses one connection) on the same server.
void runRedisBenchmark() {
  // redis-benchmark has no built-in XADD test: XADD is given as a command, with the JSON of a
  // benchmark metric and the output's default trimming.
  const std::string base = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(server->port()) +
                           " -c 1 -P 100 -n 1000000 -q ";
  const std::string json =
      R"('{"name":"trade","tags":{"exchange":"kraken","pair":"BTC/USD"},"fields":{"price":95863.2,)"
      R"("volume":0.0125,"side":"buy"},"time":1795962600000000000}')";
  for (const std::string& command :
       {base + "-t hset",
        base + "XADD redis-benchmark:stream MAXLEN '~' 100000 '*' json " + json}) {
    std::printf("$ %s\n", command.c_str());
    std::unique_ptr<FILE, decltype(&pclose)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    if (!pipe) return;
    std::string output;
    char chunk[4096];
    while (const std::size_t n = std::fread(chunk, 1, sizeof(chunk), pipe.get())) {
      output.append(chunk, n);
    }
    // -q redraws its progress with carriage returns; keep the final line.
    std::string last;
    for (std::size_t start = 0; start < output.size();) {
      std::size_t end = output.find_first_of("\r\n", start);
      if (end == std::string::npos) end = output.size();
      const std::string line = output.substr(start, end - start);
      if (line.find("requests per second") != std::string::npos) last = line;
      start = end + 1;
    }
    std::printf("%s\n", last.c_str());
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace cvagent::outputs::redis

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  cvagent::outputs::redis::testing::RedisServer server("", /*durable=*/false);
  cvagent::outputs::redis::server = &server;
  cvagent::outputs::redis::runRedisBenchmark();
  benchmark::RunSpecifiedBenchmarks();
  // The server's own time per command, to tell its cost from the client's and the link's.
  const std::string stats = "redis-cli -s " + server.socketPath() + " INFO commandstats";
  std::fflush(stdout);
  if (std::system(stats.c_str()) != 0) std::fprintf(stderr, "redis-cli failed\n");
  benchmark::Shutdown();
  return 0;
}

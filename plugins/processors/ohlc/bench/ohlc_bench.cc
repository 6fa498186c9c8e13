// Throughput of processors.ohlc on in-memory trades: 50 pairs x 3 intervals on one core.
//
//   bench_processor_ohlc --benchmark_min_time=1

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "ohlc_processor.h"

namespace cvagent::processors::ohlc {
namespace {

using namespace std::chrono_literals;

// Counts what comes out and hands passed-through trades back to the ring they came from, so the
// loop measures the processor rather than building metrics.
class RecyclingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    if (metric.name() == "trade") {
      recycled = std::move(metric);
      ++trades;
    } else {
      ++candles;
    }
  }
  Metric recycled;
  std::int64_t trades = 0;
  std::int64_t candles = 0;
};

void BM_OhlcTrades(benchmark::State& state) {
  const int pairs = static_cast<int>(state.range(0));
  cvagent::testing::TestContext context;
  OhlcOptions options;
  options.intervals = {1min, 5min, 1h};
  options.grace = 2s;
  OhlcProcessor processor(options, context);
  RecyclingEmitter out;

  constexpr std::size_t kRing = 4096;
  std::mt19937_64 rng(1);
  std::vector<Metric> ring;
  std::vector<double> prices;
  for (std::size_t i = 0; i < kRing; ++i) {
    Metric m("trade", 0);
    m.setTag("exchange", "kraken");
    m.setTag("pair", "C" + std::to_string(rng() % static_cast<std::uint64_t>(pairs)) + "/USD");
    m.setTag("side", i % 2 ? "buy" : "sell");
    m.setField("price", 0.0);
    m.setField("volume", static_cast<double>(1 + rng() % 1000) / 1000);
    m.setField("trade_id", static_cast<std::int64_t>(i));
    m.setField("ord_type", std::string("limit"));
    ring.push_back(std::move(m));
    prices.push_back(100 + static_cast<double>(rng() % 10000) / 100);
  }
  // 1 ms of event time per trade: a 1m window closes every 60,000 trades, as in a busy feed.
  std::int64_t time = 1'795'530'420'000'000'000;
  std::size_t i = 0;
  for (auto _ : state) {
    Metric& m = ring[i];
    m.setTime(time);
    *m.field("price") = prices[i];
    processor.process(std::move(m), out);
    ring[i] = std::move(out.recycled);
    time += 1'000'000;
    i = (i + 1) & (kRing - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["candles"] = static_cast<double>(out.candles);
}
BENCHMARK(BM_OhlcTrades)->Arg(50);

}  // namespace
}  // namespace cvagent::processors::ohlc

BENCHMARK_MAIN();

// Throughput of processors.alert on in-memory tickers, one core: 100 rules over 50 pairs.
//
//   bench_alert --benchmark_min_time=1
//
// BM_AlertTickers/0: each pair has two rules of its own (the 100 rules are change 5m, threshold,
// zscore 10m and absence, 25 of each, each bound to one pair by its `pair` tag).
// BM_AlertTickers/1: the worst case, all 100 rules match every pair (pair: "*"), so every ticker is
// evaluated 100 times.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "alert_processor.h"
#include "cvagent/testing/test_context.h"

namespace cvagent::processors::alert {
namespace {

using namespace std::chrono_literals;

class RecyclingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    if (metric.name() == "ticker") {
      recycled = std::move(metric);
    } else {
      ++alerts;
    }
  }
  Metric recycled;
  std::int64_t alerts = 0;
};

std::string pairName(int i) { return "C" + std::to_string(i) + "/USD"; }

AlertOptions hundredRules(bool every_pair) {
  AlertOptions options;
  for (int r = 0; r < 100; ++r) {
    RuleOptions rule;
    rule.id = "rule" + std::to_string(r);
    rule.metric = "ticker";
    rule.field = "last";
    rule.tags = {{"pair", every_pair ? std::string("*") : pairName(r % 50)}};
    rule.cooldown = 1min;
    rule.hysteresis_pct = 10;
    switch (r / 25) {
      case 0:
        rule.kind = "change";
        rule.window = 5min;
        rule.threshold_pct = 1.0;
        break;
      case 1:
        rule.kind = "threshold";
        rule.above = 101;
        break;
      case 2:
        rule.kind = "zscore";
        rule.window = 10min;
        rule.threshold = 4;
        break;
      default:
        rule.kind = "absence";
        rule.window = 1min;
        break;
    }
    options.rules.push_back(std::move(rule));
  }
  return options;
}

void BM_AlertTickers(benchmark::State& state) {
  cvagent::testing::TestContext context;
  AlertProcessor processor(hundredRules(state.range(0) != 0), context);
  RecyclingEmitter out;

  constexpr std::size_t kRing = 4096;
  std::mt19937_64 rng(7);
  std::vector<Metric> ring;
  for (std::size_t i = 0; i < kRing; ++i) {
    Metric m("ticker", 0);
    m.setTag("exchange", "kraken");
    m.setTag("pair", pairName(static_cast<int>(rng() % 50)));
    m.setField("last", 100.0);
    m.setField("bid", 99.9);
    m.setField("ask", 100.1);
    m.setField("volume_24h", 1234.5);
    ring.push_back(std::move(m));
  }
  // A random walk of +-0.01 % steps: rules fire and clear now and then, as on a real feed.
  std::vector<double> steps;
  for (std::size_t i = 0; i < kRing; ++i) {
    steps.push_back(1.0 + (static_cast<double>(rng() % 2001) - 1000.0) * 1e-7);
  }
  double price = 100;
  // 1 ms of event time per ticker: each pair ticks every ~50 ms.
  std::int64_t time = 1'795'530'420'000'000'000;
  std::size_t i = 0;
  for (auto _ : state) {
    Metric& m = ring[i];
    m.setTime(time);
    price *= steps[i];
    *m.field("last") = price;
    processor.process(std::move(m), out);
    ring[i] = std::move(out.recycled);
    time += 1'000'000;
    i = (i + 1) & (kRing - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["alerts"] = static_cast<double>(out.alerts);
}
BENCHMARK(BM_AlertTickers)->Arg(0)->Arg(1);

}  // namespace
}  // namespace cvagent::processors::alert

BENCHMARK_MAIN();

// Throughput of processors.forecast on in-memory 1m candles: one model at a time (and all four),
// horizons 1m and 5m, over 1 or 50 pairs, on one core. Every point resolves two forecasts and makes
// two, so each point emits four prediction metrics per model.
//
//   bench_forecast --benchmark_min_time=1

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "forecast_processor.h"

namespace cvagent::processors::forecast {
namespace {

using namespace std::chrono_literals;

// Hands passed-through candles back to the ring they came from and drops predictions, so the loop
// measures the processor (including building its prediction metrics) rather than a sink.
class RecyclingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    if (metric.name() == "candle") {
      recycled = std::move(metric);
    } else {
      ++predictions;
    }
  }
  Metric recycled;
  std::int64_t predictions = 0;
};

void runBench(benchmark::State& state, std::vector<std::string> models) {
  const int kPairs = static_cast<int>(state.range(0));
  cvagent::testing::TestContext context;
  ForecastOptions options;
  options.models = std::move(models);
  options.horizons = {1min, 5min};
  if (const char* w = std::getenv("FORECAST_ERROR_WINDOW")) options.error_window = std::atoi(w);
  ForecastProcessor processor(options, context);
  RecyclingEmitter out;

  // One candle per pair per minute, pairs in turn; closes follow a random walk per pair.
  const std::size_t kRing = static_cast<std::size_t>(kPairs) * 64;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> step(0, 0.001);
  std::vector<Metric> ring;
  std::vector<double> closes;
  std::vector<double> price(static_cast<std::size_t>(kPairs), 100);
  for (std::size_t i = 0; i < kRing; ++i) {
    const int pair = static_cast<int>(i % kPairs);
    Metric m("candle", 0);
    m.setTag("exchange", "kraken");
    m.setTag("interval", "1m");
    m.setTag("pair", "C" + std::to_string(pair) + "/USD");
    m.setField("open", 0.0);
    m.setField("high", 0.0);
    m.setField("low", 0.0);
    m.setField("close", 0.0);
    m.setField("volume", 1.0);
    m.setField("partial", false);
    ring.push_back(std::move(m));
    price[static_cast<std::size_t>(pair)] *= std::exp(step(rng));
    closes.push_back(price[static_cast<std::size_t>(pair)]);
  }
  std::int64_t minute = 29'930'000;
  std::size_t i = 0;
  // The ring repeats its closes every 64 minutes: a jump back at the seam, harmless for speed.
  for (auto _ : state) {
    Metric& m = ring[i];
    m.setTime(minute * 60'000'000'000);
    *m.field("close") = closes[i];
    processor.process(std::move(m), out);
    ring[i] = std::move(out.recycled);
    if (++i % kPairs == 0) ++minute;
    if (i == kRing) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["predictions_per_point"] =
      static_cast<double>(out.predictions) / static_cast<double>(state.iterations());
}

void BM_ForecastNaive(benchmark::State& s) { runBench(s, {"naive"}); }
void BM_ForecastMovingAverage(benchmark::State& s) { runBench(s, {"moving_average"}); }
void BM_ForecastHolt(benchmark::State& s) { runBench(s, {"holt"}); }
void BM_ForecastAr(benchmark::State& s) { runBench(s, {"ar"}); }
void BM_ForecastAllModels(benchmark::State& s) {
  runBench(s, {"naive", "moving_average", "holt", "ar"});
}
BENCHMARK(BM_ForecastNaive)->Arg(1)->Arg(50);
BENCHMARK(BM_ForecastMovingAverage)->Arg(1)->Arg(50);
BENCHMARK(BM_ForecastHolt)->Arg(1)->Arg(50);
BENCHMARK(BM_ForecastAr)->Arg(1)->Arg(50);
BENCHMARK(BM_ForecastAllModels)->Arg(1)->Arg(50);

// The models alone, as the processor drives them for one series: per point, score the forecasts
// due (2 horizons: error tracking with the sorted conformal window), update, forecast, and look up
// both intervals; no metric is built.
void BM_ModelStep(benchmark::State& state) {
  const auto kind = static_cast<ModelKind>(state.range(0));
  auto model = makeModel(kind, ModelSettings{});
  std::vector<ErrorTracker> errors(2, ErrorTracker(500));
  const std::size_t steps[2] = {1, 5};
  std::vector<double> closes(4096);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> step(0, 0.001);
  double price = 100;
  for (double& c : closes) c = price *= std::exp(step(rng));
  // Pending forecasts of each horizon, by target step (ring of 8 > the 5-step horizon).
  double pending[2][8] = {};
  double forecast[5];
  std::size_t t = 0;
  for (auto _ : state) {
    const double value = closes[t & 4095];
    for (int h = 0; h < 2; ++h) {
      const double predicted = pending[h][t & 7];
      if (predicted > 0) errors[static_cast<std::size_t>(h)].record(predicted, value, true, true);
    }
    model->update(value);
    if (model->ready()) {
      model->forecast(5, forecast);
      for (int h = 0; h < 2; ++h) {
        double low = 0, high = 0;
        errors[static_cast<std::size_t>(h)].interval(forecast[steps[h] - 1], 0.8, low, high);
        pending[h][(t + steps[h]) & 7] = forecast[steps[h] - 1];
        benchmark::DoNotOptimize(low);
        benchmark::DoNotOptimize(high);
      }
    }
    ++t;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(kModelNames[static_cast<std::size_t>(kind)]));
}
BENCHMARK(BM_ModelStep)->DenseRange(0, 3);

}  // namespace
}  // namespace cvagent::processors::forecast

BENCHMARK_MAIN();

// processors.forecast end to end on hand-built candle streams: the prediction shape, actuals
// joined to the right forecast, interval coverage, NaN/inf, gaps, late values, configuration.

#include "forecast_processor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "cvagent/text.h"

namespace cvagent::processors::forecast {
namespace {

using namespace std::chrono_literals;
using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;

constexpr std::int64_t kMinute = 60'000'000'000;
constexpr std::int64_t kStart = 29'930'000 * kMinute;  // 2026-11-28 around 21:20 UTC

Metric candle(std::int64_t minute, double close, std::string pair = "XBT/USD",
              std::string interval = "1m") {
  return MetricBuilder("candle")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .tag("interval", interval)
      .field("open", close)
      .field("close", close)
      .field("partial", false)
      .time(kStart + minute * kMinute);
}

ForecastOptions options(std::vector<std::string> models,
                        std::vector<std::chrono::nanoseconds> horizons = {1min}) {
  ForecastOptions o;
  o.models = std::move(models);
  o.horizons = std::move(horizons);
  return o;
}

const std::string& tagOf(const Metric& m, std::string_view key) {
  static const std::string none = "<none>";
  const std::string* v = m.tag(key);
  return v ? *v : none;
}

double fieldOf(const Metric& m, std::string_view key) {
  double v = std::numeric_limits<double>::quiet_NaN();
  m.numberField(key, v);
  return v;
}

std::vector<Metric> predictions(std::vector<Metric> all) {
  std::vector<Metric> out;
  for (auto& m : all) {
    if (m.name() == "prediction") out.push_back(std::move(m));
  }
  return out;
}

TEST(ForecastProcessor, EmitsTheContractShapeAndJoinsEachActualToItsForecast) {
  TestContext context;
  ForecastProcessor p(options({"naive"}, {1min, 2min}), context);
  CapturingEmitter out;
  const std::vector<double> closes = {100, 101, 103, 106};
  for (std::size_t i = 0; i < closes.size(); ++i) {
    p.process(candle(static_cast<std::int64_t>(i), closes[i]), out);
  }
  auto all = out.take();
  // Candles pass on unchanged.
  std::size_t candles = 0;
  for (const auto& m : all) candles += m.name() == "candle";
  EXPECT_EQ(candles, closes.size());

  // Key (time, horizon) -> the forecast and, later, its resolution.
  std::map<std::tuple<std::int64_t, std::string>, std::vector<Metric>> by_key;
  for (auto& m : predictions(all)) {
    EXPECT_EQ(tagOf(m, "symbol"), "BTC");
    EXPECT_EQ(tagOf(m, "pair"), "XBT/USD");
    EXPECT_EQ(tagOf(m, "model"), "naive");
    EXPECT_EQ(m.tags().size(), 4u);
    by_key[{m.time(), tagOf(m, "horizon")}].push_back(std::move(m));
  }
  // Forecast made at minute i for minute i + h is the close of minute i; its resolution carries
  // the close of minute i + h, under the same time and tags.
  for (std::size_t i = 0; i < closes.size(); ++i) {
    for (int h : {1, 2}) {
      const std::int64_t target = kStart + (static_cast<std::int64_t>(i) + h) * kMinute;
      const auto it = by_key.find({target, h == 1 ? "1m" : "2m"});
      ASSERT_NE(it, by_key.end()) << i << " " << h;
      const auto& emitted = it->second;
      EXPECT_EQ(fieldOf(emitted[0], "predicted_price"), closes[i]);
      EXPECT_TRUE(std::isnan(fieldOf(emitted[0], "actual_price")));
      if (i + static_cast<std::size_t>(h) < closes.size()) {
        ASSERT_EQ(emitted.size(), 2u);
        EXPECT_EQ(emitted[1].tags(), emitted[0].tags());
        EXPECT_EQ(fieldOf(emitted[1], "predicted_price"), closes[i]);
        EXPECT_EQ(fieldOf(emitted[1], "actual_price"), closes[i + static_cast<std::size_t>(h)]);
        EXPECT_EQ(fieldOf(emitted[1], "mae"), fieldOf(emitted[1], "mae"));  // present
      } else {
        EXPECT_EQ(emitted.size(), 1u);
      }
    }
  }
  // Minute 3's 1m forecast was resolved by minute 3's actual: MAE over |101-100|, |103-101|,
  // |106-103|.
  const auto& last = by_key[{kStart + 3 * kMinute, "1m"}];
  ASSERT_EQ(last.size(), 2u);
  EXPECT_DOUBLE_EQ(fieldOf(last[1], "mae"), 2.0);
  EXPECT_DOUBLE_EQ(fieldOf(last[1], "relative_mae"), 1.0);
  EXPECT_EQ(context.counterValue("forecast_resolved_total"), 3 + 2);
  EXPECT_EQ(context.counterValue("forecast_predictions_total"), 8);
}

TEST(ForecastProcessor, IntervalsAppearOnceCalibratedAndTheSymbolFollowsTheContract) {
  TestContext context;
  ForecastProcessor p(options({"naive"}), context);
  CapturingEmitter out;
  for (int i = 0; i < 10; ++i) p.process(candle(i, 3000 + i, "ETH/USD"), out);
  const auto preds = predictions(out.take());
  // Level 0.8 needs 4 resolved errors: forecasts made at minutes 0..3 have none.
  for (const auto& m : preds) {
    EXPECT_EQ(tagOf(m, "symbol"), "ETH");
    const bool calibrated = m.time() >= kStart + 5 * kMinute;
    EXPECT_EQ(m.field("ci_low") != nullptr, calibrated) << m.time();
    if (calibrated) {
      EXPECT_LE(fieldOf(m, "ci_low"), fieldOf(m, "predicted_price"));
      EXPECT_GE(fieldOf(m, "ci_high"), fieldOf(m, "predicted_price"));
    }
  }
}

// A random walk in log price: coverage of every model's interval must be within 3 points of
// nominal over 10,000 steps (fixed seed).
double coverageOnRandomWalk(const std::string& model, std::chrono::nanoseconds horizon,
                            double level) {
  TestContext context;
  ForecastOptions o = options({model}, {horizon});
  o.interval_level = level;
  ForecastProcessor p(o, context);
  CapturingEmitter out;
  std::mt19937_64 rng(20261201);
  std::normal_distribution<double> step(0, 0.001);
  double log_price = std::log(60'000.0);
  std::int64_t with_interval = 0, covered = 0;
  for (int i = 0; i < 10'000; ++i) {
    log_price += step(rng);
    p.process(candle(i, std::exp(log_price)), out);
    for (const auto& m : out.take()) {
      if (m.name() != "prediction" || !m.field("actual_price") || !m.field("ci_low")) continue;
      ++with_interval;
      const double actual = fieldOf(m, "actual_price");
      covered += actual >= fieldOf(m, "ci_low") && actual <= fieldOf(m, "ci_high");
    }
  }
  EXPECT_GT(with_interval, 9'900);
  const double coverage = static_cast<double>(covered) / static_cast<double>(with_interval);
  // The gauge agrees with the count over its rolling window, roughly.
  p.tick(0, out);
  const std::string gauge = "forecast_" + model + "_" + formatDuration(horizon) + "_coverage";
  EXPECT_NEAR(context.gaugeValue(gauge), coverage, 0.06) << gauge;
  std::printf("coverage %s %s at %.2f: %.4f\n", model.c_str(), formatDuration(horizon).c_str(),
              level, coverage);
  return coverage;
}

TEST(ForecastProcessor, IntervalCoverageOnARandomWalkIsWithinThreePointsOfNominal) {
  for (const std::string model : {"naive", "moving_average", "holt", "ar"}) {
    for (auto horizon : {1min, 5min}) {
      EXPECT_NEAR(coverageOnRandomWalk(model, horizon, 0.8), 0.8, 0.03)
          << model << " " << formatDuration(horizon);
    }
    EXPECT_NEAR(coverageOnRandomWalk(model, 1min, 0.95), 0.95, 0.03) << model;
  }
}

TEST(ForecastProcessor, NanAndInfAreSkippedAndCountedWithoutPoisoningAModel) {
  TestContext clean_context, dirty_context;
  ForecastOptions o = options({"naive", "moving_average", "holt", "ar"}, {1min, 5min});
  ForecastProcessor clean(o, clean_context), dirty(o, dirty_context);
  CapturingEmitter clean_out, dirty_out;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> step(0, 0.002);
  double price = 100;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 2000; ++i) {
    price *= std::exp(step(rng));
    // The dirty stream gets a bad value in the same minute before the good one, and whole bad
    // minutes the clean stream simply does not have.
    if (i % 7 == 0) dirty.process(candle(i, i % 2 ? nan : -inf), dirty_out);
    if (i % 100 == 50) {
      dirty.process(candle(i, inf), dirty_out);
      continue;
    }
    dirty.process(candle(i, price), dirty_out);
    clean.process(candle(i, price), clean_out);
  }
  EXPECT_EQ(dirty_context.counterValue("forecast_nonfinite_points_total"), 286 + 20);
  EXPECT_EQ(dirty_context.counterValue("forecast_invalid_points_total"), 0);
  EXPECT_EQ(dirty_context.counterValue("forecast_points_total"),
            clean_context.counterValue("forecast_points_total"));
  const auto a = predictions(clean_out.take());
  const auto b = predictions(dirty_out.take());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << i;
    for (const auto& f : a[i].fields()) {
      ASSERT_TRUE(std::isfinite(std::get<double>(f.value))) << f.key;
    }
  }
}

TEST(ForecastProcessor, GapsLeaveForecastsUnresolvedAndLateValuesAreSkipped) {
  TestContext context;
  ForecastProcessor p(options({"naive"}, {1min}), context);
  CapturingEmitter out;
  p.process(candle(0, 100), out);
  p.process(candle(1, 101), out);
  p.process(candle(4, 104), out);  // minute 2 never comes: its forecast gets no actual
  p.process(candle(3, 103), out);  // out of order
  p.process(candle(4, 105), out);  // an amended candle of a used minute
  EXPECT_EQ(context.counterValue("forecast_unresolved_total"), 1);
  EXPECT_EQ(context.counterValue("forecast_late_points_total"), 2);
  EXPECT_EQ(context.counterValue("forecast_resolved_total"), 1);
  // The forecast from minute 4 is the first value seen in it.
  const auto preds = predictions(out.take());
  EXPECT_EQ(fieldOf(preds.back(), "predicted_price"), 104);
  EXPECT_EQ(preds.back().time(), kStart + 5 * kMinute);
}

TEST(ForecastProcessor, SeriesAreSelectedByMetricFieldAndTagGlobs) {
  TestContext context;
  ForecastOptions o = options({"naive"});
  o.series = {SeriesOptions{"candle", "close", {{"interval", "1m"}, {"pair", "BTC/*"}}}};
  ForecastProcessor p(o, context);
  CapturingEmitter out;
  for (int i = 0; i < 3; ++i) {
    p.process(candle(i, 100 + i, "BTC/USD"), out);
    p.process(candle(i, 200 + i, "BTC/EUR"), out);
    p.process(candle(i, 300 + i, "ETH/USD"), out);        // pair filtered out
    p.process(candle(i * 5, 400, "BTC/USD", "5m"), out);  // interval filtered out
    Metric partial = candle(i, 1);
    partial.setTag("pair", "BTC/USD");
    partial.setField("partial", true);  // open candle: not the minute's value
    p.process(std::move(partial), out);
    // A candle without the field is counted, not forecast.
    p.process(MetricBuilder("candle")
                  .tag("pair", "BTC/GBP")
                  .tag("interval", "1m")
                  .field("open", 1.0)
                  .time(kStart + i * kMinute),
              out);
  }
  std::map<std::string, int> per_pair;
  for (const auto& m : predictions(out.take())) ++per_pair[tagOf(m, "pair")];
  EXPECT_EQ(per_pair, (std::map<std::string, int>{{"BTC/EUR", 5}, {"BTC/USD", 5}}));
  EXPECT_EQ(context.counterValue("forecast_invalid_points_total"), 3);
  EXPECT_EQ(context.counterValue("forecast_points_total"), 6);
}

TEST(ForecastProcessor, TickerLastOnAOneMinuteGridTakesTheFirstValueOfEachMinute) {
  TestContext context;
  ForecastOptions o = options({"naive"});
  o.series = {SeriesOptions{"ticker", "last", {}, 1min}};
  ForecastProcessor p(o, context);
  CapturingEmitter out;
  for (int s = 0; s < 180; s += 20) {
    p.process(MetricBuilder("ticker")
                  .tag("pair", "SOL/USD")
                  .field("last", 150.0 + s)
                  .time(kStart + s * 1'000'000'000LL + 5),
              out);
  }
  const auto preds = predictions(out.take());
  ASSERT_FALSE(preds.empty());
  // Minutes 0, 1, 2 start with the ticks at 0 s, 60 s, 120 s.
  EXPECT_EQ(fieldOf(preds[0], "predicted_price"), 150);
  EXPECT_EQ(preds[0].time(), kStart + kMinute);
  // Then minute 2 resolves minute 1's forecast, before forecasting itself.
  ASSERT_GE(preds.size(), 2u);
  EXPECT_EQ(fieldOf(preds[preds.size() - 2], "actual_price"), 270);
  EXPECT_EQ(fieldOf(preds.back(), "predicted_price"), 270);
  EXPECT_EQ(tagOf(preds[0], "symbol"), "SOL");
  EXPECT_EQ(context.counterValue("forecast_late_points_total"), 6);
}

TEST(ForecastProcessor, MaxSeriesBoundsState) {
  TestContext context;
  ForecastOptions o = options({"naive"});
  o.max_series = 2;
  ForecastProcessor p(o, context);
  CapturingEmitter out;
  for (const char* pair : {"A/USD", "B/USD", "C/USD", "D/USD"}) p.process(candle(0, 1, pair), out);
  EXPECT_EQ(context.counterValue("forecast_series_dropped_total"), 2);
  EXPECT_EQ(out.take().size(), 4u + 2u);
}

TEST(ForecastOptionsCheck, BadConfigurationsAreRejectedWithTheReason) {
  auto error = [](const ForecastOptions& o) {
    try {
      validate(o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ForecastOptions o;
  EXPECT_EQ(error(o), "");
  o.models = {"naive", "prophet"};
  EXPECT_NE(error(o).find("unknown model `prophet`"), std::string::npos);
  o = ForecastOptions{};
  o.horizons = {1min, 0s};
  EXPECT_NE(error(o).find("horizon `0s` must be positive"), std::string::npos) << error(o);
  o = ForecastOptions{};
  o.horizons = {90s};
  EXPECT_NE(error(o).find("whole number of steps"), std::string::npos);
  o = ForecastOptions{};
  o.series[0].field = "cloze";
  EXPECT_NE(error(o).find("`candle` metrics have no numeric field `cloze`; did you mean 'close'"),
            std::string::npos)
      << error(o);
  o.series[0].metric = "my_metric";  // not part of the contract: taken on trust
  EXPECT_EQ(error(o), "");
}

TEST(ForecastHelpers, SymbolOfPairAndTheSdkGlob) {
  EXPECT_EQ(symbolOfPair("XBT/USD"), "BTC");
  EXPECT_EQ(symbolOfPair("ETH/EUR"), "ETH");
  EXPECT_EQ(symbolOfPair("XBTUSDT"), "XBTUSDT");
  EXPECT_TRUE(globMatch("BTC/*", "BTC/USD"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("?TC/U*D", "BTC/USD"));
  EXPECT_FALSE(globMatch("BTC/*", "ETH/USD"));
  EXPECT_FALSE(globMatch("1m", "15m"));
}

}  // namespace
}  // namespace cvagent::processors::forecast

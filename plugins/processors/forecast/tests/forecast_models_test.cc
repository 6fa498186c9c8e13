// The models on series with known answers.

#include "forecast_models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace cvagent::processors::forecast {
namespace {

TEST(ForecastModels, ConstantSeriesIsForecastExactlyByEveryModel) {
  ModelSettings settings;
  for (std::size_t k = 0; k < kModelNames.size(); ++k) {
    auto model = makeModel(static_cast<ModelKind>(k), settings);
    for (int i = 0; i < 600; ++i) model->update(250.5);
    ASSERT_TRUE(model->ready()) << kModelNames[k];
    std::vector<double> out(10);
    model->forecast(out.size(), out.data());
    for (double v : out) EXPECT_NEAR(v, 250.5, 1e-9) << kModelNames[k];
  }
}

TEST(ForecastModels, UndampedHoltConvergesToALinearTrend) {
  HoltModel holt(1.0);
  const double slope = 0.75;
  double x = 0;
  for (int i = 0; i < 2000; ++i) {
    x = 1000 + slope * i;
    holt.update(x);
  }
  EXPECT_NEAR(holt.trend(), slope, 1e-9);
  EXPECT_NEAR(holt.level(), x, 1e-6);
  double out[5];
  holt.forecast(5, out);
  for (int h = 1; h <= 5; ++h) EXPECT_NEAR(out[h - 1], x + slope * h, 1e-6) << h;
}

TEST(ForecastModels, DampedHoltFollowsATrendWithTheDampedSum) {
  // With phi < 1 the trend is shrunk each step ahead; on a noisy trend the one-step forecast is
  // still much closer than the last value.
  const double phi = 0.98;
  HoltModel holt(phi);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.05);
  const double slope = 2;
  double naive_error = 0, holt_error = 0;
  double last = 0;
  for (int i = 0; i < 5000; ++i) {
    const double x = 10'000 + slope * i + noise(rng);
    if (holt.ready() && i > 100) {
      double f = 0;
      holt.forecast(1, &f);
      holt_error += std::abs(x - f);
      naive_error += std::abs(x - last);
    }
    holt.update(x);
    last = x;
  }
  EXPECT_NEAR(holt.trend(), slope, 0.1);
  EXPECT_LT(holt_error, 0.1 * naive_error);
}

// Prices whose log returns follow r_t = phi1 r_{t-1} + phi2 r_{t-2} + e_t.
std::vector<double> arPrices(double phi1, double phi2, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> shock(0, 0.001);
  std::vector<double> prices;
  double r1 = 0, r2 = 0, log_price = std::log(50'000.0);
  for (int i = 0; i < n; ++i) {
    const double r = phi1 * r1 + phi2 * r2 + shock(rng);
    r2 = r1;
    r1 = r;
    log_price += r;
    prices.push_back(std::exp(log_price));
  }
  return prices;
}

TEST(ForecastModels, ArEstimateConvergesToTheKnownCoefficient) {
  for (double phi : {-0.4, 0.3, 0.6}) {
    ArModel ar(1, 5000);
    for (double p : arPrices(phi, 0, 30'000, 11)) ar.update(p);
    ASSERT_TRUE(ar.ready());
    // Standard error of the Yule-Walker estimate over 5000 returns is about 0.013.
    EXPECT_NEAR(ar.coefficients()[0], phi, 0.05) << phi;
  }
}

TEST(ForecastModels, ArOfOrderTwoFindsBothLagsAndForecastsTheCompoundedReturn) {
  ArModel ar(2, 5000);
  const auto prices = arPrices(0.5, -0.3, 30'000, 3);
  for (double p : prices) ar.update(p);
  EXPECT_NEAR(ar.coefficients()[0], 0.5, 0.05);
  EXPECT_NEAR(ar.coefficients()[1], -0.3, 0.05);
  // The forecast compounds the recursion from the last two returns.
  const double a1 = ar.coefficients()[0], a2 = ar.coefficients()[1];
  const std::size_t n = prices.size();
  const double r0 = std::log(prices[n - 1] / prices[n - 2]);
  const double r1 = std::log(prices[n - 2] / prices[n - 3]);
  const double f1 = a1 * r0 + a2 * r1;
  const double f2 = a1 * f1 + a2 * r0;
  double out[2];
  ar.forecast(2, out);
  EXPECT_NEAR(out[0], prices[n - 1] * std::exp(f1), 1e-9 * prices[n - 1]);
  EXPECT_NEAR(out[1], prices[n - 1] * std::exp(f1 + f2), 1e-9 * prices[n - 1]);
}

TEST(ForecastModels, ArOnARandomWalkStaysNearZero) {
  ArModel ar(2, 500);
  for (double p : arPrices(0, 0, 20'000, 5)) ar.update(p);
  EXPECT_LT(std::abs(ar.coefficients()[0]), 0.15);
  EXPECT_LT(std::abs(ar.coefficients()[1]), 0.15);
}

TEST(ForecastModels, MovingAverageIsTheWindowMeanWithItsStddev) {
  MovingAverageModel ma(3);
  for (double v : {1.0, 2.0, 10.0, 20.0, 30.0}) ma.update(v);
  EXPECT_DOUBLE_EQ(ma.mean(), 20.0);
  EXPECT_NEAR(ma.stddev(), std::sqrt(200.0 / 3), 1e-9);
  double out[3];
  ma.forecast(3, out);
  EXPECT_DOUBLE_EQ(out[2], 20.0);
}

TEST(ForecastModels, SortedWindowGivesTheSplitConformalRank) {
  SortedWindow w(9);
  for (double v : {5.0, 3.0, 9.0, 1.0, 7.0, 2.0, 8.0, 6.0, 4.0}) w.add(v);
  double q = 0;
  ASSERT_TRUE(w.conformalQuantile(0.8, q));
  EXPECT_EQ(q, 8.0);                           // ceil(10 * 0.8) = 8th smallest
  EXPECT_FALSE(w.conformalQuantile(0.95, q));  // needs rank 10 of 9
  // The oldest value (5) leaves when a new one comes.
  w.add(100);
  ASSERT_TRUE(w.conformalQuantile(0.5, q));
  EXPECT_EQ(q, 6.0);  // {1,2,3,4,6,7,8,9,100}: 5th smallest
}

TEST(ForecastModels, SortedWindowMatchesSortingTheLastValues) {
  SortedWindow w(50);
  std::vector<double> all;
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> pick(0, 40);  // ties on purpose
  for (int i = 0; i < 5000; ++i) {
    all.push_back(pick(rng));
    w.add(all.back());
    std::vector<double> last(all.end() - std::min<std::ptrdiff_t>(50, std::ssize(all)), all.end());
    std::sort(last.begin(), last.end());
    for (double level : {0.5, 0.8, 0.95}) {
      const double rank = std::ceil((static_cast<double>(last.size()) + 1) * level);
      double q = -1;
      const bool ok = w.conformalQuantile(level, q);
      ASSERT_EQ(ok, rank <= static_cast<double>(last.size())) << i;
      if (ok) {
        ASSERT_EQ(q, last[static_cast<std::size_t>(rank) - 1]) << i << " " << level;
      }
    }
  }
}

TEST(ForecastModels, ErrorTrackerRollsMaeMapeAndCoverage) {
  ErrorTracker t(2);
  t.record(100, 110, true, true);    // |e| 10, 9.09 %
  t.record(100, 90, true, false);    // |e| 10, 11.1 %
  t.record(100, 100, false, false);  // first entry leaves
  EXPECT_EQ(t.count(), 2u);
  EXPECT_DOUBLE_EQ(t.mae(), 5.0);
  // The error windows hold floats: a relative error of float precision, not double's.
  EXPECT_NEAR(t.mape(), 100 * (10.0 / 90) / 2, 1e-6);
  double coverage = 0;
  ASSERT_TRUE(t.coverage(coverage));
  EXPECT_DOUBLE_EQ(coverage, 0.0);
}

}  // namespace
}  // namespace cvagent::processors::forecast

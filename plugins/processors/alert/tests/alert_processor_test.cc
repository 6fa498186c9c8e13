// processors.alert on hand-built event streams: exactly which alerts fire, and when.

#include "alert_processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "message_template.h"

namespace cvagent::processors::alert {
namespace {

using namespace std::chrono_literals;
using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;

constexpr std::int64_t kT0 = 1'795'962'600'000'000'000;
constexpr std::int64_t kSec = 1'000'000'000;

Metric ticker(std::string_view pair, double last, std::int64_t time) {
  return MetricBuilder("ticker")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .field("last", last)
      .time(time)
      .build();
}

RuleOptions changeRule(double pct, std::chrono::nanoseconds window,
                       std::string direction = "both") {
  RuleOptions r;
  r.id = "move";
  r.kind = "change";
  r.metric = "ticker";
  r.field = "last";
  r.window = window;
  r.threshold_pct = pct;
  r.direction = std::move(direction);
  r.cooldown = 0s;
  return r;
}

RuleOptions aboveRule(double level, double hysteresis_pct, std::chrono::nanoseconds cooldown) {
  RuleOptions r;
  r.id = "high";
  r.kind = "threshold";
  r.metric = "ticker";
  r.field = "last";
  r.above = level;
  r.hysteresis_pct = hysteresis_pct;
  r.cooldown = cooldown;
  r.severity = "critical";
  return r;
}

// Runs a processor and keeps only what it raises (inputs are checked to pass through).
class Harness {
 public:
  explicit Harness(std::vector<RuleOptions> rules, std::string state_dir = {})
      : context_("processors.alert", std::move(state_dir)) {
    AlertOptions options;
    options.rules = std::move(rules);
    processor_ = std::make_unique<AlertProcessor>(options, context_);
  }
  std::vector<Metric> feed(Metric metric) {
    const Metric copy = metric;
    processor_->process(std::move(metric), out_);
    return split(copy);
  }
  std::vector<Metric> tick(std::int64_t now) {
    processor_->tick(now, out_);
    return split(std::nullopt);
  }
  void flush() { processor_->flush(out_); }
  TestContext& context() { return context_; }
  AlertProcessor& processor() { return *processor_; }

 private:
  std::vector<Metric> split(std::optional<Metric> input) {
    std::vector<Metric> alerts;
    bool passed = !input.has_value();
    for (auto& m : out_.take()) {
      // Compared by identity rather than ==, which a NaN field never satisfies.
      if (input && !passed && m.name() == input->name() && m.tags() == input->tags() &&
          m.time() == input->time() && m.fields().size() == input->fields().size()) {
        passed = true;
      } else {
        EXPECT_EQ(m.name(), "alert");
        alerts.push_back(std::move(m));
      }
    }
    EXPECT_TRUE(passed) << "the input metric was not passed on";
    return alerts;
  }

  TestContext context_;
  std::unique_ptr<AlertProcessor> processor_;
  CapturingEmitter out_;
};

double num(const Metric& m, std::string_view field) {
  double v = NAN;
  EXPECT_TRUE(m.numberField(field, v)) << field;
  return v;
}
std::string str(const Metric& m, std::string_view field) {
  const std::string* s = m.stringField(field);
  return s ? *s : std::string("<none>");
}
bool resolved(const Metric& m) {
  const FieldValue* v = m.field("resolved");
  EXPECT_TRUE(v && std::holds_alternative<bool>(*v));
  return v && std::get<bool>(*v);
}

std::string tempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cvagent-alert-test.XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

TEST(AlertChange, FiresOnTheMoveOverTheWindowNotTickToTick) {
  Harness h({changeRule(2.0, 5min)});
  // +0.5 % a minute: no single tick moves 2 %, five minutes do.
  std::vector<std::pair<int, Metric>> fired;
  for (int k = 0; k <= 10; ++k) {
    for (auto& a : h.feed(ticker("BTC/USD", 100 + 0.5 * k, kT0 + k * 60 * kSec))) {
      fired.emplace_back(k, std::move(a));
    }
  }
  ASSERT_EQ(fired.size(), 1u);
  const Metric& a = fired[0].second;
  EXPECT_EQ(fired[0].first, 5);  // the first time a full window of history exists
  EXPECT_EQ(a.time(), kT0 + 300 * kSec);
  EXPECT_EQ(*a.tag("pair"), "BTC/USD");
  EXPECT_EQ(*a.tag("rule"), "move");
  EXPECT_EQ(*a.tag("severity"), "warning");
  EXPECT_EQ(a.tags().size(), 3u);
  EXPECT_DOUBLE_EQ(num(a, "last"), 102.5);
  EXPECT_NEAR(num(a, "change"), 2.5, 1e-9);
  EXPECT_DOUBLE_EQ(num(a, "threshold"), 2.0);
  EXPECT_EQ(str(a, "type"), "PRICE_UP");
  EXPECT_FALSE(resolved(a));
  EXPECT_EQ(str(a, "message"), "BTC/USD last moved 2.50% in 5m to 102.5 (threshold 2%)");

  // Flat at 105: at minute 11 the move over 5 minutes (103 -> 105) is 1.94 %: cleared.
  std::vector<std::pair<int, Metric>> later;
  for (int k = 11; k <= 20; ++k) {
    for (auto& m : h.feed(ticker("BTC/USD", 105, kT0 + k * 60 * kSec))) {
      later.emplace_back(k, std::move(m));
    }
  }
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].first, 11);
  EXPECT_TRUE(resolved(later[0].second));
  EXPECT_EQ(str(later[0].second, "type"), "PRICE_UP");
  EXPECT_EQ(str(later[0].second, "message").rfind("resolved: BTC/USD", 0), 0u);
  EXPECT_EQ(h.context().counterValue("alert_fired_total"), 1);
  EXPECT_EQ(h.context().counterValue("alert_resolved_total"), 1);
}

TEST(AlertChange, DirectionDownIgnoresRises) {
  Harness h({changeRule(1.0, 1min, "down")});
  std::vector<Metric> alerts;
  const double prices[] = {100, 102, 104, 103, 101.5, 100};  // 20 s apart
  for (int k = 0; k < 6; ++k) {
    for (auto& a : h.feed(ticker("ETH/USD", prices[k], kT0 + k * 20 * kSec))) {
      alerts.push_back(std::move(a));
    }
  }
  // Reference one minute back: k=3 vs k=0 (+3 %), k=4 vs k=1 (-0.49 %), k=5 vs k=2 (-3.85 %).
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].time(), kT0 + 100 * kSec);
  EXPECT_EQ(str(alerts[0], "type"), "PRICE_DOWN");
  EXPECT_NEAR(num(alerts[0], "change"), (100.0 - 104.0) / 104.0 * 100, 1e-9);
}

TEST(AlertThreshold, FlappingAroundTheLevelGivesOneAlertWithHysteresis) {
  const double flapping[] = {99.5, 100.2, 99.8, 100.3, 99.6, 100.1, 99.9, 100.4};
  auto run = [&](double hysteresis_pct) {
    Harness h({aboveRule(100, hysteresis_pct, 0s)});
    std::vector<Metric> alerts;
    for (int k = 0; k < 8; ++k) {
      for (auto& a : h.feed(ticker("BTC/USD", flapping[k], kT0 + k * kSec))) {
        alerts.push_back(std::move(a));
      }
    }
    return alerts;
  };
  // Re-arms only at 99 or below: one alert for the whole flapping.
  auto with = run(1.0);
  ASSERT_EQ(with.size(), 1u);
  EXPECT_EQ(with[0].time(), kT0 + 1 * kSec);
  EXPECT_EQ(str(with[0], "type"), "THRESHOLD");
  EXPECT_DOUBLE_EQ(num(with[0], "threshold"), 100);
  EXPECT_DOUBLE_EQ(num(with[0], "last"), 100.2);
  EXPECT_EQ(*with[0].tag("severity"), "critical");
  // Without hysteresis every crossing fires and every dip resolves: 4 alerts, 3 resolutions.
  auto without = run(0);
  ASSERT_EQ(without.size(), 7u);
  int fired = 0;
  for (const auto& a : without) fired += resolved(a) ? 0 : 1;
  EXPECT_EQ(fired, 4);

  // Clearing by the margin re-arms.
  Harness h({aboveRule(100, 1.0, 0s)});
  EXPECT_EQ(h.feed(ticker("BTC/USD", 100.2, kT0)).size(), 1u);
  EXPECT_TRUE(h.feed(ticker("BTC/USD", 99.2, kT0 + kSec)).empty());
  auto clear = h.feed(ticker("BTC/USD", 98.9, kT0 + 2 * kSec));
  ASSERT_EQ(clear.size(), 1u);
  EXPECT_TRUE(resolved(clear[0]));
  auto again = h.feed(ticker("BTC/USD", 100.5, kT0 + 3 * kSec));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(resolved(again[0]));
}

TEST(AlertThreshold, BelowFiresUnderTheLevel) {
  RuleOptions r = aboveRule(0, 0, 0s);
  r.above.reset();
  r.below = 50;
  Harness h({r});
  EXPECT_TRUE(h.feed(ticker("SOL/USD", 51, kT0)).empty());
  auto a = h.feed(ticker("SOL/USD", 49, kT0 + kSec));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(str(a[0], "message"), "SOL/USD last at 49, below 50");
  EXPECT_NEAR(num(a[0], "change"), -2.0, 1e-9);
}

TEST(AlertCooldown, NoNewAlertWithinTheCooldownPerSeries) {
  Harness h({aboveRule(100, 0, 10min)});
  std::vector<std::pair<std::int64_t, Metric>> alerts;
  auto feed = [&](std::string_view pair, double price, std::int64_t at) {
    for (auto& a : h.feed(ticker(pair, price, kT0 + at))) alerts.emplace_back(at, std::move(a));
  };
  feed("BTC/USD", 101, 0);             // fires
  feed("BTC/USD", 99, 60 * kSec);      // resolves
  feed("BTC/USD", 101, 120 * kSec);    // within 10 min of the last alert: suppressed
  feed("ETH/USD", 101, 150 * kSec);    // another series: its own cooldown, fires
  feed("BTC/USD", 101.5, 300 * kSec);  // still within: suppressed
  feed("BTC/USD", 102, 600 * kSec);    // exactly 10 min later: fires
  ASSERT_EQ(alerts.size(), 4u);
  EXPECT_EQ(alerts[0].first, 0);
  EXPECT_EQ(alerts[1].first, 60 * kSec);
  EXPECT_TRUE(resolved(alerts[1].second));
  EXPECT_EQ(alerts[2].first, 150 * kSec);
  EXPECT_EQ(*alerts[2].second.tag("pair"), "ETH/USD");
  EXPECT_EQ(alerts[3].first, 600 * kSec);
  EXPECT_EQ(*alerts[3].second.tag("pair"), "BTC/USD");
  EXPECT_EQ(h.context().counterValue("alert_suppressed_total"), 2);
}

TEST(AlertZscore, SpikeAgainstTheRollingWindow) {
  RuleOptions r;
  r.id = "spike";
  r.kind = "zscore";
  r.metric = "candle";
  r.field = "volume";
  r.window = 10min;
  r.threshold = 4;
  r.min_samples = 20;
  r.cooldown = 0s;
  Harness h({r});
  auto candle = [](double volume, std::int64_t at) {
    return MetricBuilder("candle")
        .tag("pair", "BTC/USD")
        .tag("interval", "1m")
        .field("volume", volume)
        .time(kT0 + at)
        .build();
  };
  std::vector<std::pair<int, Metric>> alerts;
  // Before min_samples even a huge value is not scored; while it is in the window it widens the
  // deviation, so nothing fires until it has left the window.
  for (int k = 0; k < 120; ++k) {
    const double volume = k == 3 ? 50.0 : (k % 2 ? 10.1 : 9.9);
    for (auto& a : h.feed(candle(volume, k * 10 * kSec))) alerts.emplace_back(k, std::move(a));
  }
  EXPECT_TRUE(alerts.empty());
  for (auto& a : h.feed(candle(13.0, 1200 * kSec))) alerts.emplace_back(120, std::move(a));
  for (auto& a : h.feed(candle(10.0, 1210 * kSec))) alerts.emplace_back(121, std::move(a));
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].first, 120);
  EXPECT_EQ(str(alerts[0].second, "type"), "ZSCORE");
  EXPECT_FALSE(resolved(alerts[0].second));
  // Window 10 min back from 1200 s: samples at 610..1190 s, 59 of them alternating 9.9 / 10.1.
  EXPECT_NEAR(num(alerts[0].second, "zscore"), (13.0 - 10.0) / 0.1 / std::sqrt(59.0 / 58.0), 0.5);
  EXPECT_GT(num(alerts[0].second, "zscore"), 4);
  EXPECT_DOUBLE_EQ(num(alerts[0].second, "threshold"), 4);
  EXPECT_EQ(alerts[1].first, 121);
  EXPECT_TRUE(resolved(alerts[1].second));
}

TEST(AlertAbsence, FiresOnTicksWhenASeriesGoesSilentAndResolvesWhenItReturns) {
  RuleOptions r;
  r.id = "silent";
  r.kind = "absence";
  r.metric = "ticker";
  r.field = "last";
  r.window = 30s;
  r.cooldown = 0s;
  Harness h({r});
  const std::int64_t wall = h.context().fakeClock().nowNanos();
  h.feed(ticker("BTC/USD", 100, kT0));
  h.feed(ticker("ETH/USD", 10, kT0));
  std::vector<Metric> alerts;
  for (int s = 1; s <= 60; ++s) {
    h.context().fakeClock().set(wall + s * kSec);
    if (s % 10 == 0) h.feed(ticker("ETH/USD", 10, kT0 + s * kSec));  // ETH keeps talking
    for (auto& a : h.tick(wall + s * kSec)) alerts.push_back(std::move(a));
  }
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].time(), wall + 30 * kSec);
  EXPECT_EQ(*alerts[0].tag("pair"), "BTC/USD");
  EXPECT_EQ(str(alerts[0], "type"), "ABSENCE");
  EXPECT_EQ(str(alerts[0], "message"), "no ticker for BTC/USD in 30s");
  EXPECT_DOUBLE_EQ(num(alerts[0], "last"), 100);
  EXPECT_DOUBLE_EQ(num(alerts[0], "threshold"), 30);
  EXPECT_DOUBLE_EQ(num(alerts[0], "silence_s"), 30);
  auto back = h.feed(ticker("BTC/USD", 101, kT0 + 61 * kSec));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(resolved(back[0]));
  EXPECT_EQ(back[0].time(), kT0 + 61 * kSec);
}

Metric prediction(std::string_view model, double predicted, double low, double high,
                  std::optional<double> actual, std::int64_t at) {
  MetricBuilder b("prediction");
  b.tag("symbol", "BTC").tag("pair", "BTC/USD").tag("model", model).tag("horizon", "5m");
  b.field("predicted_price", predicted).field("ci_low", low).field("ci_high", high);
  if (actual) b.field("actual_price", *actual);
  return b.time(kT0 + at).build();
}

TEST(AlertForecastMiss, ActualOutsideTheIntervalOfTheChosenModel) {
  RuleOptions r;
  r.id = "miss";
  r.kind = "forecast_miss";
  r.metric = "prediction";
  r.tags = {{"model", "holt*"}};
  r.cooldown = 0s;
  Harness h({r});
  std::vector<std::pair<int, Metric>> alerts;
  auto feed = [&](int step, Metric m) {
    for (auto& a : h.feed(std::move(m))) alerts.emplace_back(step, std::move(a));
  };
  feed(0, prediction("holt", 100, 98, 102, std::nullopt, 0));  // forecast only: nothing to check
  feed(1, prediction("holt", 100, 98, 102, 101, 0));           // hit
  feed(2, prediction("naive", 100, 99, 101, 105, 60 * kSec));  // another model: not watched
  feed(3, prediction("holt", 100, 98, 102, 103, 60 * kSec));   // miss above: fires
  feed(4, prediction("holt", 100, 98, 102, 97, 120 * kSec));   // miss below: still the same streak
  feed(5, prediction("holt", 100, 98, 102, 100.5, 180 * kSec));  // hit: resolved
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].first, 3);
  const Metric& a = alerts[0].second;
  EXPECT_EQ(a.time(), kT0 + 60 * kSec);
  EXPECT_EQ(*a.tag("pair"), "BTC/USD");
  EXPECT_EQ(str(a, "type"), "FORECAST_MISS");
  EXPECT_DOUBLE_EQ(num(a, "last"), 103);
  EXPECT_DOUBLE_EQ(num(a, "threshold"), 102);
  EXPECT_NEAR(num(a, "change"), 3.0, 1e-9);
  EXPECT_EQ(str(a, "message"),
            "BTC/USD actual 103 outside the forecast interval [98, 102] (3.00% from the forecast)");
  EXPECT_EQ(alerts[1].first, 5);
  EXPECT_TRUE(resolved(alerts[1].second));
}

TEST(AlertOrdering, LateAndOutOfOrderMetricsAreNotEvaluated) {
  Harness h({aboveRule(100, 0, 0s)});
  ASSERT_EQ(h.feed(ticker("BTC/USD", 101, kT0 + 10 * kSec)).size(), 1u);
  // Older than the series' latest: would resolve, but an alert is never changed by the past.
  EXPECT_TRUE(h.feed(ticker("BTC/USD", 99, kT0 + 5 * kSec)).empty());
  EXPECT_EQ(h.context().counterValue("alert_late_metrics_total"), 1);
  // Same time as the latest is not late.
  auto same = h.feed(ticker("BTC/USD", 99, kT0 + 10 * kSec));
  ASSERT_EQ(same.size(), 1u);
  EXPECT_TRUE(resolved(same[0]));
  // Another series has its own clock: an older time there is fine.
  EXPECT_EQ(h.feed(ticker("ETH/USD", 101, kT0)).size(), 1u);

  // In a change window, an out-of-order sample neither fires nor shifts the reference.
  Harness c({changeRule(2.0, 1min)});
  EXPECT_TRUE(c.feed(ticker("BTC/USD", 100, kT0)).empty());
  EXPECT_TRUE(c.feed(ticker("BTC/USD", 100.5, kT0 + 60 * kSec)).empty());
  EXPECT_TRUE(c.feed(ticker("BTC/USD", 90, kT0 + 30 * kSec)).empty());   // late
  EXPECT_TRUE(c.feed(ticker("BTC/USD", 101, kT0 + 90 * kSec)).empty());  // vs 100 at 0 s: +1 %
  auto moved = c.feed(ticker("BTC/USD", 102.6, kT0 + 120 * kSec));       // vs 100.5: +2.09 %
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_NEAR(num(moved[0], "change"), (102.6 - 100.5) / 100.5 * 100, 1e-9);
}

TEST(AlertScale, FiftyPairsInterleavedEachJudgedOnItsOwn) {
  RuleOptions r = changeRule(2.0, 5min);
  r.tags = {{"pair", "*/USD"}};
  Harness h({r});
  std::map<std::string, std::vector<Metric>> alerts;
  // Pair i: every third one climbs 1 % a minute, the others drift 0.1 % a minute; one ticker per
  // pair every 10 s, pairs interleaved in a shuffled but fixed order.
  for (int step = 0; step <= 60; ++step) {
    for (int j = 0; j < 50; ++j) {
      const int i = (j * 17 + step) % 50;
      const std::string pair = "C" + std::to_string(i) + "/USD";
      const double per_minute = i % 3 == 0 ? 0.01 : 0.001;
      const double price = 100 * (1 + per_minute * step / 6.0);
      for (auto& a : h.feed(ticker(pair, price, kT0 + step * 10 * kSec + i))) {
        alerts[pair].push_back(std::move(a));
      }
    }
    // A pair that does not match the glob never alerts.
    EXPECT_TRUE(h.feed(ticker("C0/EUR", 100.0 + step, kT0 + step * 10 * kSec)).empty());
  }
  ASSERT_EQ(alerts.size(), 17u);  // i = 0, 3, ..., 48
  for (const auto& [pair, list] : alerts) {
    const int i = std::stoi(pair.substr(1));
    EXPECT_EQ(i % 3, 0) << pair;
    ASSERT_EQ(list.size(), 1u) << pair;
    // The first full window of history is at step 30 (5 min), and it already holds a 5 % move.
    EXPECT_EQ(list[0].time(), kT0 + 30 * 10 * kSec + i) << pair;
    EXPECT_EQ(str(list[0], "type"), "PRICE_UP");
  }
}

TEST(AlertState, RestartWithTheSnapshotDoesNotRefireActiveAlerts) {
  const std::string dir = tempDir();
  RuleOptions kept = aboveRule(100, 0, 0s);
  RuleOptions changed = aboveRule(100, 0, 0s);
  changed.id = "changed";
  {
    Harness h({kept, changed}, dir);
    EXPECT_EQ(h.feed(ticker("BTC/USD", 101, kT0)).size(), 2u);
    EXPECT_EQ(h.feed(ticker("ETH/USD", 101, kT0)).size(), 2u);
    h.flush();  // shutdown or reload
  }
  changed.above = 100.5;                     // edited between runs: its old state no longer applies
  kept.message = "{pair} over {threshold}";  // presentation only: the state still applies
  {
    Harness h({kept, changed}, dir);
    EXPECT_TRUE(h.context().logger().contains("alert state restored"));
    auto after = h.feed(ticker("BTC/USD", 102, kT0 + kSec));
    ASSERT_EQ(after.size(), 1u);  // only the changed rule fires afresh
    EXPECT_EQ(*after[0].tag("rule"), "changed");
    // The restored alert still resolves when the condition clears.
    auto clear = h.feed(ticker("ETH/USD", 99, kT0 + kSec));
    ASSERT_EQ(clear.size(), 1u);
    EXPECT_EQ(*clear[0].tag("rule"), "high");
    EXPECT_TRUE(resolved(clear[0]));
    // A crash without flush: the periodic snapshot on ticks kept the new state.
    const std::int64_t now = h.context().fakeClock().nowNanos();
    h.tick(now + 11 * kSec);
  }
  {
    Harness h({kept, changed}, dir);
    EXPECT_TRUE(h.feed(ticker("BTC/USD", 103, kT0 + 2 * kSec)).empty());  // both still active
    // ETH: `high` resolved in the second run and re-armed; `changed` never fired for ETH.
    auto eth = h.feed(ticker("ETH/USD", 101, kT0 + 2 * kSec));
    ASSERT_EQ(eth.size(), 2u);
    EXPECT_FALSE(resolved(eth[0]));
    EXPECT_FALSE(resolved(eth[1]));
    // A metric older than what the earlier runs evaluated stays late after the restart.
    EXPECT_TRUE(h.feed(ticker("BTC/USD", 90, kT0)).empty());
    EXPECT_EQ(h.context().counterValue("alert_late_metrics_total"), 2);
  }
  std::filesystem::remove_all(dir);
}

TEST(AlertState, AbsenceStateSurvivesARestart) {
  const std::string dir = tempDir();
  RuleOptions r;
  r.id = "silent";
  r.kind = "absence";
  r.metric = "ticker";
  r.window = 30s;
  std::int64_t wall = 0;
  {
    Harness h({r}, dir);
    wall = h.context().fakeClock().nowNanos();
    h.feed(ticker("BTC/USD", 100, kT0));
    h.context().fakeClock().set(wall + 40 * kSec);
    EXPECT_EQ(h.tick(wall + 40 * kSec).size(), 1u);
    h.flush();
  }
  {
    Harness h({r}, dir);
    // Known series, still silent, already alerted: nothing new.
    EXPECT_TRUE(h.tick(wall + 50 * kSec).empty());
    auto back = h.feed(ticker("BTC/USD", 100, kT0 + 50 * kSec));
    ASSERT_EQ(back.size(), 1u);
    EXPECT_TRUE(resolved(back[0]));
  }
  std::filesystem::remove_all(dir);
}

TEST(AlertState, CorruptSnapshotIsReportedAndIgnored) {
  const std::string dir = tempDir();
  { std::ofstream(dir + "/alert-state") << "not a snapshot\n"; }
  Harness h({aboveRule(100, 0, 0s)}, dir);
  EXPECT_TRUE(h.context().logger().contains("not restored", LogLevel::kWarn));
  EXPECT_EQ(h.feed(ticker("BTC/USD", 101, kT0)).size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(AlertSeries, ByChoosesTheTagsThatTellSeriesApart) {
  RuleOptions r = aboveRule(100, 0, 0s);
  r.metric = "trade";
  r.field = "price";
  auto trade = [](std::string_view side, double price, std::int64_t at) {
    return MetricBuilder("trade")
        .tag("exchange", "kraken")
        .tag("pair", "BTC/USD")
        .tag("side", side)
        .field("price", price)
        .time(kT0 + at)
        .build();
  };
  // Every tag: buys and sells are two series, each fires.
  Harness all({r});
  EXPECT_EQ(all.feed(trade("buy", 101, 0)).size(), 1u);
  EXPECT_EQ(all.feed(trade("sell", 101, kSec)).size(), 1u);
  // by: [exchange, pair]: one series, one alert, and the sell's price clears it.
  r.by = {"exchange", "pair"};
  Harness pair({r});
  EXPECT_EQ(pair.feed(trade("buy", 101, 0)).size(), 1u);
  EXPECT_TRUE(pair.feed(trade("sell", 101, kSec)).empty());
  auto clear = pair.feed(trade("sell", 99, 2 * kSec));
  ASSERT_EQ(clear.size(), 1u);
  EXPECT_TRUE(resolved(clear[0]));
  // Out of order across sides is out of order for the series.
  EXPECT_TRUE(pair.feed(trade("buy", 101, kSec)).empty());
  EXPECT_EQ(pair.context().counterValue("alert_late_metrics_total"), 1);
}

TEST(AlertMessage, TemplateWithTagsFieldsAndValues) {
  RuleOptions r = aboveRule(100, 0, 0s);
  r.message =
      "{{{severity}}} {pair} on {exchange}: {field}={last} vs {threshold} ({type}, "
      "{rule}, {nope})";
  Harness h({r});
  auto a = h.feed(ticker("BTC/USD", 101.25, kT0));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(str(a[0], "message"),
            "{critical} BTC/USD on kraken: last=101.25 vs 100 (THRESHOLD, high, {nope})");
  EXPECT_THROW(MessageTemplate("{pair"), std::invalid_argument);
  EXPECT_THROW(MessageTemplate("a } b"), std::invalid_argument);
}

TEST(AlertInput, OtherMetricsPassAndBadValuesAreCounted) {
  Harness h({aboveRule(100, 0, 0s)});
  EXPECT_TRUE(h.feed(MetricBuilder("trade").tag("pair", "BTC/USD").field("price", 500.0).time(kT0))
                  .empty());
  EXPECT_TRUE(h.feed(ticker("BTC/USD", NAN, kT0)).empty());
  EXPECT_TRUE(h.feed(MetricBuilder("ticker").tag("pair", "BTC/USD").field("last", "101").time(kT0))
                  .empty());
  EXPECT_EQ(h.context().counterValue("alert_invalid_metrics_total"), 2);
  // Integer fields are numbers too; a series without pair uses its symbol.
  auto a = h.feed(MetricBuilder("ticker").tag("symbol", "BTC").field("last", 101).time(kT0));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].tag("pair"), "BTC");
}

TEST(AlertOptions, BadConfigurationIsRefused) {
  auto refused = [](RuleOptions r, std::string_view words) {
    try {
      validate(r);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
      return true;
    }
    return false;
  };
  RuleOptions ok = changeRule(2, 5min);
  EXPECT_NO_THROW(validate(ok));
  RuleOptions r = ok;
  r.kind = "spike";
  EXPECT_TRUE(refused(r, "unknown kind `spike`"));
  r = ok;
  r.window = 0s;
  EXPECT_TRUE(refused(r, "`window` must be set and more than 0"));
  r = ok;
  r.threshold_pct.reset();
  EXPECT_TRUE(refused(r, "`threshold_pct` is required"));
  r = ok;
  r.field = "lats";
  EXPECT_TRUE(refused(r, "metric `ticker` has no numeric field `lats`"));
  r = aboveRule(100, 0, 0s);
  r.below = 90;
  EXPECT_TRUE(refused(r, "exactly one of `above` and `below`"));
  r = aboveRule(100, 0, 0s);
  r.window = 5min;
  EXPECT_TRUE(refused(r, "`window` does not apply to kind threshold"));
  r = ok;
  r.kind = "zscore";
  r.threshold_pct.reset();
  EXPECT_TRUE(refused(r, "`threshold` (standard deviations) is required"));
  r = ok;
  r.message = "{pair";
  EXPECT_TRUE(refused(r, "unclosed"));
  AlertOptions twice;
  twice.rules = {ok, ok};
  EXPECT_THROW(validate(twice), std::invalid_argument);
  EXPECT_THROW(validate(AlertOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace cvagent::processors::alert

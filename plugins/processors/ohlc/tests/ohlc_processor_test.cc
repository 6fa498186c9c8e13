#include "ohlc_processor.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "cvagent/testing/bind_options.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "kraken_trades.h"

namespace cvagent::processors::ohlc {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;
using namespace std::chrono_literals;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
// 2026-11-24T14:27:00Z, a minute boundary.
constexpr std::int64_t kT0 = 1'795'530'420 * kSecond;

std::string dataPath(const char* name) { return std::string(CVAGENT_TEST_DATA) + "/" + name; }
// Fixtures shared with other plugins (tests/data/kraken).
std::string sharedPath(const char* name) {
  return std::string(CVAGENT_SHARED_TEST_DATA) + "/kraken/" + name;
}

Metric trade(std::string_view pair, std::int64_t time, double price, double volume,
             std::int64_t id = 0) {
  return MetricBuilder("trade")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .tag("side", "buy")
      // FieldValue{...}: MetricBuilder::field(key, int) would win for a plain double.
      .field("price", FieldValue{price})
      .field("volume", FieldValue{volume})
      .field("trade_id", id)
      .field("ord_type", "limit")
      .time(time);
}

struct CandleView {
  std::string pair, interval;
  std::int64_t start = 0;
  double open = 0, high = 0, low = 0, close = 0, volume = 0, vwap = 0;
  std::int64_t trades = 0;
  bool partial = false;
};

CandleView view(const Metric& m) {
  CandleView c;
  EXPECT_EQ(m.name(), "candle");
  c.pair = *m.tag("pair");
  c.interval = *m.tag("interval");
  c.start = m.time();
  c.open = std::get<double>(*m.field("open"));
  c.high = std::get<double>(*m.field("high"));
  c.low = std::get<double>(*m.field("low"));
  c.close = std::get<double>(*m.field("close"));
  c.volume = std::get<double>(*m.field("volume"));
  c.vwap = std::get<double>(*m.field("vwap"));
  c.trades = std::get<std::int64_t>(*m.field("trades"));
  c.partial = std::get<bool>(*m.field("partial"));
  return c;
}

std::vector<CandleView> candles(const std::vector<Metric>& metrics) {
  std::vector<CandleView> out;
  for (const auto& m : metrics) {
    if (m.name() == "candle") out.push_back(view(m));
  }
  return out;
}

std::size_t countNamed(const std::vector<Metric>& metrics, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(metrics.begin(), metrics.end(),
                                                [&](const Metric& m) { return m.name() == name; }));
}

struct Harness {
  explicit Harness(OhlcOptions options) : processor(options, context) {}
  void feed(Metric m) { processor.process(std::move(m), out); }
  TestContext context;
  OhlcProcessor processor;
  CapturingEmitter out;
};

OhlcOptions options(std::vector<std::chrono::nanoseconds> intervals,
                    std::chrono::nanoseconds grace) {
  OhlcOptions o;
  o.intervals = std::move(intervals);
  o.grace = grace;
  return o;
}

bool near(double a, double b, double rel = 1e-12) {
  return std::fabs(a - b) <= rel * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

// --- recordings --------------------------------------------------------------------------------

TEST(OhlcGolden, WsV2SessionMatchesIndependentlyComputedCandles) {
  const auto trades = testing::loadWsV2Trades(sharedPath("ws_v2_session.jsonl"));
  ASSERT_GT(trades.size(), 300u);
  Harness h(options({1min, 5min}, 2s));
  for (const auto& t : trades) h.feed(t);
  h.processor.flush(h.out);
  const auto emitted = h.out.take();
  EXPECT_EQ(countNamed(emitted, "trade"), trades.size()) << "trades pass through";

  std::map<std::tuple<std::string, std::string, std::int64_t>, CandleView> got;
  for (const auto& c : candles(emitted)) {
    EXPECT_TRUE(got.emplace(std::make_tuple(c.pair, c.interval, c.start), c).second)
        << "candle emitted twice: " << c.pair << " " << c.interval << " " << c.start;
  }

  simdjson::dom::parser parser;
  simdjson::padded_string golden =
      simdjson::padded_string::load(dataPath("ws_v2_session_candles.jsonl"));
  std::size_t compared = 0;
  for (simdjson::dom::element g : parser.parse_many(golden)) {
    const std::string pair(g["tags"]["pair"].get_string().value());
    const std::string interval(g["tags"]["interval"].get_string().value());
    const std::int64_t start = g["time"].get_int64();
    auto it = got.find({pair, interval, start});
    ASSERT_NE(it, got.end()) << "missing " << pair << " " << interval << " " << start;
    const CandleView& c = it->second;
    auto f = g["fields"];
    auto dec = [&](const char* key) { return std::stod(std::string(f[key].get_string().value())); };
    EXPECT_DOUBLE_EQ(c.open, dec("open")) << pair << " " << interval << " " << start;
    EXPECT_DOUBLE_EQ(c.high, dec("high"));
    EXPECT_DOUBLE_EQ(c.low, dec("low"));
    EXPECT_DOUBLE_EQ(c.close, dec("close"));
    EXPECT_TRUE(near(c.volume, dec("volume"), 1e-12)) << c.volume << " vs " << dec("volume");
    EXPECT_TRUE(near(c.vwap, dec("vwap"), 1e-12)) << c.vwap << " vs " << dec("vwap");
    EXPECT_EQ(c.trades, f["trades"].get_int64().value());
    EXPECT_EQ(c.partial, f["partial"].get_bool().value());
    got.erase(it);
    ++compared;
  }
  EXPECT_EQ(compared, 33u);
  EXPECT_TRUE(got.empty()) << got.size() << " candles not in the golden file";
}

// http_trades.json (the last 1000 XBTUSDT trades) and http_ohlc.json (720 one-minute rows) were
// recorded together: every minute fully covered by the trades must come out as Kraken printed it.
TEST(OhlcGolden, RestTradesAgreeWithRestOhlcOverTheSameMinutes) {
  const auto trades = testing::loadRestTrades(sharedPath("http_trades.json"), "XBT/USDT");
  const auto rows = testing::loadRestOhlc(sharedPath("http_ohlc.json"));
  ASSERT_EQ(trades.size(), 1000u);
  OhlcOptions o = options({1min}, 0s);
  o.fill = "previous_close";
  Harness h(o);
  for (const auto& t : trades) h.feed(t);
  h.processor.flush(h.out);
  std::map<std::int64_t, CandleView> got;
  for (const auto& c : candles(h.out.take())) got[c.start] = c;

  // The first minute is only partly covered (the trade list starts inside it); the last trade's
  // minute is complete in both (Kraken's unfinished row comes later).
  const std::int64_t first_full = (trades.front().time() / kMinute + 1) * kMinute;
  const std::int64_t last_minute = trades.back().time() / kMinute * kMinute;
  std::size_t with_trades = 0;
  std::size_t empty = 0;
  for (const auto& row : rows) {
    if (row.time_ns < first_full || row.time_ns > last_minute) continue;
    auto it = got.find(row.time_ns);
    ASSERT_NE(it, got.end()) << "no candle for minute " << row.time_ns;
    const CandleView& c = it->second;
    SCOPED_TRACE(row.time_ns);
    EXPECT_EQ(c.trades, row.count);
    EXPECT_DOUBLE_EQ(c.open, std::stod(row.open));
    EXPECT_DOUBLE_EQ(c.high, std::stod(row.high));
    EXPECT_DOUBLE_EQ(c.low, std::stod(row.low));
    EXPECT_DOUBLE_EQ(c.close, std::stod(row.close));
    // Volume is printed with 8 decimals: within half a unit of the last place.
    EXPECT_NEAR(c.volume, std::stod(row.volume), 0.5e-8);
    if (row.count == 0) {
      EXPECT_EQ(c.vwap, 0.0);  // Kraken prints "0.0" for a minute without trades
      ++empty;
    } else {
      // Kraken truncates vwap to the pair's price precision (1 decimal for XBTUSDT).
      const double printed = std::stod(row.vwap);
      EXPECT_GE(c.vwap, printed - 1e-9);
      EXPECT_LT(c.vwap, printed + 0.1);
      ++with_trades;
    }
  }
  EXPECT_EQ(with_trades, 273u);
  EXPECT_EQ(empty, 137u);
}

// --- windows -------------------------------------------------------------------------------------

TEST(Ohlc, TradeExactlyOnABoundaryOpensTheNextWindow) {
  Harness h(options({1min}, 0s));
  h.feed(trade("BTC/USD", kT0 + kMinute - 1, 100, 1));  // last nanosecond of the first minute
  h.feed(trade("BTC/USD", kT0 + kMinute, 200, 1));      // first nanosecond of the next
  auto closed = candles(h.out.take());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].start, kT0);
  EXPECT_EQ(closed[0].trades, 1);
  EXPECT_EQ(closed[0].close, 100);
  EXPECT_FALSE(closed[0].partial);
  h.processor.flush(h.out);
  auto open = candles(h.out.take());
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].start, kT0 + kMinute);
  EXPECT_EQ(open[0].open, 200);
  EXPECT_TRUE(open[0].partial);
}

TEST(Ohlc, CandleFieldsFollowKrakensDefinitions) {
  Harness h(options({1min}, 0s));
  h.feed(trade("ETH/USD", kT0 + 1 * kSecond, 10, 1));
  h.feed(trade("ETH/USD", kT0 + 2 * kSecond, 14, 3));
  h.feed(trade("ETH/USD", kT0 + 3 * kSecond, 8, 2));
  h.feed(trade("ETH/USD", kT0 + 4 * kSecond, 11, 4));
  h.feed(trade("ETH/USD", kT0 + kMinute, 12, 1));
  const auto emitted = h.out.take();
  const auto c = candles(emitted);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].open, 10);
  EXPECT_EQ(c[0].high, 14);
  EXPECT_EQ(c[0].low, 8);
  EXPECT_EQ(c[0].close, 11);
  EXPECT_EQ(c[0].volume, 10);
  EXPECT_DOUBLE_EQ(c[0].vwap, (10.0 + 42 + 16 + 44) / 10);
  EXPECT_EQ(c[0].trades, 4);
  const Metric& m = *std::find_if(emitted.begin(), emitted.end(),
                                  [](const Metric& x) { return x.name() == "candle"; });
  EXPECT_EQ(*m.tag("exchange"), "kraken");
  EXPECT_EQ(*m.tag("interval"), "1m");
  EXPECT_EQ(m.tags().size(), 3u);
  EXPECT_EQ(m.fields().size(), 8u);
}

TEST(Ohlc, OutOfOrderTradesInsideAWindowUseEventTimeForOpenAndClose) {
  Harness h(options({1min}, 0s));
  h.feed(trade("BTC/USD", kT0 + 30 * kSecond, 105, 1));
  h.feed(trade("BTC/USD", kT0 + 10 * kSecond, 101, 1));  // earlier: becomes open
  h.feed(trade("BTC/USD", kT0 + 50 * kSecond, 107, 1));
  h.feed(trade("BTC/USD", kT0 + 40 * kSecond, 99, 1));  // not the latest: close stays 107
  h.feed(trade("BTC/USD", kT0 + kMinute + kSecond, 120, 1));
  const auto c = candles(h.out.take());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].open, 101);
  EXPECT_EQ(c[0].close, 107);
  EXPECT_EQ(c[0].low, 99);
  EXPECT_EQ(c[0].high, 107);
  EXPECT_EQ(c[0].trades, 4);
}

TEST(Ohlc, LateTradeWithinGraceReemitsItsCandle) {
  Harness h(options({1min}, 10s));
  h.feed(trade("BTC/USD", kT0 + 5 * kSecond, 100, 1));
  h.feed(trade("BTC/USD", kT0 + kMinute + kSecond, 110, 1));  // closes [T0, T0+1m)
  auto first = candles(h.out.take());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].trades, 1);

  h.feed(trade("BTC/USD", kT0 + 55 * kSecond, 90, 3));  // 6 s late, grace is 10 s
  auto second = candles(h.out.take());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].start, kT0);  // same key: idempotent sinks overwrite
  EXPECT_EQ(second[0].trades, 2);
  EXPECT_EQ(second[0].low, 90);
  EXPECT_EQ(second[0].close, 90);  // latest event time in the window
  EXPECT_EQ(second[0].volume, 4);
  EXPECT_FALSE(second[0].partial);
  EXPECT_EQ(h.context.counterValue("ohlc_amended_candles_total"), 1);
  EXPECT_EQ(h.context.counterValue("ohlc_late_trades_total"), 0);
}

TEST(Ohlc, TradeLaterThanGraceIsCountedAndLeftOut) {
  Harness h(options({1min}, 10s));
  h.feed(trade("BTC/USD", kT0 + 5 * kSecond, 100, 1));
  h.feed(trade("BTC/USD", kT0 + kMinute + 15 * kSecond, 110, 1));  // watermark T0+65s
  ASSERT_EQ(candles(h.out.take()).size(), 1u);
  h.feed(trade("BTC/USD", kT0 + 59 * kSecond, 1, 1));
  const auto after = h.out.take();
  EXPECT_EQ(candles(after).size(), 0u);
  EXPECT_EQ(countNamed(after, "trade"), 1u) << "the trade itself still goes downstream";
  EXPECT_EQ(h.context.counterValue("ohlc_late_trades_total"), 1);
  h.processor.flush(h.out);
  auto open = candles(h.out.take());
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].low, 110);
}

TEST(Ohlc, WatermarkIsPerPairSoASnapshotOfAnotherPairIsNotLate) {
  Harness h(options({1min}, 0s));
  h.feed(trade("BTC/USD", kT0 + 10 * kMinute, 100, 1));
  h.feed(trade("ETH/USD", kT0, 10, 1));  // older, but ETH's own first trade
  EXPECT_EQ(h.context.counterValue("ohlc_late_trades_total"), 0);
  h.feed(trade("ETH/USD", kT0 + kMinute, 11, 1));
  auto c = candles(h.out.take());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].pair, "ETH/USD");
}

TEST(Ohlc, EmptyWindowsGiveNoCandleByDefault) {
  Harness h(options({1min}, 0s));
  h.feed(trade("BTC/USD", kT0, 100, 1));
  h.feed(trade("BTC/USD", kT0 + 4 * kMinute, 104, 1));
  auto c = candles(h.out.take());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].start, kT0);
}

TEST(Ohlc, FillPreviousCloseCoversEmptyWindows) {
  OhlcOptions o = options({1min}, 0s);
  o.fill = "previous_close";
  Harness h(o);
  h.feed(trade("BTC/USD", kT0, 100, 1));
  h.feed(trade("BTC/USD", kT0 + 30 * kSecond, 101, 1));
  h.feed(trade("BTC/USD", kT0 + 4 * kMinute, 104, 1));
  auto c = candles(h.out.take());
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].start, kT0);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(c[i].start, kT0 + i * kMinute);
    EXPECT_EQ(c[i].open, 101);
    EXPECT_EQ(c[i].high, 101);
    EXPECT_EQ(c[i].low, 101);
    EXPECT_EQ(c[i].close, 101);
    EXPECT_EQ(c[i].volume, 0);
    EXPECT_EQ(c[i].vwap, 0);
    EXPECT_EQ(c[i].trades, 0);
    EXPECT_FALSE(c[i].partial);
  }
}

TEST(Ohlc, HugeGapsAreNotFilledAndDoNotStallTheStream) {
  OhlcOptions o = options({1min}, 0s);
  o.fill = "previous_close";
  Harness h(o);
  h.feed(trade("BTC/USD", kT0, 100, 1));
  const std::int64_t far = kT0 + 400LL * 24 * 60 * kMinute;  // 400 days later: 576,000 windows
  h.feed(trade("BTC/USD", far, 200, 1));
  h.feed(trade("BTC/USD", far + kMinute, 201, 1));
  h.feed(trade("BTC/USD", far + 3 * kMinute, 203, 1));
  auto c = candles(h.out.take());
  // The first candle, the far one, then one fill at 201 (the gap after the far candle is small).
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].start, kT0);
  EXPECT_EQ(c[1].start, far);
  EXPECT_EQ(c[2].start, far + kMinute);
  EXPECT_EQ(c[3].start, far + 2 * kMinute);
  EXPECT_EQ(c[3].trades, 0);
  EXPECT_EQ(c[3].close, 201);
  int warnings = 0;
  for (const auto& l : h.context.logger().lines()) {
    if (l.message.find("not filled") != std::string::npos) ++warnings;
  }
  EXPECT_EQ(warnings, 1);
}

TEST(Ohlc, QuietPairClosesWithTheWallClockWhenCloseIdle) {
  Harness h(options({1min}, 2s));
  h.feed(trade("SOL/USD", kT0 + 50 * kSecond, 160, 1));
  const std::int64_t wall = kT0 + 50 * kSecond + 300'000'000;  // 0.3 s of feed latency
  h.processor.tick(wall, h.out);                               // stamps the arrival
  h.processor.tick(wall + 9 * kSecond, h.out);                 // the pair's time is now T0+59s
  EXPECT_EQ(candles(h.out.take()).size(), 0u);
  h.processor.tick(wall + 10 * kSecond, h.out);  // T0+60s: the window has closed
  auto c = candles(h.out.take());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].partial);
  EXPECT_EQ(c[0].start, kT0);
}

TEST(Ohlc, QuietPairWaitsForItsNextTradeWithoutCloseIdle) {
  OhlcOptions o = options({1min}, 2s);
  o.close_idle = false;
  Harness h(o);
  h.feed(trade("SOL/USD", kT0 + 50 * kSecond, 160, 1));
  for (int s = 0; s < 300; s += 1) h.processor.tick(kT0 + 51 * kSecond + s * kSecond, h.out);
  EXPECT_EQ(candles(h.out.take()).size(), 0u);
}

TEST(Ohlc, EmitPartialSendsChangedOpenWindowsOnTick) {
  OhlcOptions o = options({1min}, 0s);
  o.emit_partial = true;
  o.close_idle = false;
  Harness h(o);
  h.feed(trade("BTC/USD", kT0 + kSecond, 100, 1));
  h.processor.tick(kT0 + 2 * kSecond, h.out);
  auto p1 = candles(h.out.take());
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_TRUE(p1[0].partial);
  EXPECT_EQ(p1[0].trades, 1);
  h.processor.tick(kT0 + 3 * kSecond, h.out);
  EXPECT_EQ(candles(h.out.take()).size(), 0u) << "unchanged: nothing new to say";
  h.feed(trade("BTC/USD", kT0 + 3 * kSecond, 101, 1));
  h.processor.tick(kT0 + 4 * kSecond, h.out);
  auto p2 = candles(h.out.take());
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2[0].trades, 2);
  EXPECT_TRUE(p2[0].partial);
}

TEST(Ohlc, OtherMetricsPassThroughUnchangedAndBadTradesAreCounted) {
  Harness h(options({1min}, 0s));
  Metric ticker =
      MetricBuilder("ticker").tag("pair", "BTC/USD").field("last", FieldValue{1.5}).time(kT0);
  h.feed(ticker);
  Metric bad = MetricBuilder("trade")
                   .tag("pair", "BTC/USD")
                   .field("price", "95863.2")
                   .field("volume", FieldValue{1.0})
                   .time(kT0);
  h.feed(bad);
  const auto out = h.out.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], ticker);
  EXPECT_EQ(out[1], bad);
  EXPECT_EQ(h.context.counterValue("ohlc_invalid_trades_total"), 1);
  EXPECT_TRUE(h.context.logger().contains("not aggregated"));
  h.processor.flush(h.out);
  EXPECT_EQ(h.out.size(), 0u);
}

TEST(Ohlc, PassTradesFalseConsumesTrades) {
  OhlcOptions o = options({1min}, 0s);
  o.pass_trades = false;
  Harness h(o);
  h.feed(trade("BTC/USD", kT0, 100, 1));
  EXPECT_EQ(h.out.size(), 0u);
}

TEST(Ohlc, RejectsBadIntervals) {
  using cvagent::testing::bindOptions;
  EXPECT_THROW(bindOptions<OhlcOptions>("intervals: [500ms]\ngrace: 0s"), std::invalid_argument);
  EXPECT_THROW(bindOptions<OhlcOptions>("intervals: [1m, 1m]\ngrace: 0s"), std::invalid_argument);
  EXPECT_THROW(bindOptions<OhlcOptions>("intervals: []\ngrace: 0s"), std::invalid_argument);
  EXPECT_THROW(bindOptions<OhlcOptions>("intervals: [1m]\ngrace: 0s\nfill: zero"),
               std::invalid_argument);
  EXPECT_NO_THROW(bindOptions<OhlcOptions>("intervals: [1m, 5m, 15m, 1h, 24h]\ngrace: 2s"));
}

// --- many pairs, and a reference computation
// ------------------------------------------------------

using Key = std::tuple<std::string, std::string, std::int64_t>;
struct Ref {
  double open = 0, high = 0, low = 0, close = 0, volume = 0, pv = 0;
  std::int64_t trades = 0, open_time = 0, close_time = 0;
};

// The plain definition, for in-order streams.
std::map<Key, Ref> reference(const std::vector<Metric>& trades,
                             const std::vector<std::pair<std::string, std::int64_t>>& intervals) {
  std::map<Key, Ref> out;
  for (const auto& t : trades) {
    double price = 0, volume = 0;
    t.numberField("price", price);
    t.numberField("volume", volume);
    for (const auto& [label, width] : intervals) {
      Ref& r = out[{*t.tag("pair"), label, t.time() / width * width}];
      if (r.trades == 0 || t.time() < r.open_time) {
        r.open = price;
        r.open_time = t.time();
      }
      if (r.trades == 0 || t.time() >= r.close_time) {
        r.close = price;
        r.close_time = t.time();
      }
      r.high = r.trades == 0 ? price : std::max(r.high, price);
      r.low = r.trades == 0 ? price : std::min(r.low, price);
      r.volume += volume;
      r.pv += price * volume;
      ++r.trades;
    }
  }
  return out;
}

TEST(Ohlc, ManyPairsInterleavedMatchTheReference) {
  std::mt19937_64 rng(7);
  std::vector<Metric> trades;
  std::int64_t t = kT0;
  for (int i = 0; i < 20'000; ++i) {
    t += static_cast<std::int64_t>(rng() % 100'000'000);  // up to 0.1 s apart
    const std::string pair = "P" + std::to_string(rng() % 50) + "/USD";
    trades.push_back(trade(pair, t, 100 + static_cast<double>(rng() % 1000) / 10,
                           static_cast<double>(1 + rng() % 10000) / 1e4, i));
  }
  Harness h(options({1min, 5min, 15min}, 1s));
  for (const auto& m : trades) h.feed(m);
  h.processor.flush(h.out);
  const auto expected =
      reference(trades, {{"1m", kMinute}, {"5m", 5 * kMinute}, {"15m", 15 * kMinute}});
  std::map<Key, CandleView> got;
  for (const auto& c : candles(h.out.take())) {
    ASSERT_TRUE(got.emplace(Key{c.pair, c.interval, c.start}, c).second);
  }
  ASSERT_EQ(got.size(), expected.size());
  std::set<std::string> pairs;
  for (const auto& [key, r] : expected) {
    const CandleView& c = got.at(key);
    pairs.insert(c.pair);
    EXPECT_EQ(c.open, r.open);
    EXPECT_EQ(c.high, r.high);
    EXPECT_EQ(c.low, r.low);
    EXPECT_EQ(c.close, r.close);
    EXPECT_EQ(c.trades, r.trades);
    EXPECT_TRUE(near(c.volume, r.volume, 1e-12));
    EXPECT_TRUE(near(c.vwap, r.pv / r.volume, 1e-12))
        << c.vwap << " vs " << r.pv / r.volume << " vol " << c.volume << " n " << c.trades;
  }
  EXPECT_EQ(pairs.size(), 50u);
  EXPECT_EQ(h.context.counterValue("ohlc_late_trades_total"), 0);
}

// Property: merging the 1m candles of a 5m window gives the 5m candle computed directly, including
// when trades arrive out of order (within grace), for several random streams.
TEST(OhlcProperty, FiveMinuteCandlesEqualMergedOneMinuteCandles) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    Harness h(options({1min, 5min}, 30s));
    std::int64_t t = kT0 + static_cast<std::int64_t>(rng() % (5 * kMinute));
    for (int i = 0; i < 3000; ++i) {
      t += static_cast<std::int64_t>(rng() % 400'000'000);
      // One trade in eight arrives up to 25 s late: inside grace, so nothing is dropped.
      const std::int64_t jitter =
          rng() % 8 == 0 ? static_cast<std::int64_t>(rng() % (25 * kSecond)) : 0;
      h.feed(trade(rng() % 2 ? "BTC/USD" : "ETH/USD", t - jitter,
                   1000 + static_cast<double>(rng() % 5000) / 100,
                   static_cast<double>(1 + rng() % 100000) / 1e5));
    }
    h.processor.flush(h.out);
    ASSERT_EQ(h.context.counterValue("ohlc_late_trades_total"), 0);
    // Last version of each candle wins, as in an idempotent sink.
    std::map<Key, CandleView> latest;
    for (const auto& c : candles(h.out.take())) latest[{c.pair, c.interval, c.start}] = c;
    std::map<Key, std::vector<CandleView>> merged;
    std::size_t five = 0;
    for (const auto& [key, c] : latest) {
      if (c.interval == "1m")
        merged[{c.pair, "5m", c.start / (5 * kMinute) * (5 * kMinute)}].push_back(c);
    }
    for (const auto& [key, c] : latest) {
      if (c.interval != "5m") continue;
      ++five;
      const auto& parts = merged.at(key);  // map order: by start
      double high = parts.front().high, low = parts.front().low, volume = 0, pv = 0;
      std::int64_t trades = 0;
      for (const auto& p : parts) {
        high = std::max(high, p.high);
        low = std::min(low, p.low);
        volume += p.volume;
        pv += p.vwap * p.volume;
        trades += p.trades;
      }
      EXPECT_EQ(c.open, parts.front().open);
      EXPECT_EQ(c.close, parts.back().close);
      EXPECT_EQ(c.high, high);
      EXPECT_EQ(c.low, low);
      EXPECT_EQ(c.trades, trades);
      EXPECT_TRUE(near(c.volume, volume, 1e-9)) << c.volume << " vs " << volume;
      EXPECT_TRUE(near(c.vwap, pv / volume, 1e-9)) << c.vwap << " vs " << pv / volume;
    }
    EXPECT_GT(five, 5u);
  }
}

}  // namespace
}  // namespace cvagent::processors::ohlc

#include "normalize_processor.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <string>

#include "cvagent/testing/bind_options.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"

namespace cvagent::processors::normalize {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;

std::string dataPath(const char* name) { return std::string(CVAGENT_TEST_DATA) + "/" + name; }
// Fixtures shared with other plugins (tests/data/kraken).
std::string sharedPath(const char* name) {
  return std::string(CVAGENT_SHARED_TEST_DATA) + "/kraken/" + name;
}

struct Harness {
  explicit Harness(const NormalizeOptions& options) : processor(options, context) {}
  Metric run(Metric m) {
    processor.process(std::move(m), out);
    auto got = out.take();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? Metric() : std::move(got.front());
  }
  TestContext context;
  NormalizeProcessor processor;
  CapturingEmitter out;
};

Metric withPair(std::string_view pair) {
  return MetricBuilder("ticker").tag("exchange", "kraken").tag("pair", pair).time(1);
}

std::string legacyToV2(std::string_view wsname) {
  auto asset = [](std::string_view a) -> std::string {
    if (a == "XBT") return "BTC";
    if (a == "XDG") return "DOGE";
    return std::string(a);
  };
  const auto slash = wsname.find('/');
  return asset(wsname.substr(0, slash)) + "/" + asset(wsname.substr(slash + 1));
}

// --- pairs -----------------------------------------------------------------------------------

TEST(NormalizePairs, KrakenSpellingsOfTheSamePairBecomeOneName) {
  Harness h{NormalizeOptions{}};
  const std::map<std::string, std::string> cases{
      {"XXBTZUSD", "BTC/USD"}, {"XBTUSD", "BTC/USD"},   {"XBT/USD", "BTC/USD"},
      {"BTC/USD", "BTC/USD"},  {"btc-usd", "BTC/USD"},  {"BTC_USD", "BTC/USD"},
      {"XETHZUSD", "ETH/USD"}, {"ETHUSD", "ETH/USD"},   {"XDGUSD", "DOGE/USD"},
      {"XDG/USD", "DOGE/USD"}, {"XBTUSDT", "BTC/USDT"}, {"SOLUSD", "SOL/USD"},
      {"ETH/XBT", "ETH/BTC"},  {"XETHXXBT", "ETH/BTC"}, {"USDTZUSD", "USDT/USD"},
      {"XXBTZEUR", "BTC/EUR"}};
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(*h.run(withPair(in)).tag("pair"), want) << in;
  }
  EXPECT_EQ(h.context.counterValue("normalize_unknown_pairs_total"), 0);
}

TEST(NormalizePairs, LegacyStyleEmitsTheV1Names) {
  NormalizeOptions o;
  o.pair_style = "legacy";
  Harness h(o);
  EXPECT_EQ(*h.run(withPair("BTC/USD")).tag("pair"), "XBT/USD");
  EXPECT_EQ(*h.run(withPair("XXBTZUSD")).tag("pair"), "XBT/USD");
  EXPECT_EQ(*h.run(withPair("DOGE/USD")).tag("pair"), "XDG/USD");
  EXPECT_EQ(*h.run(withPair("ETH/BTC")).tag("pair"), "ETH/XBT");
  EXPECT_EQ(*h.run(withPair("ETH/USD")).tag("pair"), "ETH/USD");
}

TEST(NormalizePairs, UnknownPairsPassUnchangedAndAreCounted) {
  Harness h{NormalizeOptions{}};
  EXPECT_EQ(*h.run(withPair("FOOBARQUX")).tag("pair"), "FOOBARQUX");
  EXPECT_EQ(*h.run(withPair("FOOBARQUX")).tag("pair"), "FOOBARQUX");
  EXPECT_EQ(*h.run(withPair("A/B/C")).tag("pair"), "A/B/C");
  EXPECT_EQ(h.context.counterValue("normalize_unknown_pairs_total"), 3);
  int lines = 0;
  for (const auto& l : h.context.logger().lines()) {
    if (l.message.find("FOOBARQUX") != std::string::npos) ++lines;
  }
  EXPECT_EQ(lines, 1) << "each unknown pair is logged once";
}

TEST(NormalizePairs, ConfiguredAliasesAndAssetsWin) {
  NormalizeOptions o;
  o.pair_aliases = {{"FOOBARQUX", "FOO/QUX"}};
  o.asset_aliases = {{"XTZ2", "XTZ"}};
  o.assets = {"RENDER"};
  Harness h(o);
  EXPECT_EQ(*h.run(withPair("FOOBARQUX")).tag("pair"), "FOO/QUX");
  EXPECT_EQ(*h.run(withPair("XTZ2/EUR")).tag("pair"), "XTZ/EUR");
  EXPECT_EQ(*h.run(withPair("RENDERUSD")).tag("pair"), "RENDER/USD");
  EXPECT_EQ(h.context.counterValue("normalize_unknown_pairs_total"), 0);
}

TEST(NormalizePairs, ManyDistinctNamesStayCorrectPastTheCacheBound) {
  Harness h{NormalizeOptions{}};
  for (int i = 0; i < 5000; ++i) h.run(withPair("JUNK" + std::to_string(i)));
  EXPECT_EQ(h.context.counterValue("normalize_unknown_pairs_total"), 5000);
  EXPECT_EQ(*h.run(withPair("XXBTZUSD")).tag("pair"), "BTC/USD") << "resolved uncached";
  EXPECT_EQ(*h.run(withPair("JUNK1")).tag("pair"), "JUNK1");
}

TEST(NormalizePairs, EmptyPairTagLeavesPairsAlone) {
  NormalizeOptions o;
  o.pair_tag = "";
  Harness h(o);
  EXPECT_EQ(*h.run(withPair("XBT/USD")).tag("pair"), "XBT/USD");
}

// Every pair of a live /0/public/AssetPairs response (2021, 300+ pairs): the REST key
// (`XXBTZUSD`), the altname (`XBTUSD`) and the v1 wsname (`XBT/USD`) give one v2 name, and the
// legacy style gives back the wsname. The assets are configured from the response, as a user
// trading those pairs would.
TEST(NormalizePairs, AllKrakenAssetPairsAgreeAcrossSpellings) {
  std::ifstream in(dataPath("cryptofeed_KRAKEN.0"));
  std::string line;
  std::string body;
  while (std::getline(in, line)) {
    if (line.find("\"result\"") != std::string::npos) body = line.substr(line.find('{'));
  }
  ASSERT_FALSE(body.empty());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  struct Spelling {
    std::string key, altname, wsname;
  };
  std::vector<Spelling> pairs;
  NormalizeOptions v2;
  for (auto [key, value] : doc["result"].get_object()) {
    std::string_view wsname;
    if (value["wsname"].get(wsname) != simdjson::SUCCESS) continue;  // dark-pool `.d` pairs
    pairs.push_back({std::string(key), std::string(value["altname"].get_string().value()),
                     std::string(wsname)});
    const auto slash = wsname.find('/');
    v2.assets.emplace_back(wsname.substr(0, slash));
    v2.assets.emplace_back(wsname.substr(slash + 1));
  }
  ASSERT_EQ(pairs.size(), 293u);
  NormalizeOptions legacy = v2;
  legacy.pair_style = "legacy";
  Harness hv2(v2);
  Harness hlegacy(legacy);
  for (const auto& p : pairs) {
    const std::string want = legacyToV2(p.wsname);
    EXPECT_EQ(*hv2.run(withPair(p.key)).tag("pair"), want) << p.key;
    EXPECT_EQ(*hv2.run(withPair(p.altname)).tag("pair"), want) << p.altname;
    EXPECT_EQ(*hv2.run(withPair(p.wsname)).tag("pair"), want) << p.wsname;
    EXPECT_EQ(*hlegacy.run(withPair(p.key)).tag("pair"), p.wsname) << p.key;
  }
  EXPECT_EQ(hv2.context.counterValue("normalize_unknown_pairs_total"), 0);
}

// --- numbers ---------------------------------------------------------------------------------

TEST(NormalizeNumbers, NumericStringsBecomeTypedFields) {
  Harness h{NormalizeOptions{}};
  Metric m = h.run(MetricBuilder("trade")
                       .tag("pair", "BTC/USD")
                       .field("price", "95863.2")
                       .field("volume", "5.1e-05")
                       .field("trade_id", "10218208")
                       .field("ord_type", "limit")
                       .field("id", "12345")
                       .time(1));
  EXPECT_EQ(std::get<double>(*m.field("price")), 95863.2);
  EXPECT_EQ(std::get<double>(*m.field("volume")), 5.1e-05);
  EXPECT_EQ(std::get<std::int64_t>(*m.field("trade_id")), 10218208);
  EXPECT_EQ(*m.stringField("ord_type"), "limit");
  EXPECT_EQ(*m.stringField("id"), "12345") << "only listed fields are converted";
  EXPECT_EQ(h.context.counterValue("normalize_invalid_numbers_total"), 0);
}

TEST(NormalizeNumbers, NonNumbersStayStringsAndAreCounted) {
  Harness h{NormalizeOptions{}};
  Metric m = h.run(MetricBuilder("trade")
                       .field("price", "n/a")
                       .field("volume", "nan")
                       .field("trade_id", "12.5")
                       .field("last", " 1.5")
                       .time(1));
  EXPECT_EQ(*m.stringField("price"), "n/a");
  EXPECT_EQ(*m.stringField("volume"), "nan");
  EXPECT_EQ(*m.stringField("trade_id"), "12.5");
  EXPECT_EQ(*m.stringField("last"), " 1.5");
  EXPECT_EQ(h.context.counterValue("normalize_invalid_numbers_total"), 4);
  EXPECT_TRUE(h.context.logger().contains("field `price` = \"n/a\" is not a number"));
}

// --- time ------------------------------------------------------------------------------------

TEST(NormalizeTime, TimeFieldFormsBecomeUtcNanoseconds) {
  NormalizeOptions o;
  o.time_field = "timestamp";
  Harness h(o);
  auto timeOf = [&](FieldValue v) {
    Metric m = h.run(MetricBuilder("trade").field("timestamp", std::move(v)).time(7));
    EXPECT_EQ(m.field("timestamp"), nullptr) << "moved into the metric time";
    return m.time();
  };
  EXPECT_EQ(timeOf(std::string("2026-11-24T14:27:29.582396Z")), 1'795'530'449'582'396'000);
  EXPECT_EQ(timeOf(std::string("2026-11-24T15:27:29.5+01:00")), 1'795'530'449'500'000'000);
  EXPECT_EQ(timeOf(std::string("1618678142.557535")), 1'618'678'142'557'535'000);  // exact
  EXPECT_EQ(timeOf(std::string("1618678142")), 1'618'678'142'000'000'000);
  EXPECT_EQ(timeOf(std::int64_t{1'618'678'142'557}), 1'618'678'142'557'000'000);          // ms
  EXPECT_EQ(timeOf(std::int64_t{1'618'678'142'557'535}), 1'618'678'142'557'535'000);      // us
  EXPECT_EQ(timeOf(std::int64_t{1'618'678'142'557'535'123}), 1'618'678'142'557'535'123);  // ns
  EXPECT_NEAR(static_cast<double>(timeOf(1762795433.9717445)), 1.7627954339717445e18, 512);
  EXPECT_EQ(h.context.counterValue("normalize_invalid_times_total"), 0);
}

TEST(NormalizeTime, ExplicitUnitAndBadValues) {
  NormalizeOptions o;
  o.time_field = "t";
  o.time_unit = "ms";
  Harness h(o);
  EXPECT_EQ(h.run(MetricBuilder("x").field("t", std::int64_t{5}).time(9)).time(), 5'000'000);
  EXPECT_EQ(h.run(MetricBuilder("x").field("t", "1.5").time(9)).time(), 1'500'000);
  Metric bad = h.run(MetricBuilder("x").field("t", "yesterday").time(1'700'000'000'000'000'000));
  EXPECT_EQ(bad.time(), 1'700'000'000'000'000'000);
  EXPECT_EQ(*bad.stringField("t"), "yesterday");
  EXPECT_EQ(h.context.counterValue("normalize_invalid_times_total"), 1);
}

TEST(NormalizeTime, MetricTimesInCoarseUnitsAreScaled) {
  Harness h{NormalizeOptions{}};
  EXPECT_EQ(h.run(MetricBuilder("x").time(1'618'678'142)).time(), 1'618'678'142'000'000'000);
  EXPECT_EQ(h.run(MetricBuilder("x").time(1'618'678'142'557)).time(), 1'618'678'142'557'000'000);
  EXPECT_EQ(h.run(MetricBuilder("x").time(1'618'678'142'557'535)).time(),
            1'618'678'142'557'535'000);
  EXPECT_EQ(h.run(MetricBuilder("x").time(1'618'678'142'557'535'123)).time(),
            1'618'678'142'557'535'123);
  EXPECT_EQ(h.run(MetricBuilder("x").time(0)).time(), 0);
  NormalizeOptions off;
  off.fix_metric_time = false;
  Harness h2(off);
  EXPECT_EQ(h2.run(MetricBuilder("x").time(1'618'678'142)).time(), 1'618'678'142);
}

// --- mappings --------------------------------------------------------------------------------

TEST(NormalizeMappings, RenamesAndDropsRunFirstAndRespectTheMetricName) {
  NormalizeOptions o;
  MappingRule trades;
  trades.metric = "trade";
  trades.rename_tags = {{"symbol", "pair"}};
  trades.rename_fields = {{"qty", "volume"}};
  trades.drop_tags = {"channel"};
  trades.drop_fields = {"misc"};
  MappingRule all;
  all.drop_fields = {"debug"};
  o.mappings = {trades, all};
  Harness h(o);
  Metric t = h.run(MetricBuilder("trade")
                       .tag("symbol", "XBT/USD")
                       .tag("channel", "trade")
                       .field("qty", "0.5")
                       .field("misc", "")
                       .field("debug", true)
                       .time(1));
  EXPECT_EQ(t.tag("symbol"), nullptr);
  EXPECT_EQ(*t.tag("pair"), "BTC/USD") << "renamed, then normalized";
  EXPECT_EQ(t.tag("channel"), nullptr);
  EXPECT_EQ(std::get<double>(*t.field("volume")), 0.5) << "renamed, then converted";
  EXPECT_EQ(t.field("qty"), nullptr);
  EXPECT_EQ(t.field("misc"), nullptr);
  EXPECT_EQ(t.field("debug"), nullptr);

  Metric other = h.run(MetricBuilder("ticker")
                           .tag("symbol", "XBT/USD")
                           .field("qty", std::int64_t{1})
                           .field("misc", "x")
                           .field("debug", true)
                           .time(1));
  EXPECT_EQ(*other.tag("symbol"), "XBT/USD");
  EXPECT_NE(other.field("qty"), nullptr);
  EXPECT_NE(other.field("misc"), nullptr);
  EXPECT_EQ(other.field("debug"), nullptr) << "the rule without a metric applies to all";
}

TEST(NormalizeConfig, RejectsBadValues) {
  using cvagent::testing::bindOptions;
  EXPECT_THROW(bindOptions<NormalizeOptions>("pair_style: v3"), std::invalid_argument);
  EXPECT_THROW(bindOptions<NormalizeOptions>("time_unit: minutes"), std::invalid_argument);
  EXPECT_THROW(bindOptions<NormalizeOptions>("pair_aliases: {XBTUSD: BTCUSD}"),
               std::invalid_argument);
  EXPECT_NO_THROW(bindOptions<NormalizeOptions>(""));
}

// --- recordings ------------------------------------------------------------------------------

// Decimal text to nanoseconds the slow, obvious way, for checking the processor.
std::int64_t secondsTextToNs(const std::string& text) {
  const auto dot = text.find('.');
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  frac.resize(9, '0');
  return std::stoll(text.substr(0, dot)) * 1'000'000'000 + std::stoll(frac);
}

// A 2021 Kraken WS v1 trade session, turned into metrics the way a generic input would (numbers
// and times as the strings Kraken sent, v1 pair names): normalize gives the contract's shape.
TEST(NormalizeRecordings, KrakenV1TradeSession) {
  std::ifstream in(dataPath("cryptofeed_KRAKEN.ws.48.0"));
  simdjson::dom::parser parser;
  NormalizeOptions o;
  o.time_field = "timestamp";
  Harness h(o);
  NormalizeOptions lo = o;
  lo.pair_style = "legacy";
  Harness legacy(lo);
  std::string line;
  std::size_t trades = 0;
  bool saw_documented_example = false;
  while (std::getline(in, line)) {
    const auto brace = line.find(": [");
    if (brace == std::string::npos) continue;
    simdjson::dom::element frame = parser.parse(line.substr(brace + 2));
    auto arr = frame.get_array();
    if (arr.size() != 4 || arr.at(2).get_string().value() != "trade") continue;
    const std::string pair(arr.at(3).get_string().value());
    for (simdjson::dom::element t : arr.at(1).get_array()) {
      auto row = t.get_array();
      const std::string price(row.at(0).get_string().value());
      const std::string volume(row.at(1).get_string().value());
      const std::string time(row.at(2).get_string().value());
      Metric raw = MetricBuilder("trade")
                       .tag("exchange", "kraken")
                       .tag("pair", pair)
                       .field("price", price)
                       .field("volume", volume)
                       .field("timestamp", time)
                       .time(0);
      Metric m = h.run(raw);
      EXPECT_EQ(*m.tag("pair"), legacyToV2(pair));
      EXPECT_EQ(std::get<double>(*m.field("price")), std::stod(price));
      EXPECT_EQ(std::get<double>(*m.field("volume")), std::stod(volume));
      EXPECT_EQ(m.time(), secondsTextToNs(time)) << time;
      EXPECT_EQ(m.field("timestamp"), nullptr);
      EXPECT_EQ(*legacy.run(raw).tag("pair"), pair) << "legacy style keeps v1 names";
      if (pair == "XMR/USD" && time == "1618678142.557535") {
        saw_documented_example = true;
        EXPECT_EQ(m.time(), 1'618'678'142'557'535'000);
        EXPECT_EQ(std::get<double>(*m.field("price")), 354.11);
      }
      ++trades;
    }
  }
  EXPECT_EQ(trades, 10u);  // every trade entry of the session
  EXPECT_TRUE(saw_documented_example);
  EXPECT_EQ(h.context.counterValue("normalize_unknown_pairs_total"), 0);
  EXPECT_EQ(h.context.counterValue("normalize_invalid_numbers_total"), 0);
  EXPECT_EQ(h.context.counterValue("normalize_invalid_times_total"), 0);
}

// REST /0/public/Trades (2025): the result key `XBTUSDT` and float epoch-second times.
TEST(NormalizeRecordings, KrakenRestTradesKeyAndTimes) {
  simdjson::dom::parser parser;
  simdjson::padded_string json = simdjson::padded_string::load(sharedPath("http_trades.json"));
  simdjson::dom::element doc = parser.parse(json);
  NormalizeOptions o;
  o.time_field = "time";
  Harness h(o);
  std::size_t n = 0;
  for (simdjson::dom::element row : doc["result"]["XBTUSDT"].get_array()) {
    auto r = row.get_array();
    const double seconds = r.at(2).get_double();
    Metric m = h.run(MetricBuilder("trade")
                         .tag("pair", "XBTUSDT")
                         .field("price", std::string(r.at(0).get_string().value()))
                         .field("time", FieldValue{seconds})
                         .field("trade_id", FieldValue{r.at(6).get_int64().value()})
                         .time(0));
    EXPECT_EQ(*m.tag("pair"), "BTC/USDT");
    EXPECT_NEAR(static_cast<double>(m.time()), seconds * 1e9, 1024);
    EXPECT_EQ(std::get<std::int64_t>(*m.field("trade_id")), r.at(6).get_int64().value());
    ++n;
  }
  EXPECT_EQ(n, 1000u);
}

}  // namespace
}  // namespace cvagent::processors::normalize

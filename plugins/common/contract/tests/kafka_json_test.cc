#include "contract/kafka_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>

#include "contract/testing/sample_metrics.h"
#include "cvagent/codec.h"
#include "cvagent/testing/metric_builder.h"

namespace cvagent::contract {
namespace {

using testing::everyKind;
using testing::sortedFields;

TEST(KafkaShapes, EveryContractMetricRoundTripsThroughItsTopicShape) {
  simdjson::dom::parser parser;
  for (const Metric& metric : everyKind()) {
    SCOPED_TRACE(metric.name());
    std::string json;
    appendJson(metric, json);
    Metric back;
    std::string error;
    ASSERT_TRUE(parseValue(parser, json, metric.name(), 0, back, error)) << error << "\n" << json;
    EXPECT_EQ(sortedFields(back), sortedFields(metric)) << json;
  }
}

TEST(KafkaShapes, WritesTheKeysTheLegacyConsumersRead) {
  simdjson::dom::parser parser;
  const auto metrics = everyKind();
  auto shaped = [&](std::string_view name) {
    for (const auto& m : metrics) {
      if (m.name() == name) {
        std::string json;
        appendJson(m, json);
        return json;
      }
    }
    return std::string();
  };
  // rawticker: pair, last, bid, ask, volume_24h, timestamp (float seconds), pct_change.
  auto ticker = parser.parse(shaped("ticker")).get_object().value();
  EXPECT_EQ(std::string_view(ticker["pair"].get_string().value()), "BTC/USD");
  EXPECT_DOUBLE_EQ(ticker["last"].get_double().value(), 95863.2);
  EXPECT_DOUBLE_EQ(ticker["bid"].get_double().value(), 95863.1);
  EXPECT_DOUBLE_EQ(ticker["ask"].get_double().value(), 95863.3);
  EXPECT_DOUBLE_EQ(ticker["volume_24h"].get_double().value(), 1234.5678);
  EXPECT_DOUBLE_EQ(ticker["timestamp"].get_double().value(), 1795962600.123456);
  EXPECT_DOUBLE_EQ(ticker["pct_change"].get_double().value(), 0.91);
  EXPECT_EQ(ticker["time"].get_int64().value(), testing::kEventNs);

  // rawtrade: side is b/s.
  auto trade = parser.parse(shaped("trade")).get_object().value();
  EXPECT_EQ(std::string_view(trade["side"].get_string().value()), "s");
  EXPECT_DOUBLE_EQ(trade["price"].get_double().value(), 3456.78);
  EXPECT_DOUBLE_EQ(trade["volume"].get_double().value(), 0.125);

  // rawalert: the Spark job's shape, timestamp in epoch milliseconds.
  auto alert = parser.parse(shaped("alert")).get_object().value();
  EXPECT_EQ(std::string_view(alert["pair"].get_string().value()), "BTC/USD");
  EXPECT_DOUBLE_EQ(alert["last"].get_double().value(), 95863.2);
  EXPECT_DOUBLE_EQ(alert["change"].get_double().value(), -0.75);
  EXPECT_DOUBLE_EQ(alert["threshold"].get_double().value(), 0.5);
  EXPECT_EQ(alert["timestamp"].get_int64().value(), 1'795'962'600'123);

  // rawarticle: website, content.text, sentiment {score, label}, cryptocurrencies_mentioned.
  auto article = parser.parse(shaped("article")).get_object().value();
  EXPECT_EQ(std::string_view(article["website"].get_string().value()), "CoinDesk");
  EXPECT_EQ(std::string_view(article["content"]["text"].get_string().value()),
            "Body text with unicode: \u00e9\u20ac");
  EXPECT_DOUBLE_EQ(article["sentiment"]["score"].get_double().value(), 0.7202);
  EXPECT_EQ(std::string_view(article["sentiment"]["label"].get_string().value()), "positive");
  EXPECT_EQ(article["cryptocurrencies_mentioned"].get_array().size(), 2u);
  EXPECT_DOUBLE_EQ(article["published_at"].get_double().value(), 1795962600.123456);
}

// The legacy `timestamp` as text: six fraction digits, zero-padded; before 1970 the sign first
// (it was -1.999998 for -0.000002 until this test).
TEST(KafkaShapes, LegacyTimestampsHaveExactlySixFractionDigits) {
  const auto timestamps = [](std::string_view name, std::int64_t time_ns) {
    Metric m(std::string(name), time_ns);
    m.setTag("pair", "BTC/USD");
    std::string json;
    appendJson(m, json);
    return json.substr(json.find("\"timestamp\""));
  };
  EXPECT_EQ(timestamps("trade", 1795962600000001000),
            R"("timestamp":1795962600.000001,"time":1795962600000001000})");
  EXPECT_EQ(timestamps("trade", 1795962600123456999),
            R"("timestamp":1795962600.123456,"time":1795962600123456999})");
  EXPECT_EQ(timestamps("trade", -1500), R"("timestamp":-0.000002,"time":-1500})");
  EXPECT_EQ(timestamps("trade", -1795962600123456000),
            R"("timestamp":-1795962600.123456,"time":-1795962600123456000})");
  EXPECT_EQ(timestamps("trade", std::numeric_limits<std::int64_t>::min()),
            R"("timestamp":-9223372036.854776,"time":-9223372036854775808})");
  EXPECT_EQ(timestamps("alert", -1500000000), R"("timestamp":-1500,"time":-1500000000})");
}

TEST(KafkaShapes, ReadsWhatTheLegacyPythonProducersWrote) {
  simdjson::dom::parser parser;
  std::string error;
  Metric trade;
  ASSERT_TRUE(parseValue(parser,
                         R"({"pair": "XBT/USD", "price": 95863.2, "volume": 0.01,)"
                         R"( "timestamp": 1795962600.5, "side": "b"})",
                         "trade", 0, trade, error))
      << error;
  EXPECT_EQ(*trade.tag("side"), "buy");
  EXPECT_EQ(*trade.tag("pair"), "XBT/USD");
  EXPECT_EQ(trade.time(), 1'795'962'600'500'000'000);

  Metric ticker;
  ASSERT_TRUE(parseValue(parser,
                         R"({"pair": "ETH/USD", "last": 3000.0, "bid": 2999.5, "ask": 3000.5,)"
                         R"( "volume_24h": 10.0, "timestamp": 1795962600.25, "pct_change": null})",
                         "ticker", 0, ticker, error))
      << error;
  EXPECT_EQ(ticker.fields().size(), 4u);  // pct_change (tick-to-tick) is not ours
  EXPECT_EQ(ticker.time(), 1'795'962'600'250'000'000);

  Metric article;
  ASSERT_TRUE(parseValue(parser,
                         R"({"id": "u1", "title": "T", "url": "u1", "website": "Decrypt",)"
                         R"( "summary": "S", "content": {}, "published_at": 1795962600.0,)"
                         R"( "scraped_at": 1795962700.0, "tags": ["btc"],)"
                         R"( "cryptocurrencies_mentioned": ["btc", "eth"],)"
                         R"( "sentiment": {"score": 0.55, "label": "neutral"}})",
                         "article", 0, article, error))
      << error;
  EXPECT_EQ(*article.tag("source"), "Decrypt");
  EXPECT_EQ(*article.stringField("coins"), "btc,eth");
  EXPECT_EQ(*article.stringField("sentiment_label"), "neutral");
  EXPECT_EQ(std::get<std::int64_t>(*article.field("receive_time")), 1'795'962'700'000'000'000);
  EXPECT_EQ(article.time(), 1'795'962'600'000'000'000);
}

TEST(KafkaShapes, ReadsTheGenericFormAndLineProtocolWhateverTheHint) {
  simdjson::dom::parser parser;
  const Metric trade = everyKind()[1];
  std::string error;
  for (auto format : {codec::Format::kJson, codec::Format::kInflux}) {
    std::string text;
    codec::append(format, trade, text);
    Metric back;
    ASSERT_TRUE(parseValue(parser, text, "", 0, back, error)) << error << "\n" << text;
    EXPECT_EQ(back, trade) << text;
  }
}

TEST(KafkaShapes, MalformedValuesSayWhy) {
  simdjson::dom::parser parser;
  Metric out;
  std::string error;
  EXPECT_FALSE(parseValue(parser, R"({"pair": "BTC/USD", "price": )", "trade", 0, out, error));
  EXPECT_NE(error.find("malformed JSON"), std::string::npos) << error;
  EXPECT_FALSE(parseValue(parser, R"({"pair": "BTC/USD"})", "", 0, out, error));
  EXPECT_NE(error.find("no metric kind"), std::string::npos) << error;
  EXPECT_FALSE(
      parseValue(parser, R"({"pair": "BTC/USD", "timestamp": "x"})", "trade", 0, out, error));
  EXPECT_NE(error.find("timestamp"), std::string::npos) << error;
  EXPECT_FALSE(parseValue(parser, "", "trade", 0, out, error));
  EXPECT_FALSE(parseValue(parser, "trade,pair=X price=", "", 0, out, error));
}

// Issue 16: a trade_id past 2^64 must be refused with a reason, never stored as 0 or rounded
// (simdjson's DOM parser refuses the document; the JSON-lines codec had to be fixed).
TEST(KafkaShapes, IntegersPastUint64AreRefused) {
  simdjson::dom::parser parser;
  Metric out;
  std::string error;
  EXPECT_FALSE(parseValue(parser,
                          R"({"pair":"BTC/USD","price":1.5,"trade_id":18446744073709551617,)"
                          R"("time":1795962600000000000})",
                          "trade", 0, out, error))
      << (out.field("trade_id") ? "stored" : "dropped");
  EXPECT_EQ(error, "malformed JSON: Problem while parsing a number");
}

// From fuzzing (plugins/inputs/kafka/fuzz/regressions/kafka_value): a legacy timestamp beyond the
// int64 nanoseconds was a signed overflow; the message is now malformed, saying which key.
TEST(KafkaShapes, TimestampsOutsideInt64NanosecondsAreMalformed) {
  simdjson::dom::parser parser;
  Metric out;
  std::string error;
  EXPECT_FALSE(
      parseValue(parser,
                 R"({"pair": "BTC/USD", "interval": "1m", "open": 1, "high": 2, "low": 0.5,)"
                 R"( "close": 1.5, "volume": 10, "timestamp": 9795962599})",
                 "candle", 0, out, error));
  EXPECT_NE(error.find("`timestamp` is out of range"), std::string::npos) << error;
  EXPECT_FALSE(parseValue(parser, R"({"pair": "BTC/USD", "price": 1, "timestamp": 1e300})", "trade",
                          0, out, error));
  EXPECT_FALSE(parseValue(parser, R"({"pair": "BTC/USD", "price": 1, "timestamp": -1e300})",
                          "trade", 0, out, error));
}

// book and book_level had a table but no Kafka shape: now they have one each, keyed by pair.
TEST(KafkaShapes, BookKindsHaveShapesOfTheirOwn) {
  simdjson::dom::parser parser;
  for (const Metric& metric : testing::bookKinds()) {
    SCOPED_TRACE(metric.name());
    EXPECT_EQ(topicOf(metric), metric.name());
    ASSERT_NE(keyOf(metric), nullptr);
    EXPECT_EQ(*keyOf(metric), "BTC/USD");
    std::string json;
    appendJson(metric, json);
    auto object = parser.parse(json).get_object().value();
    EXPECT_EQ(std::string_view(object["pair"].get_string().value()), "BTC/USD");
    EXPECT_DOUBLE_EQ(object["timestamp"].get_double().value(), 1795962600.123456);
    Metric back;
    std::string error;
    ASSERT_TRUE(parseValue(parser, json, metric.name(), 0, back, error)) << error << "\n" << json;
    EXPECT_EQ(back, metric) << json;
  }
}

}  // namespace
}  // namespace cvagent::contract

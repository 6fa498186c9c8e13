#include "contract/contract.h"

#include <gtest/gtest.h>

#include <set>

#include "contract/kafka_json.h"
#include "contract/testing/sample_metrics.h"

namespace cvagent::contract {
namespace {

using namespace std::chrono_literals;

TEST(Contract, EveryKindOfTheArchitectureIsDeclaredWithItsTopicKeyAndTable) {
  struct Expected {
    std::string_view kind, topic, key, table;
  };
  for (const Expected& e : {Expected{"ticker", "rawticker", "pair", "ticker_data"},
                            Expected{"trade", "rawtrade", "pair", "trade_data"},
                            Expected{"candle", "ohlc", "pair", "ohlc_data"},
                            Expected{"book", "book", "pair", "book_data"},
                            Expected{"book_level", "book_level", "pair", "book_level_data"},
                            Expected{"article", "rawarticle", "source", "article_data"},
                            Expected{"sentiment", "sentiment", "symbol", "sentiment_data"},
                            Expected{"alert", "rawalert", "pair", "alert_data"},
                            Expected{"prediction", "prediction", "symbol", "prediction_data"}}) {
    const Kind* kind = kindOf(e.kind);
    ASSERT_NE(kind, nullptr) << e.kind;
    EXPECT_EQ(kind->topic, e.topic);
    EXPECT_EQ(kind->key_tag, e.key);
    EXPECT_EQ(kind->table, e.table);
    EXPECT_TRUE(kind->isTag(e.key)) << e.kind;
  }
  EXPECT_EQ(kindOf("cpu"), nullptr);
  EXPECT_EQ(kinds().size(), 9u);
}

TEST(Contract, EveryKindIsConsistent) {
  std::set<std::string_view> topics;
  for (const Kind& kind : kinds()) {
    SCOPED_TRACE(kind.name);
    EXPECT_TRUE(topics.insert(kind.topic).second) << "topic used twice: " << kind.topic;
    ASSERT_FALSE(kind.members.empty());
    EXPECT_EQ(kind.members.front().from, From::kTime);
    std::set<std::string_view> columns;
    for (const Member& m : kind.members) {
      EXPECT_TRUE(columns.insert(m.column).second) << "column twice: " << m.column;
      if (m.need == Need::kDefault && m.type == ColumnType::kText) {
        EXPECT_NE(m.from, From::kTime);
      }
    }
    for (std::string_view key : kind.table_key) {
      EXPECT_TRUE(columns.count(key)) << "key column not declared: " << key;
    }
  }
}

TEST(Contract, TopicAndKeyOfAMetric) {
  for (const Metric& m : testing::everyKind()) {
    SCOPED_TRACE(m.name());
    EXPECT_EQ(topicOf(m), kindOf(m.name())->topic);
    ASSERT_NE(keyOf(m), nullptr);
  }
  EXPECT_EQ(*keyOf(testing::everyKind()[3]), "CoinDesk");  // article: source
  const Metric cpu("cpu", 1);
  EXPECT_EQ(topicOf(cpu), "");
  EXPECT_EQ(keyOf(cpu), nullptr);
}

TEST(Contract, IntervalLabelsAreCanonical) {
  EXPECT_EQ(intervalLabel(1min), "1m");
  EXPECT_EQ(intervalLabel(15min), "15m");
  EXPECT_EQ(intervalLabel(90min), "90m");
  EXPECT_EQ(intervalLabel(60min), "1h");
  EXPECT_EQ(intervalLabel(4h), "4h");
  EXPECT_EQ(intervalLabel(24h), "1d");
  EXPECT_EQ(intervalLabel(7 * 24h), "1w");  // never 7d
  EXPECT_EQ(intervalLabel(14 * 24h), "2w");
  EXPECT_EQ(intervalLabel(15 * 24h), "15d");
  EXPECT_EQ(intervalLabel(30s), "30s");
  EXPECT_EQ(intervalLabel(250ms), "250ms");
  EXPECT_EQ(intervalLabel(0s), "0s");
}

TEST(Contract, LegacyAssetSpellings) {
  EXPECT_EQ(legacyAssetCodes().at("XBT"), "BTC");
  EXPECT_EQ(legacyAssetCodes().at("XXBT"), "BTC");
  EXPECT_EQ(legacyAssetCodes().at("ZUSD"), "USD");
  EXPECT_EQ(legacyAssetSpelling("BTC"), "XBT");
  EXPECT_EQ(legacyAssetSpelling("DOGE"), "XDG");
  EXPECT_EQ(legacyAssetSpelling("ETH"), "ETH");
}

TEST(Contract, CoinListsAreCleanedOneWayForEverySink) {
  EXPECT_EQ(cleanCoinList("BTC, ETH,,SOL"), "BTC,ETH,SOL");
  EXPECT_EQ(cleanCoinList(" \t, ,"), "");
  EXPECT_EQ(cleanCoinList("btc\n,eth "), "btc,eth");
  // The Kafka shape's lists are the same coins.
  Metric article = testing::everyKind()[3];
  article.setField("coins", std::string(" BTC,, eth\t"));
  std::string json;
  appendJson(article, json);
  EXPECT_NE(json.find(R"("cryptocurrencies_mentioned":["BTC","eth"])"), std::string::npos) << json;
}

}  // namespace
}  // namespace cvagent::contract

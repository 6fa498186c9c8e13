#include "coin_tagger.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "test_data.h"

namespace cvagent::processors::sentiment {
namespace {

using Tickers = std::vector<std::string>;

TEST(CoinTagger, TagsTheAuthoredFixtureItemsAsExpected) {
  simdjson::dom::parser parser;
  const std::string json = test::readFile(test::cryptoFeedPath("expected-authored.json"));
  simdjson::dom::element doc = parser.parse(json);
  CoinTagger tagger(defaultAliasTable());
  int checked = 0;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    const std::string text = std::string(std::string_view(item["title"])) + " " +
                             std::string(std::string_view(item["description_text"]));
    Tickers expected;
    for (simdjson::dom::element c : item["coins"].get_array()) {
      expected.emplace_back(std::string_view(c));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(tagger.tag(text), expected) << text;
    ++checked;
  }
  EXPECT_EQ(checked, 40);
}

TEST(CoinTagger, WordBoundariesAndCaseRules) {
  CoinTagger tagger(defaultAliasTable());
  EXPECT_EQ(tagger.tag("A new method for ethereal art"), Tickers{});
  EXPECT_EQ(tagger.tag("ETH and eth and Ether"), Tickers{"ETH"});
  EXPECT_EQ(tagger.tag("El sol brilla; Sol y playa"), Tickers{});
  EXPECT_EQ(tagger.tag("SOL rallies as Solana DEX volume climbs"), Tickers{"SOL"});
  EXPECT_EQ(tagger.tag("solana"), Tickers{"SOL"});
  EXPECT_EQ(tagger.tag("Click the link to the Dot-com era story"), Tickers{});
  EXPECT_EQ(tagger.tag("LINK and DOT rise"), (Tickers{"DOT", "LINK"}));
  EXPECT_EQ(tagger.tag("Bitcoin Cash forks again"), Tickers{"BCH"});
  EXPECT_EQ(tagger.tag("Bitcoin and Bitcoin Cash"), (Tickers{"BCH", "BTC"}));
  EXPECT_EQ(tagger.tag("Ethereum Classic hit by reorg"), Tickers{"ETC"});
  EXPECT_EQ(tagger.tag("$BTC, #XRP and ETH/USD"), (Tickers{"BTC", "ETH", "XRP"}));
  EXPECT_EQ(tagger.tag("Bitcoin\xE2\x80\x99s price"), Tickers{"BTC"});
  EXPECT_EQ(tagger.tag("bitcoins"), Tickers{});  // no stemming: whole words only
  EXPECT_EQ(tagger.tag("BTCUSD"), Tickers{});
  EXPECT_EQ(tagger.tag("Polygon (MATIC) and POL"), Tickers{"POL"});
}

TEST(CoinTagger, CustomTable) {
  CoinTagger tagger(AliasTable{{"USDX", {"usdx stablecoin", "USDX"}}, {"BTC", {"bitcoin"}}});
  EXPECT_EQ(tagger.tag("the usdx stablecoin depegs"), Tickers{"USDX"});
  EXPECT_EQ(tagger.tag("usdx"), Tickers{});
  EXPECT_EQ(tagger.tag("btc"), Tickers{});
}

}  // namespace
}  // namespace cvagent::processors::sentiment

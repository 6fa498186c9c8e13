#include "feed_parser.h"
#include "cvagent/text.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "feed_date.h"
#include "test_util.h"

namespace cvagent::inputs::rss {
namespace {

struct FeedCase {
  const char* file;
  const char* format;
  std::size_t items;
  std::size_t undated;
  const char* first_id;
  const char* first_title;
};

// Every well-formed (or repairable) fixture: format, item count, items without a usable date,
// and the first item's id and title (decoded, UTF-8).
const FeedCase kFeeds[] = {
    {"rss2/guardian-us.rss", "rss", 55, 0,
     "https://www.theguardian.com/us-news/2018/jan/31/"
     "donald-trump-state-of-the-union-address-unity-discord",
     "Trump State of the Union address promised unity but emphasized discord"},
    {"rss2/medium-content-encoded.rss", "rss", 7, 0, "https://medium.com/p/125af37d838f",
     "THE CREATIVE FORAGER"},
    {"rss2/rss2-spec-sample.xml", "rss", 4, 0,
     "http://liftoff.msfc.nasa.gov/2003/06/03.html#item573", "Star City"},
    {"rss2/cloudflare-blog.xml", "rss", 1, 0, "6166e7e065133e02a961145d",
     "Privacy-Preserving Compromised Credential Checking"},
    {"rss2/wapo-wellness.xml", "rss", 29, 0,
     "http://www.washingtonpost.com/lifestyle/wellness/"
     "schools-minister-to-kids-fitness-and-nutrition-needs/2012/08/21/"
     "0ca90d46-e6eb-11e1-936a-b801f1abab19_story.html?wprss=rss_wellness",
     "Schools minister to kids\xE2\x80\x99 fitness and nutrition needs"},
    {"atom/intertwingly.atom", "atom", 20, 0, "tag:intertwingly.net,2004:3299",
     "Inhibiting Suspend"},
    {"atom/heise-developer.atom", "atom", 15, 0, "http://heise.de/-3088438",
     "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"},
    {"atom/reddit-mediarss.atom", "atom", 25, 0, "t3_157kyrd",
     "Any reason to keep 1G connections to my servers?"},
    {"atom/gulp-releases.atom", "atom", 10, 0, "tag:github.com,2008:Repository/11167738/v3.9.0",
     "v3.9.0"},
    {"rdf/science-twis.rdf", "rdf", 69, 0,
     "http://science.sciencemag.org/cgi/content/short/356/6343/1134-a?rss=1", "Food for fungi"},
    {"rdf/golem-iso-8859-1.rdf", "rdf", 1, 0,
     "https://www.golem.de/news/"
     "digitalministerium-neue-glasfaserfoerderung-mit-schnellkasse-2301-171451.html",
     "Digitalministerium: Neue Glasfaserf\xC3\xB6rderung mit Schnellkasse"},
    {"rdf/craigslist.rdf", "rdf", 25, 0, "http://sfbay.craigslist.org/eby/apa/6186664607.html",
     "Bright, Spacious Beautiful Victorian (oakland north / temescal) $4300 3bd 1930ft 2"},
    {"nonascii/oren-windows-1251.xml", "rss", 10, 0, "http://www.oren.ru/news/2743422/",
     "\xD0\x92 \xD0\x91\xD1\x83\xD0\xB7\xD1\x83\xD0\xBB\xD1\x83\xD0\xBA\xD0\xB5 "
     "\xD0\xB3\xD0\xBB\xD0\xB0\xD0\xB2\xD0\xBD\xD1\x8B\xD0\xB5 "
     "\xD1\x81\xD1\x82\xD1\x80\xD0\xBE\xD0\xB9\xD0\xBF\xD0\xBB\xD0\xBE\xD1\x89\xD0\xB0\xD0\xB4\xD0"
     "\xBA\xD0\xB8 \xE2\x80\x93 \xD0\xB4\xD0\xB5\xD1\x82\xD1\x81\xD0\xB0\xD0\xB4 \xD0\xB8 "
     "\xD0\x9B\xD0\xB5\xD0\xB4\xD0\xBE\xD0\xB2\xD1\x8B\xD0\xB9 "
     "\xD0\xB4\xD0\xB2\xD0\xBE\xD1\x80\xD0\xB5\xD1\x86"},
    {"nonascii/jn-iso-8859-1.rss", "rss", 40, 0,
     "http://feeds.jn.pt/~r/JN-ULTIMAS/~3/UBnb8Ra3Q1U/"
     "sonia-laig-e-a-nova-presidente-da-rarissimas-9021600.html",
     "M\xC3\xA3"
     "e de utente \xC3\xA9 a nova presidente da Rar\xC3\xADssimas"},
    {"nonascii/ilgiornale-utf8.xml", "rss", 1, 0,
     "https://www.ilgiornale.it/news/cronaca-nera/"
     "caso-saman-abbas-arrestato-pakistan-padre-shabbar-2085649.html",
     "Arrestato in Pakistan Shabbar Abbas. In Italia \xC3\xA8 accusato per l'omicidio di Saman"},
    {"nonascii/japanese-rss1.rdf", "rdf", 2, 0,
     "http://example.test/%e8%a8%98%e4%ba%8b1%e3%81%aeURL",
     "\xE8\xA8\x98\xE4\xBA\x8B"
     "1\xE3\x81\xAE\xE3\x82\xBF\xE3\x82\xA4\xE3\x83\x88\xE3\x83\xAB"},
    {"crypto/coindesk.rss", "rss", 25, 0, "9aef2b42-3854-4f38-8336-c157cc2d05a1",
     "Citadel Securities and DeFi Waging War of Words Through SEC Correspondence"},
    {"crypto/cointelegraph.rss", "rss", 30, 0,
     "https://cointelegraph.com/news/figure-technology-solana-onchain-equity-second-ipo",
     "Figure Technology files \xE2\x80\x98second IPO\xE2\x80\x99 to bring native equity issuance "
     "to "
     "Solana"},
    {"crypto/decrypt.rss", "rss", 58, 0, "https://decrypt.co/?p=352201",
     "Vanguard Exec Calls Bitcoin a 'Digital Labubu', Even as Firm Offers Crypto ETF Trading"},
    {"crypto/theblock.rss", "rss", 19, 0, "https://www.theblock.co/post/382435",
     "Fogo cancels $20 million pre-sale, will airdrop tokens instead in upcoming mainnet launch"},
    {"crypto/cryptowire-daily.rss", "rss", 20, 0, "a2fc69e3-800c-56f6-bed5-b586fdc3511f",
     "Bitcoin climbs above $98,000 as spot ETF inflows hit a record high"},
    {"crypto/chainledger-news.rss", "rss", 20, 0,
     "http://127.0.0.1/chainledger/news/ether-rallies-staking-demand.html",
     "Ether rallies to $4,200 as staking demand surges; analysts see strong momentum"},
    // Repairable broken input.
    {"broken/bad-date-rss092.rss", "rss", 2, 2, "http://www.oreilly.com/example/001.html",
     "The First Item"},
    {"broken/declared-latin1-actually-utf8.xml", "rss", 1, 0,
     "http://www.dailymail.co.uk/news/article-2272640/"
     "Could-infamous-Black-Dahlia-case-solved-Cadaver-dog-discovers-death-scent-Hollywood-home-"
     "suspect-66-years-horrific-murder.html?ITO=1490&ns_mchannel=rss&ns_campaign=1490",
     "Could the infamous Black Dahlia case be about to be solved? Cadaver dog discovers death "
     "scent at Hollywood home of suspect 66 years after the horrific murder"},
    {"broken/derived-declared-latin1-actually-utf8-cointelegraph.rss", "rss", 6, 0,
     "https://cointelegraph.com/news/figure-technology-solana-onchain-equity-second-ipo",
     "Figure Technology files \xE2\x80\x98second IPO\xE2\x80\x99 to bring native equity issuance "
     "to "
     "Solana"},
    {"broken/derived-duplicate-items-cointelegraph.rss", "rss", 13, 0,
     "https://cointelegraph.com/news/figure-technology-solana-onchain-equity-second-ipo",
     "Figure Technology files \xE2\x80\x98second IPO\xE2\x80\x99 to bring native equity issuance "
     "to "
     "Solana"},
    {"broken/derived-invalid-dates-theblock.rss", "rss", 10, 4,
     "https://www.theblock.co/post/382435",
     "Fogo cancels $20 million pre-sale, will airdrop tokens instead in upcoming mainnet launch"},
    {"broken/no-decl-latin1-bad-dates.rss", "rss", 15, 0,
     "https://noticias.uol.com.br/politica/eleicoes/2018/noticias/2018/09/24/"
     "ibope-bolsonaro-perde-de-haddad-ciro-e-alckmin-em-simulacoes-de-2-turno.htm",
     "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simula\xC3\xA7\xC3\xB5"
     "es de 2\xC2\xBA "
     "turno"},
    {"broken/missing-guid-nested-item.xml", "rss", 10, 0,
     "http://feedproxy.google.com/~r/ziffdavis/pcmag/dvorak/~3/0O-eUfOYo94/0,2817,2525649,00.asp",
     "My Professional Armchair Analysis of CES"},
    {"broken/missing-guid-and-link.xml", "rss", 1, 1, "hash:08393b0fea3d3ab6",
     "Oferta de Empleo P\xC3\xBA"
     "blico // 3 PROFESOR/A T\xC3\x89"
     "CNICO/A (INGENIE. T\xC3\x89"
     "C. FORESTAL) 17/17"},
    {"broken/duplicate-guid-element.xml", "rss", 1, 0, "http://www.braingle.com/50366.html",
     "Huh?"},
    {"broken/undefined-html-entity.xml", "rss", 1, 0, "https://db-engines.com/en/blog_post/103",
     "Snowflake is the DBMS of the Year 2022, defending the title from last year"},
    {"broken/whitespace-before-xmldecl.atom", "atom", 1, 0,
     "tag:ebmpapst.com,2019-07-17:0310161724098", "Connection with future"},
    {"broken/unescaped-ampersand.xml", "rss", 3, 3, "http://example.com/good", "Good Item"},
};

class FixtureFeeds : public ::testing::TestWithParam<FeedCase> {};

TEST_P(FixtureFeeds, ParsesToTheExpectedItems) {
  const FeedCase& c = GetParam();
  ParsedFeed feed;
  std::string error;
  ASSERT_TRUE(parseFeed(test::feedFile(c.file), "http://example.test/feed", feed, error)) << error;
  EXPECT_EQ(feed.format, c.format);
  ASSERT_EQ(feed.items.size(), c.items);
  std::size_t undated = 0;
  for (const auto& item : feed.items) {
    undated += item.time_ns ? 0 : 1;
    EXPECT_FALSE(item.id.empty());
    EXPECT_TRUE(isValidUtf8(item.title)) << item.title;
    EXPECT_TRUE(isValidUtf8(item.summary));
  }
  EXPECT_EQ(undated, c.undated);
  EXPECT_EQ(feed.items[0].id, c.first_id);
  EXPECT_EQ(feed.items[0].title, c.first_title);
}

INSTANTIATE_TEST_SUITE_P(All, FixtureFeeds, ::testing::ValuesIn(kFeeds),
                         [](const ::testing::TestParamInfo<FeedCase>& param_info) {
                           std::string name = param_info.param.file;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(FeedParser, BrokenFeedsGiveAClearError) {
  struct Broken {
    const char* file;
    const char* message;
  };
  for (const Broken& b : {
           Broken{"broken/derived-truncated-coindesk.rss", "XML parse error at byte offset 7041"},
           Broken{"broken/truncated-in-cdata.xml", "XML parse error at byte offset"},
           Broken{"broken/truncated-reuters.xml", "Start-end tags mismatch"},
           Broken{"broken/not-a-feed.html", "not an RSS or Atom document: got an HTML page"},
           Broken{"broken/redirect-page.rss", "root element <head>"},
       }) {
    ParsedFeed feed;
    std::string error;
    EXPECT_FALSE(parseFeed(test::feedFile(b.file), "http://x.test/", feed, error)) << b.file;
    EXPECT_NE(error.find(b.message), std::string::npos) << b.file << ": " << error;
  }
  ParsedFeed feed;
  std::string error;
  EXPECT_FALSE(parseFeed("", "http://x.test/", feed, error));
  EXPECT_FALSE(
      parseFeed("<?xml version='1.0' encoding='x-klingon'?><rss/>", "http://x.test/", feed, error));
  EXPECT_NE(error.find("unsupported encoding 'x-klingon'"), std::string::npos) << error;
}

TEST(FeedParser, EncodingRepairsAreNoted) {
  ParsedFeed feed;
  std::string error;
  ASSERT_TRUE(parseFeed(test::feedFile("broken/no-decl-latin1-bad-dates.rss"), "", feed, error));
  ASSERT_EQ(feed.notes.size(), 1u);
  EXPECT_NE(feed.notes[0].find("windows-1252"), std::string::npos);
  ParsedFeed feed2;
  ASSERT_TRUE(
      parseFeed(test::feedFile("broken/declared-latin1-actually-utf8.xml"), "", feed2, error));
  ASSERT_EQ(feed2.notes.size(), 1u);
  EXPECT_NE(feed2.notes[0].find("valid UTF-8"), std::string::npos);
}

TEST(FeedParser, DuplicateItemsShareTheirGuid) {
  ParsedFeed feed;
  std::string error;
  ASSERT_TRUE(parseFeed(test::feedFile("broken/derived-duplicate-items-cointelegraph.rss"), "",
                        feed, error));
  std::set<std::string> ids;
  for (const auto& item : feed.items) ids.insert(item.id);
  EXPECT_EQ(ids.size(), 11u);
}

TEST(FeedParser, AtomRelativeLinksResolveAgainstTheFeedUrl) {
  ParsedFeed feed;
  std::string error;
  ASSERT_TRUE(parseFeed(test::feedFile("atom/intertwingly.atom"), "https://intertwingly.test/feed",
                        feed, error));
  EXPECT_EQ(feed.items[0].link, "https://intertwingly.test/blog/2012/07/16/Inhibiting-Suspend");
}

// The authored feeds against their expected values (guid, link, decoded title, plain
// description, publish date).
TEST(FeedParser, AuthoredFeedsMatchExpectedAuthoredJson) {
  simdjson::dom::parser parser;
  const std::string json = test::feedFile("crypto/expected-authored.json");
  simdjson::dom::element doc = parser.parse(json);
  std::map<std::string, ParsedFeed> feeds;
  int checked = 0;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    const std::string file{std::string_view(item["feed"])};
    if (!feeds.count(file)) {
      std::string error;
      ASSERT_TRUE(parseFeed(test::feedFile(file), "http://127.0.0.1/", feeds[file], error));
    }
    const std::string guid{std::string_view(item["guid"])};
    const FeedItem* found = nullptr;
    for (const auto& i : feeds[file].items) {
      if (i.id == guid) found = &i;
    }
    ASSERT_NE(found, nullptr) << guid;
    EXPECT_EQ(found->link, std::string_view(item["link"]));
    EXPECT_EQ(found->title, std::string_view(item["title"]));
    EXPECT_EQ(found->summary, std::string_view(item["description_text"]));
    EXPECT_EQ(found->time_ns, parseFeedDate(std::string_view(item["pubDate"])));
    ++checked;
  }
  EXPECT_EQ(checked, 40);
}

}  // namespace
}  // namespace cvagent::inputs::rss

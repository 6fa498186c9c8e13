#include "rss_input.h"
#include "cvagent/text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/test_context.h"
#include "feed_date.h"
#include "feed_server.h"
#include "test_util.h"

namespace cvagent::inputs::rss {
namespace {

namespace fs = std::filesystem;
using cvagent::testing::CapturingEmitter;
using cvagent::testing::TestContext;

class RssInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cvagent-rss-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RssOptions options(std::vector<std::string> paths) {
    RssOptions o;
    o.feeds.clear();
    for (const auto& p : paths) o.feeds.push_back(p.rfind("http", 0) == 0 ? p : server_.url(p));
    o.state_file = (dir_ / "state.txt").string();
    o.jitter = std::chrono::nanoseconds(0);
    o.timeout = std::chrono::seconds(10);
    o.article_host_delay = std::chrono::milliseconds(0);
    return o;
  }
  std::vector<Metric> gatherOnce(RssInput& input) {
    CapturingEmitter out;
    input.gather(out);
    return out.take();
  }
  static std::string field(const Metric& m, std::string_view key) {
    const std::string* v = m.stringField(key);
    return v ? *v : std::string("<absent>");
  }

  cvagent::test::FeedServer server_;
  fs::path dir_;
  TestContext ctx_{"inputs.rss"};
};

TEST_F(RssInputTest, EmitsOneArticlePerItemWithPublishTimeAndSource) {
  RssInput input(options({"/feeds/crypto/coindesk.rss", "/feeds/crypto/cryptowire-daily.rss"}),
                 ctx_);
  const auto metrics = gatherOnce(input);
  ASSERT_EQ(metrics.size(), 45u);
  std::set<std::string> ids;
  for (const auto& m : metrics) {
    EXPECT_EQ(m.name(), "article");
    ids.insert(field(m, "id"));
    EXPECT_EQ(m.stringField("text"), nullptr);  // only with fetch_article
    ASSERT_NE(m.field("receive_time"), nullptr);
  }
  EXPECT_EQ(ids.size(), 45u);
  const Metric* first = nullptr;
  for (const auto& m : metrics) {
    if (field(m, "id") == "a2fc69e3-800c-56f6-bed5-b586fdc3511f") first = &m;
  }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first->tag("source"), "CryptoWire Daily: Bitcoin, Ethereum & Altcoin News");
  EXPECT_EQ(first->time(), *parseFeedDate("Mon, 10 Mar 2025 15:42:10 +0000"));
  EXPECT_EQ(field(*first, "title"),
            "Bitcoin climbs above $98,000 as spot ETF inflows hit a record high");
  EXPECT_EQ(field(*first, "url"),
            server_.url("/site/cryptowire/2025/03/bitcoin-etf-inflows-record.html"));
  EXPECT_EQ(ctx_.counterValue("articles_total"), 45.0);
  EXPECT_EQ(ctx_.health(), HealthState::kOk);
  EXPECT_TRUE(fs::exists(dir_ / "state.txt"));
}

TEST_F(RssInputTest, FeedsAreFetchedOnlyWhenDueAndConditionally) {
  RssOptions o = options({"/feeds/crypto/coindesk.rss"});
  o.feed_interval = std::chrono::minutes(5);
  RssInput input(o, ctx_);
  EXPECT_EQ(gatherOnce(input).size(), 25u);
  ctx_.fakeClock().advance(std::chrono::nanoseconds(std::chrono::minutes(1)).count());
  EXPECT_TRUE(gatherOnce(input).empty());
  EXPECT_EQ(ctx_.counterValue("feed_fetches_total"), 1.0);  // not due yet
  ctx_.fakeClock().advance(std::chrono::nanoseconds(std::chrono::minutes(5)).count());
  EXPECT_TRUE(gatherOnce(input).empty());
  EXPECT_EQ(ctx_.counterValue("feed_fetches_total"), 2.0);
  EXPECT_EQ(ctx_.counterValue("feeds_not_modified_total"), 1.0);  // ETag sent, 304 back
}

TEST_F(RssInputTest, DeduplicationSurvivesARestart) {
  server_.get("/set?name=feed&file=crypto/theblock.rss");
  RssOptions o = options({"/dyn/feed"});  // no validators: only the state file prevents repeats
  {
    RssInput input(o, ctx_);
    EXPECT_EQ(gatherOnce(input).size(), 19u);
  }
  RssInput restarted(o, ctx_);
  EXPECT_TRUE(gatherOnce(restarted).empty());
  // The feed gains items: only the new ones come out.
  server_.get("/set?name=feed&file=broken/derived-duplicate-items-cointelegraph.rss");
  ctx_.fakeClock().advance(std::chrono::nanoseconds(o.feed_interval).count());
  EXPECT_EQ(gatherOnce(restarted).size(), 11u);  // 13 items, 11 distinct guids
  ctx_.fakeClock().advance(std::chrono::nanoseconds(o.feed_interval).count());
  EXPECT_TRUE(gatherOnce(restarted).empty());
}

TEST_F(RssInputTest, ABrokenFeedGetsAClearErrorAndTheOthersKeepFlowing) {
  RssInput input(
      options({"/feeds/crypto/theblock.rss", "/feeds/broken/derived-truncated-coindesk.rss",
               "/feeds/broken/not-a-feed.html", "/status/500", "/feeds/missing.rss",
               "http://127.0.0.1:1/feed"}),
      ctx_);
  const auto metrics = gatherOnce(input);
  EXPECT_EQ(metrics.size(), 19u);
  EXPECT_EQ(ctx_.counterValue("feed_errors_total"), 5.0);
  EXPECT_EQ(ctx_.health(), HealthState::kDegraded);
  EXPECT_NE(ctx_.healthDetail().find("5 of 6 feeds failing"), std::string::npos)
      << ctx_.healthDetail();
  auto& log = ctx_.logger();
  EXPECT_TRUE(log.contains(server_.url("/feeds/broken/derived-truncated-coindesk.rss") +
                               ": XML parse error at byte offset 7041",
                           LogLevel::kError));
  EXPECT_TRUE(log.contains("not-a-feed.html: not an RSS or Atom document", LogLevel::kError));
  EXPECT_TRUE(log.contains("/status/500: HTTP status 500", LogLevel::kError));
  EXPECT_TRUE(log.contains("/feeds/missing.rss: HTTP status 404", LogLevel::kError));
  EXPECT_TRUE(log.contains("127.0.0.1:1/feed: fetch failed:", LogLevel::kError));
}

TEST_F(RssInputTest, AFeedThatTurnsBrokenAndRecovers) {
  server_.get("/set?name=feed&file=crypto/cointelegraph.rss");
  RssOptions o = options({"/dyn/feed"});
  RssInput input(o, ctx_);
  const auto step = std::chrono::nanoseconds(o.feed_interval).count();
  EXPECT_EQ(gatherOnce(input).size(), 30u);
  EXPECT_EQ(ctx_.health(), HealthState::kOk);
  server_.get("/set?name=feed&file=broken/truncated-reuters.xml");
  ctx_.fakeClock().advance(step);
  EXPECT_TRUE(gatherOnce(input).empty());
  EXPECT_EQ(ctx_.health(), HealthState::kDegraded);
  EXPECT_EQ(ctx_.counterValue("feed_errors_total"), 1.0);
  server_.get("/set?name=feed&file=broken/derived-duplicate-items-cointelegraph.rss");
  ctx_.fakeClock().advance(step);
  EXPECT_EQ(gatherOnce(input).size(), 1u);  // the "?amp=1" guid is the only new one
  EXPECT_EQ(ctx_.health(), HealthState::kOk);
}

TEST_F(RssInputTest, SlowServerTimesOut) {
  RssOptions o = options({"/slow/30"});
  o.timeout = std::chrono::seconds(1);
  RssInput input(o, ctx_);
  EXPECT_TRUE(gatherOnce(input).empty());
  EXPECT_TRUE(ctx_.logger().contains("fetch failed: Operation timed out", LogLevel::kError));
}

TEST_F(RssInputTest, StopInterruptsALongGather) {
  RssOptions o = options({"/slow/60"});
  o.timeout = std::chrono::seconds(120);
  RssInput input(o, ctx_);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    input.stop();
  });
  EXPECT_TRUE(gatherOnce(input).empty());  // returns instead of waiting a minute
  stopper.join();
  EXPECT_EQ(ctx_.counterValue("feed_errors_total"), 0.0);  // an abort is not a feed error
  EXPECT_TRUE(gatherOnce(input).empty());                  // stopped stays stopped
}

TEST_F(RssInputTest, HugeBodyIsRefused) {
  RssOptions o = options({"/huge"});
  o.max_feed_size = ByteSize{1u << 20};
  RssInput input(o, ctx_);
  EXPECT_TRUE(gatherOnce(input).empty());
  EXPECT_TRUE(ctx_.logger().contains("response larger than 1048576 bytes", LogLevel::kError));
}

TEST_F(RssInputTest, RedirectsAreFollowedButBounded) {
  RssOptions o = options({"/loop", "/redirect/crypto/theblock.rss"});
  o.max_redirects = 3;
  RssInput input(o, ctx_);
  EXPECT_EQ(gatherOnce(input).size(), 19u);
  EXPECT_TRUE(
      ctx_.logger().contains("/loop: fetch failed: more than 3 redirects", LogLevel::kError));
}

TEST_F(RssInputTest, GzipEncodedFeed) {
  RssInput input(options({"/gzip/crypto/decrypt.rss"}), ctx_);
  EXPECT_EQ(gatherOnce(input).size(), 58u);
}

TEST_F(RssInputTest, LegacyEncodingsComeOutAsUtf8) {
  RssInput input(options({"/feeds/nonascii/oren-windows-1251.xml",
                          "/feeds/broken/no-decl-latin1-bad-dates.rss"}),
                 ctx_);
  const auto metrics = gatherOnce(input);
  ASSERT_EQ(metrics.size(), 25u);
  bool cyrillic = false;
  bool portuguese = false;
  for (const auto& m : metrics) {
    EXPECT_TRUE(isValidUtf8(field(m, "title")));
    cyrillic = cyrillic || field(m, "title").find("\xD0\x91\xD1\x83\xD0\xB7") != std::string::npos;
    portuguese =
        portuguese || field(m, "title").find("simula\xC3\xA7\xC3\xB5") != std::string::npos;
  }
  EXPECT_TRUE(cyrillic);
  EXPECT_TRUE(portuguese);
  EXPECT_TRUE(ctx_.logger().contains("read as windows-1252", LogLevel::kWarn));
}

TEST_F(RssInputTest, MissingOrInvalidDatesFallBackToTheReceiveTimeAndAreCounted) {
  RssInput input(options({"/feeds/broken/derived-invalid-dates-theblock.rss"}), ctx_);
  const auto metrics = gatherOnce(input);
  ASSERT_EQ(metrics.size(), 10u);
  EXPECT_EQ(ctx_.counterValue("articles_undated_total"), 4.0);
  int at_receive = 0;
  for (const auto& m : metrics) {
    at_receive += m.time() == std::get<std::int64_t>(*m.field("receive_time")) ? 1 : 0;
  }
  EXPECT_EQ(at_receive, 4);
}

TEST_F(RssInputTest, FetchArticleExtractsTextPolitely) {
  RssOptions o =
      options({"/feeds/crypto/cryptowire-daily.rss", "/feeds/crypto/chainledger-news.rss"});
  o.fetch_article = true;
  o.article_host_delay = std::chrono::milliseconds(20);
  o.article_concurrency = 4;
  RssInput input(o, ctx_);
  const auto metrics = gatherOnce(input);
  ASSERT_EQ(metrics.size(), 40u);
  int with_text = 0;
  for (const auto& m : metrics) {
    const std::string* text = m.stringField("text");
    if (text == nullptr) continue;
    ++with_text;
    const std::string url = field(m, "url");
    const std::string rel = url.substr(url.find("/site/") + 6);
    std::string expected =
        test::feedFile("crypto/site/" + rel.substr(0, rel.size() - 5) + ".expected.txt");
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    EXPECT_EQ(*text, expected) << url;
  }
  EXPECT_EQ(with_text, 5);
  EXPECT_EQ(ctx_.counterValue("article_fetch_errors_total"), 35.0);  // 404s
  // One host: requests one at a time, at least the politeness delay apart.
  const std::string log = server_.get("/log");
  std::vector<double> times;
  for (std::size_t p = log.find("\", "); p != std::string::npos; p = log.find("\", ", p + 1)) {
    times.push_back(std::stod(log.substr(p + 3)));
  }
  ASSERT_EQ(times.size(), 40u);
  for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], 0.019);
}

TEST_F(RssInputTest, ArticlesOnlyOverHttpAndHttps) {
  server_.get("/set?name=feed&file=rss2/rss2-spec-sample.xml");
  RssOptions o = options({"/dyn/feed"});
  o.fetch_article = true;
  RssInput input(o, ctx_);
  // liftoff.msfc.nasa.gov is not reachable from the test: every fetch fails, nothing hangs, and
  // the articles still come out, without text.
  o.timeout = std::chrono::seconds(2);
  const auto metrics = gatherOnce(input);
  EXPECT_EQ(metrics.size(), 4u);
  for (const auto& m : metrics) EXPECT_EQ(m.stringField("text"), nullptr);
}

}  // namespace
}  // namespace cvagent::inputs::rss

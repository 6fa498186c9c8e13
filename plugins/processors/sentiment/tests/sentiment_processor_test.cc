#include "sentiment_processor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"

namespace cvagent::processors::sentiment {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;

constexpr std::int64_t kMinute = 60'000'000'000;
constexpr std::int64_t kT0 = 1'741'621'330'000'000'000;

Metric article(std::string title, std::int64_t time_ns, std::string summary = "") {
  return MetricBuilder("article")
      .tag("source", "CryptoWire")
      .field("id", "x")
      .field("title", std::move(title))
      .field("summary", std::move(summary))
      .time(time_ns);
}

SentimentOptions vaderOptions() {
  SentimentOptions options;
  options.model = "vader";
  return options;
}

TEST(SentimentProcessor, VaderModeAddsSentimentAndCoinsToArticles) {
  TestContext ctx;
  SentimentProcessor p(vaderOptions(), ctx);
  CapturingEmitter out;
  p.process(article("Bitcoin and Ether rally to a record high", kT0, "Traders are bullish."), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 3u);  // the article, then sentiment for BTC and ETH
  const Metric& a = got[0];
  EXPECT_EQ(a.name(), "article");
  EXPECT_EQ(*a.stringField("coins"), "BTC,ETH");
  double compound = 0;
  ASSERT_TRUE(a.numberField("sentiment", compound));
  EXPECT_GT(compound, 0.5);
  EXPECT_EQ(*a.stringField("sentiment_label"), "positive");
  double score01 = 0;
  ASSERT_TRUE(a.numberField("sentiment_score", score01));
  EXPECT_NEAR(score01, (compound + 1) / 2, 1e-4);
  EXPECT_EQ(got[1].name(), "sentiment");
  EXPECT_EQ(*got[1].tag("symbol"), "BTC");
  EXPECT_EQ(*got[2].tag("symbol"), "ETH");
  EXPECT_EQ(got[1].time(), kT0);
  EXPECT_EQ(ctx.counterValue("articles_scored_total"), 1.0);
}

TEST(SentimentProcessor, OtherMetricsPassThroughUnchanged) {
  TestContext ctx;
  SentimentProcessor p(SentimentOptions{}, ctx);
  CapturingEmitter out;
  Metric trade = MetricBuilder("trade").tag("pair", "BTC/USD").field("price", 1.0).time(5);
  p.process(Metric(trade), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], trade);
}

TEST(SentimentProcessor, ArticleWithoutCoinsEmitsNoSentimentMetric) {
  TestContext ctx;
  SentimentProcessor p(SentimentOptions{}, ctx);
  CapturingEmitter out;
  p.process(article("Markets opened on Tuesday", kT0), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(*got[0].stringField("coins"), "");
  EXPECT_EQ(*got[0].stringField("sentiment_label"), "neutral");
}

TEST(SentimentProcessor, RollingWindowIsByArticleTime) {
  TestContext ctx;
  SentimentOptions options = vaderOptions();
  options.window = std::chrono::hours(1);
  SentimentProcessor p(options, ctx);
  CapturingEmitter out;
  auto lastSentiment = [&]() {
    auto got = out.take();
    EXPECT_FALSE(got.empty());
    return got.back();
  };
  p.process(article("Bitcoin soars, great news", kT0), out);
  Metric s1 = lastSentiment();
  double c1 = 0;
  s1.numberField("score", c1);
  EXPECT_EQ(std::get<std::int64_t>(*s1.field("articles")), 1);
  // one article: confidence = 1/3 * (1 - 0)
  double conf = 0;
  s1.numberField("confidence", conf);
  EXPECT_NEAR(conf, 0.3333, 1e-4);

  p.process(article("Bitcoin crashes after a terrible hack", kT0 + 40 * kMinute), out);
  Metric s2 = lastSentiment();
  EXPECT_EQ(std::get<std::int64_t>(*s2.field("articles")), 2);
  EXPECT_EQ(s2.time(), kT0 + 40 * kMinute);
  double c2 = 0;
  s2.numberField("score", c2);
  EXPECT_LT(c2, c1);

  // 90 minutes after the first: the first leaves the 1h window.
  p.process(article("Bitcoin is flat", kT0 + 90 * kMinute), out);
  Metric s3 = lastSentiment();
  EXPECT_EQ(std::get<std::int64_t>(*s3.field("articles")), 2);

  // An article older than the window start is scored but not counted.
  p.process(article("Bitcoin news from yesterday", kT0 - 600 * kMinute), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name(), "article");
  EXPECT_EQ(ctx.counterValue("articles_outside_window_total"), 1.0);
}

TEST(RollingSentiment, MeanAndConfidenceFormula) {
  RollingSentiment r(std::chrono::hours(1));
  r.add("BTC", 100, 0.5);
  auto s = r.add("BTC", 200, -0.5);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->score, 0.0);
  // n = 2, stddev = 0.5: 2/4 * 0.5
  EXPECT_DOUBLE_EQ(s->confidence, 0.25);
  EXPECT_EQ(s->articles, 2);
  EXPECT_EQ(s->time_ns, 200);
  // Out-of-order but inside the window: counted, the window end stays at the latest time.
  s = r.add("BTC", 150, 0.0);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->articles, 3);
  EXPECT_EQ(s->time_ns, 200);
}

TEST(SentimentProcessor, LexiconFilesOverrideAndBadFilesFailClearly) {
  const auto dir = std::filesystem::temp_directory_path() / "cvagent-sentiment-lexicon-test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "mine.tsv").string();
  std::ofstream(path) << "# ours\nsatoshi\t3.0\n";
  TestContext ctx;
  SentimentOptions options = vaderOptions();
  options.lexicon_files = {path};
  SentimentProcessor p(options, ctx);
  CapturingEmitter out;
  p.process(article("satoshi", kT0), out);
  EXPECT_EQ(*out.take()[0].stringField("sentiment_label"), "positive");

  std::ofstream(path) << "satoshi 3.0\n";
  try {
    SentimentProcessor bad(options, ctx);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("line 1"), std::string::npos) << e.what();
  }
  options.lexicon_files = {(dir / "missing.tsv").string()};
  EXPECT_THROW(SentimentProcessor(options, ctx), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(SentimentProcessor, CryptoLexiconCanBeTurnedOff) {
  TestContext ctx;
  SentimentOptions off = vaderOptions();
  off.crypto_lexicon = false;
  SentimentProcessor plain(off, ctx);
  SentimentProcessor crypto(vaderOptions(), ctx);
  CapturingEmitter out;
  plain.process(article("Bitcoin difficulty adjustment expected at block 891,072", kT0), out);
  crypto.process(article("Bitcoin difficulty adjustment expected at block 891,072", kT0), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(*got[0].stringField("sentiment_label"), "negative");
  EXPECT_EQ(*got[2].stringField("sentiment_label"), "neutral");
}

}  // namespace
}  // namespace cvagent::processors::sentiment

#include "headline_model.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "headline_training.h"
#include "sentiment_processor.h"
#include "test_data.h"

namespace cvagent::processors::sentiment {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;
using test::cryptoFeedPath;
using test::readFile;

std::string pluginData(const std::string& name) {
  return std::string(CVAGENT_PLUGIN_DIR) + "/data/" + name;
}

Metric headline(std::string title, std::int64_t time_ns = 1'741'621'330'000'000'000) {
  return MetricBuilder("article")
      .tag("source", "wire")
      .field("title", std::move(title))
      .time(time_ns);
}

// Runs one article through a processor with default options; returns the scored article.
Metric scoreWithDefaults(const std::string& title) {
  TestContext ctx;
  SentimentProcessor p(SentimentOptions{}, ctx);
  CapturingEmitter out;
  p.process(headline(title), out);
  auto got = out.take();
  EXPECT_FALSE(got.empty());
  return got.at(0);
}

TEST(HeadlineModel, DefaultPipelineLabelsClearCases) {
  const struct {
    const char* title;
    const char* label;
  } cases[] = {
      {"Acme beats estimates, raises guidance", "positive"},
      {"Nvidia beats estimates, raises guidance", "positive"},
      {"Acme plunges after SEC lawsuit", "negative"},
      {"Coinbase plunges after SEC lawsuit", "negative"},
      {"Acme to report earnings on Tuesday", "neutral"},
      {"Microsoft to report earnings on Tuesday", "neutral"},
  };
  for (const auto& c : cases) {
    const Metric a = scoreWithDefaults(c.title);
    EXPECT_EQ(*a.stringField("sentiment_label"), c.label) << c.title;
    double score = 0;
    double score01 = 0;
    double confidence = 0;
    double vader = 0;
    ASSERT_TRUE(a.numberField("sentiment", score));
    ASSERT_TRUE(a.numberField("sentiment_score", score01));
    ASSERT_TRUE(a.numberField("sentiment_confidence", confidence));
    ASSERT_TRUE(a.numberField("vader_compound", vader)) << "VADER's compound stays a field";
    EXPECT_NEAR(score01, (score + 1) / 2, 1e-4);
    EXPECT_GT(confidence, 1.0 / 3.0) << c.title;
    EXPECT_LE(confidence, 1.0);
    if (std::string(c.label) == "positive") {
      EXPECT_GT(score, 0.2) << c.title;
    } else if (std::string(c.label) == "negative") {
      EXPECT_LT(score, -0.2) << c.title;
    }
  }
}

TEST(HeadlineModel, EmptyAndHugeTextsAreHandled) {
  HeadlineScorer scorer(HeadlineModel::builtin());
  for (const std::string& text :
       {std::string(), std::string("   \t\n"), std::string("!!!"), std::string("https://t.co/x")}) {
    const HeadlinePrediction p = scorer.score(text);
    EXPECT_NEAR(p.probability[0] + p.probability[1] + p.probability[2], 1.0, 1e-9);
    EXPECT_TRUE(std::isfinite(p.score()));
  }
  // An empty article gets the prior: neutral, the majority class.
  EXPECT_EQ(scoreWithDefaults("").stringField("sentiment_label") != nullptr, true);
  EXPECT_EQ(*scoreWithDefaults("").stringField("sentiment_label"), "neutral");

  // 8 MiB of text, one 300 kB "word" without spaces and binary junk: finite, a valid label.
  std::string huge;
  while (huge.size() < (8U << 20)) huge += "Acme plunges after SEC lawsuit; shares crater. ";
  const HeadlinePrediction big = scorer.score(huge);
  EXPECT_EQ(big.label, HeadlineClass::kNegative);
  EXPECT_NEAR(big.probability[0] + big.probability[1] + big.probability[2], 1.0, 1e-9);
  std::string word(300'000, 'a');
  EXPECT_TRUE(std::isfinite(scorer.score(word).score()));
  std::string junk;
  for (int i = 0; i < 100'000; ++i) junk += static_cast<char>(i * 7919 % 256);
  EXPECT_TRUE(std::isfinite(scorer.score(junk).score()));
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cvagent-sentiment-model-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // Constructing the processor must fail with a message naming the file and the reason.
  void expectError(const std::string& path, const std::string& reason) {
    TestContext ctx;
    SentimentOptions options;
    options.model_file = path;
    try {
      SentimentProcessor p(options, ctx);
      ADD_FAILURE() << "expected an error for " << path;
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(reason), std::string::npos) << what;
      EXPECT_NE(what.find("model_file"), std::string::npos) << what;
    }
  }
  std::filesystem::path dir_;
};

TEST_F(ModelFileTest, LoadsAValidFileAndRejectsMissingTruncatedAndForeignFiles) {
  const std::string model = readFile(pluginData("headline_model.bin"));
  ASSERT_GT(model.size(), 1000u);
  {
    TestContext ctx;
    SentimentOptions options;
    options.model_file = write("copy.bin", model);
    SentimentProcessor p(options, ctx);  // a good file loads
  }
  expectError((dir_ / "missing.bin").string(), "cannot read");
  expectError(write("truncated.bin", model.substr(0, model.size() / 2)), "truncated");
  expectError(write("header-only.bin", model.substr(0, 20)), "truncated");
  expectError(write("empty.bin", ""), "bad magic");
  expectError(write("lexicon.bin", readFile(pluginData("vader_lexicon.txt"))), "bad magic");
  std::string v2 = model;
  v2[8] = 2;  // format version 2
  expectError(write("v2.bin", v2), "format version 2");
  std::string flipped = model;
  flipped[model.size() / 2] ^= 0x10;
  expectError(write("flipped.bin", flipped), "checksum mismatch");
  expectError(write("longer.bin", model + "x"), "checksum mismatch");
}

TEST(HeadlineModel, EncodeParseRoundTripKeepsWeightsWithinQuantisation) {
  ModelWeights w;
  w.features.log2_buckets = 6;
  w.temperature = 1.5F;
  w.bias = {0.1F, -0.2F, 0.3F};
  w.weights.assign(64 * kHeadlineClasses, 0.0F);
  w.weights[5 * 3 + 1] = 2.0F;
  w.weights[63 * 3 + 2] = -1.0F;
  w.weights[0] = 0.5F;
  const HeadlineModel m = HeadlineModel::parse(encodeModel(w), "test");
  EXPECT_DOUBLE_EQ(m.temperature(), 1.5);
  const Feature f5[] = {{5, 1.0F}};
  const auto z = m.logits(f5);
  EXPECT_NEAR(z[0], 0.1, 1e-6);
  EXPECT_NEAR(z[1], -0.2 + 2.0, 1e-4);
  const Feature f63[] = {{63, 1.0F}, {0, 2.0F}};
  const auto z63 = m.logits(f63);
  EXPECT_NEAR(z63[2], 0.3 - 1.0, 1e-4);
  EXPECT_NEAR(z63[0], 0.1 + 1.0, 1e-4);
  const auto p = softmax(z, 1.5);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
}

TEST(HeadlineModel, FeaturesIgnoreCaseUrlsAndNumberValues) {
  FeatureExtractor fx(FeatureConfig{});
  auto buckets = [&](std::string_view text) {
    std::vector<std::uint32_t> b;
    for (const auto& f : fx.extract(text)) b.push_back(f.bucket);
    return b;
  };
  EXPECT_EQ(buckets("Acme BEATS estimates https://t.co/AbC123"), buckets("acme beats estimates"));
  EXPECT_EQ(buckets("up 3.5% to 1,200"), buckets("up 7% to 99"));
  EXPECT_NE(buckets("$AAPL up"), buckets("AAPL up"));
  EXPECT_TRUE(fx.extract("").empty());
  double norm = 0;
  for (const auto& f : fx.extract("Stocks rally as yields fall")) norm += f.value * f.value;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(HeadlineTraining, ParsesQuotedCsvAndRejectsBadRowsWithTheLine) {
  const auto rows = training::parseLabelledCsv(
      "text,label\r\n\"a, \"\"quoted\"\" text\",1\r\nplain,2\n\"multi\nline\",0", "t.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].text, "a, \"quoted\" text");
  EXPECT_EQ(rows[0].label, HeadlineClass::kPositive);
  EXPECT_EQ(rows[1].label, HeadlineClass::kNeutral);
  EXPECT_EQ(rows[2].text, "multi\nline");
  try {
    training::parseLabelledCsv("text,label\nok,1\nbad,7\n", "t.csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(training::parseLabelledCsv("sentence,label\n", "t.csv"), std::runtime_error);
}

TEST(HeadlineTraining, MetricsMatchAHandComputedConfusionMatrix) {
  using C = HeadlineClass;
  const std::vector<C> truth{C::kNegative, C::kNegative, C::kPositive, C::kNeutral};
  const std::vector<std::array<double, 3>> p{
      {0.8, 0.1, 0.1}, {0.2, 0.7, 0.1}, {0.1, 0.6, 0.3}, {0.1, 0.2, 0.7}};
  const auto m = training::evaluate(truth, p);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  // negative: tp 1, 1 predicted, 2 actual -> 2/3; positive: tp 1, 2 predicted, 1 actual -> 2/3;
  // neutral: 1.
  EXPECT_NEAR(m.f1[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.f1[1], 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.macro_f1, (2.0 / 3 + 2.0 / 3 + 1) / 3, 1e-12);
  EXPECT_TRUE(training::isCryptoText("Bitcoin ETF sees record inflows"));
  EXPECT_TRUE(training::isCryptoText("Cryptocurrencies slide"));
  EXPECT_FALSE(training::isCryptoText("Ethernet maker beats estimates"));
}

// The committed model is what the documented training command produces from the committed
// data, byte for byte (the command is deterministic), and it meets the quality bar.
TEST(HeadlineTraining, CommittedModelIsWhatTheTrainingCommandProduces) {
  const std::string csv_path = pluginData("twitter-financial-news_train.csv");
  const auto data = training::parseLabelledCsv(readFile(csv_path), csv_path);
  ASSERT_EQ(data.size(), 9543u);
  training::TrainingConfig config;
  config.prior = training::buildPrior(
      {readFile(pluginData("vader_lexicon.txt")), readFile(pluginData("crypto_lexicon.tsv"))});
  const training::TrainingResult result = training::train(data, config);
  std::printf("cross-validated: %s\ncrypto items: %s\n", training::formatMetrics(result.cv).c_str(),
              training::formatMetrics(result.cv_crypto).c_str());
  EXPECT_GE(result.cv.macro_f1, 0.75);
  EXPECT_LT(result.cv.ece, result.cv_uncalibrated.ece + 1e-12);
  const std::string committed = readFile(pluginData("headline_model.bin"));
  EXPECT_EQ(fnv1a64(result.model_bytes), fnv1a64(committed));
  EXPECT_TRUE(result.model_bytes == committed)
      << "data/headline_model.bin is stale: rerun the training command in README.md";
}

// How the model does on the repository's authored crypto headlines (title + description), next
// to VADER with the crypto lexicon on the same items.
TEST(HeadlineModel, AuthoredCryptoFeeds) {
  simdjson::dom::parser parser;
  const std::string json = readFile(cryptoFeedPath("expected-authored.json"));
  simdjson::dom::element doc = parser.parse(json);
  HeadlineScorer scorer(HeadlineModel::builtin());
  std::vector<HeadlineClass> truth;
  std::vector<std::array<double, kHeadlineClasses>> probabilities;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    const std::string text = std::string(std::string_view(item["title"])) + " " +
                             std::string(std::string_view(item["description_text"]));
    const std::string_view intended = item["intended_polarity"];
    truth.push_back(intended == "negative"   ? HeadlineClass::kNegative
                    : intended == "positive" ? HeadlineClass::kPositive
                                             : HeadlineClass::kNeutral);
    const HeadlinePrediction p = scorer.score(text);
    probabilities.push_back(p.probability);
    if (p.label != truth.back()) {
      std::printf("  differs: intended %s, got %s (%.2f): %s\n", std::string(intended).c_str(),
                  std::string(labelOf(p.label)).c_str(), p.confidence(), text.c_str());
    }
  }
  const auto m = training::evaluate(truth, probabilities);
  std::printf("authored crypto feeds, intended polarity: %s\n", training::formatMetrics(m).c_str());
  ASSERT_EQ(m.count, 40u);
  // Measured 33 of 40 (all misses are polar items called neutral). VADER with the crypto
  // lexicon agrees on 37, plain VADER on 34; that lexicon was written with these items in view.
  EXPECT_GE(m.accuracy, 0.75);
}

TEST(RollingSentiment, WeighsArticlesByConfidence) {
  RollingSentiment r(std::chrono::hours(1));
  r.add("BTC", 100, {.score = 1.0, .weight = 0.9, .probability = {0.0, 1.0, 0.0}});
  auto s = r.add("BTC", 200, {.score = -1.0, .weight = 0.3, .probability = {1.0, 0.0, 0.0}});
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->score, 0.5, 1e-12);  // (0.9 - 0.3) / 1.2
  EXPECT_NEAR(s->probability[1], 0.75, 1e-12);
  // weighted sd: sqrt(E[s^2] - mean^2) = sqrt(1 - 0.25); W = 1.2
  EXPECT_NEAR(s->confidence, 1.2 / 3.2 * (1 - std::sqrt(0.75)), 1e-12);
}

TEST(SentimentProcessor, HeadlineModeRollingSentimentUsesModelLabels) {
  TestContext ctx;
  SentimentProcessor p(SentimentOptions{}, ctx);
  CapturingEmitter out;
  p.process(headline("Bitcoin plunges after SEC lawsuit"), out);
  auto got = out.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(*got[1].tag("symbol"), "BTC");
  EXPECT_EQ(*got[1].stringField("label"), "negative");
  double article_confidence = 0;
  double window_confidence = 0;
  ASSERT_TRUE(got[0].numberField("sentiment_confidence", article_confidence));
  ASSERT_TRUE(got[1].numberField("confidence", window_confidence));
  // One article: the window's label probability is the article's.
  EXPECT_NEAR(window_confidence, article_confidence, 2e-4);
  p.process(headline("Bitcoin soars to a record as ETF inflows surge", 1'741'621'400'000'000'000),
            out);
  got = out.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(*got[0].stringField("sentiment_label"), "positive");
  EXPECT_EQ(std::get<std::int64_t>(*got[1].field("articles")), 2);
  double score = 0;
  ASSERT_TRUE(got[1].numberField("score", score));
  EXPECT_GT(score, -1);
  EXPECT_LT(score, 1);
}

}  // namespace
}  // namespace cvagent::processors::sentiment

#include "vader.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "sentiment_processor.h"
#include "test_data.h"

namespace cvagent::processors::sentiment {
namespace {

using test::cryptoFeedPath;
using test::dataPath;
using test::readFile;

struct ReferenceRow {
  std::string set;
  std::string text;
  double neg, neu, pos, compound;
};

std::vector<ReferenceRow> loadReference() {
  std::vector<ReferenceRow> rows;
  std::istringstream in(readFile(dataPath("vader_reference_scores.tsv")));
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {  // set text neg neu pos compound readme_compound note
      header = false;
      continue;
    }
    std::vector<std::string> cols;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 6) continue;
    rows.push_back({cols[0], cols[1], std::stod(cols[2]), std::stod(cols[3]), std::stod(cols[4]),
                    std::stod(cols[5])});
  }
  return rows;
}

TEST(Vader, MatchesTheReferenceImplementationOnEveryReferenceSentence) {
  const auto rows = loadReference();
  ASSERT_GE(rows.size(), 45u);
  VaderScorer scorer(VaderLexicons::builtin());
  for (const auto& row : rows) {
    const VaderScores s = scorer.score(row.text);
    EXPECT_NEAR(s.compound, row.compound, 1e-4) << row.set << ": " << row.text;
    EXPECT_NEAR(s.neg, row.neg, 1.01e-3) << row.text;
    EXPECT_NEAR(s.neu, row.neu, 1.01e-3) << row.text;
    EXPECT_NEAR(s.pos, row.pos, 1.01e-3) << row.text;
  }
}

// `model: vader` with the extensions off is the reference, through the whole processor.
TEST(Vader, ProcessorInVaderModeMatchesTheReferenceToFourDecimals) {
  cvagent::testing::TestContext ctx;
  SentimentOptions options;
  options.model = "vader";
  options.crypto_lexicon = false;
  options.normalize_quotes = false;
  options.fields = {"title"};
  SentimentProcessor processor(options, ctx);
  cvagent::testing::CapturingEmitter out;
  for (const auto& row : loadReference()) {
    processor.process(cvagent::testing::MetricBuilder("article").field("title", row.text).time(1),
                      out);
    const auto got = out.take();
    ASSERT_FALSE(got.empty());
    double compound = 0;
    ASSERT_TRUE(got[0].numberField("sentiment", compound));
    EXPECT_NEAR(compound, row.compound, 1e-4) << row.text;
    EXPECT_EQ(*got[0].stringField("sentiment_label"), labelOf(row.compound)) << row.text;
    EXPECT_EQ(got[0].field("sentiment_confidence"), nullptr);
  }
}

TEST(Vader, ReadmeExamples) {
  VaderScorer scorer(VaderLexicons::builtin());
  EXPECT_NEAR(scorer.score("VADER is VERY SMART, handsome, and FUNNY!!!").compound, 0.9342, 1e-4);
  EXPECT_NEAR(scorer
                  .score("The plot was good, but the characters are uncompelling and the "
                         "dialog is not great.")
                  .compound,
              -0.7042, 1e-4);
  EXPECT_NEAR(scorer.score("Make sure you :) or :D today!").compound, 0.8633, 1e-4);
  EXPECT_EQ(scorer.score("").compound, 0.0);
  EXPECT_EQ(scorer.score("   ").neu, 0.0);
}

// The authored crypto fixture carries plain-VADER compounds computed with the reference for each
// title, description and both.
TEST(Vader, MatchesTheReferenceOnTheAuthoredCryptoFeedItems) {
  simdjson::dom::parser parser;
  const std::string json = readFile(cryptoFeedPath("expected-authored.json"));
  simdjson::dom::element doc = parser.parse(json);
  VaderScorer scorer(VaderLexicons::builtin());
  int checked = 0;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    const std::string title{std::string_view(item["title"])};
    const std::string desc{std::string_view(item["description_text"])};
    auto ref = item["vader_compound"];
    EXPECT_NEAR(scorer.score(title).compound, double(ref["title"]), 1e-4) << title;
    EXPECT_NEAR(scorer.score(desc).compound, double(ref["description"]), 1e-4) << desc;
    EXPECT_NEAR(scorer.score(title + " " + desc).compound, double(ref["title_space_description"]),
                1e-4)
        << title;
    ++checked;
  }
  EXPECT_EQ(checked, 40);
}

// The five article pages' expected texts (several paragraphs, quotes, "but"), joined by spaces.
TEST(Vader, MatchesTheReferenceOnWholeArticleTexts) {
  simdjson::dom::parser parser;
  const std::string json = readFile(cryptoFeedPath("expected-authored.json"));
  simdjson::dom::element doc = parser.parse(json);
  VaderScorer scorer(VaderLexicons::builtin());
  int checked = 0;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    if (!bool(item["has_article_page"])) continue;
    std::string rel{std::string_view(item["article_expected_text"])};
    rel = rel.substr(rel.find("site/") + 5);
    std::istringstream lines(readFile(cryptoFeedPath("site/" + rel)));
    std::string line;
    std::string text;
    while (std::getline(lines, line)) text += (text.empty() ? "" : " ") + line;
    ASSERT_FALSE(text.empty()) << rel;
    EXPECT_NEAR(scorer.score(text).compound, double(item["vader_compound"]["article_whole_text"]),
                1e-4)
        << rel;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(Vader, CurlyQuotesOnlyNegateWhenNormalised) {
  const std::string curly =
      "\xE2\x80\x98Not bad at all\xE2\x80\x99: traders cheer XRP\xE2\x80\x99s "
      "steady recovery";
  VaderScorer plain(VaderLexicons::builtin());
  EXPECT_NEAR(plain.score(curly).compound, -0.0516, 1e-4);  // the reference's quirk
  VaderScorer normalised(VaderLexicons::builtin(), VaderScorer::Config{true});
  EXPECT_NEAR(normalised.score(curly).compound,
              plain.score("'Not bad at all': traders cheer XRP's steady recovery").compound, 1e-9);
  EXPECT_NEAR(normalised.score(curly).compound, 0.7311, 1e-4);
}

TEST(Vader, ExtensionLexiconOverridesAndMatchesPhrases) {
  VaderLexicons lex = VaderLexicons::builtin();
  VaderScorer before(lex);
  EXPECT_LT(before.score("The block was mined").compound, 0);
  EXPECT_EQ(before.score("Investors fear a rug pull").compound,
            before.score("Investors fear a rug").compound);
  std::string error;
  ASSERT_TRUE(lex.loadExtension("# comment\nblock\t0\nrug pull\t-3.0\t# scam-like\n", error))
      << error;
  VaderScorer after(lex);
  EXPECT_EQ(after.score("The block was mined").compound, 0.0);
  EXPECT_LT(after.score("Investors fear a rug pull").compound,
            before.score("Investors fear a rug pull").compound);
  EXPECT_LT(after.score("This is a RUG PULL!").compound, -0.5);
  // A phrase only matches whole consecutive words.
  EXPECT_EQ(after.score("the rug was pulled").compound, 0.0);
}

TEST(Vader, ExtensionLexiconErrorsNameTheLine) {
  VaderLexicons lex;
  std::string error;
  EXPECT_FALSE(lex.loadExtension("good\t1\nbullish 2\n", error));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
  EXPECT_FALSE(lex.loadExtension("a b c d e\t1\n", error));
  EXPECT_NE(error.find("more than"), std::string::npos) << error;
}

TEST(Vader, CryptoLexiconMovesScoresTowardsTheIntendedPolarity) {
  simdjson::dom::parser parser;
  const std::string json = readFile(cryptoFeedPath("expected-authored.json"));
  simdjson::dom::element doc = parser.parse(json);
  VaderScorer plain(VaderLexicons::builtin(), VaderScorer::Config{true});
  VaderLexicons lex = VaderLexicons::builtin();
  std::string error;
  ASSERT_TRUE(lex.loadExtension(VaderLexicons::builtinCryptoLexicon(), error)) << error;
  VaderScorer crypto(std::move(lex), VaderScorer::Config{true});
  int plain_ok = 0;
  int crypto_ok = 0;
  int total = 0;
  for (simdjson::dom::element item : doc["items"].get_array()) {
    const std::string text = std::string(std::string_view(item["title"])) + " " +
                             std::string(std::string_view(item["description_text"]));
    const std::string_view intended = item["intended_polarity"];
    plain_ok += labelOf(plain.score(text).compound) == intended ? 1 : 0;
    const double c = crypto.score(text).compound;
    crypto_ok += labelOf(c) == intended ? 1 : 0;
    if (labelOf(c) != intended) {
      std::printf("  differs: intended %s, got %.4f: %s\n", std::string(intended).c_str(), c,
                  text.c_str());
    }
    ++total;
  }
  std::printf(
      "label agreement with intended polarity (title + description, %d items): "
      "plain VADER %d, with crypto lexicon %d\n",
      total, plain_ok, crypto_ok);
  EXPECT_GT(crypto_ok, plain_ok);
}

TEST(Vader, LabelThresholds) {
  EXPECT_EQ(labelOf(0.05), "positive");
  EXPECT_EQ(labelOf(0.0499), "neutral");
  EXPECT_EQ(labelOf(-0.0499), "neutral");
  EXPECT_EQ(labelOf(-0.05), "negative");
}

}  // namespace
}  // namespace cvagent::processors::sentiment

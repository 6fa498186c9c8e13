// Sentiment scoring throughput on article text (the five authored fixture articles, whose
// paragraphs are narrative news prose). Each iteration scores one article-sized text.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "coin_tagger.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "headline_model.h"
#include "headline_training.h"
#include "sentiment_processor.h"
#include "vader.h"

namespace cvagent::processors::sentiment {
namespace {

std::vector<std::string> articles() {
  std::ifstream in(CVAGENT_PLUGIN_DIR "/bench/article_text.txt");
  std::stringstream s;
  s << in.rdbuf();
  // One "article" per 6 lines (headline + paragraphs), as the fixture pages are.
  std::vector<std::string> out;
  std::string line;
  std::string current;
  int n = 0;
  while (std::getline(s, line)) {
    current += line;
    current += '\n';
    if (++n % 6 == 0) out.push_back(std::exchange(current, {}));
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// Calls `score` on the texts round robin, one per iteration; counts their bytes.
template <typename Score>
void scoreEach(benchmark::State& state, const std::vector<std::string>& texts, Score score) {
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& t = texts[i++ % texts.size()];
    benchmark::DoNotOptimize(score(t));
    bytes += t.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_VaderScore(benchmark::State& state) {
  VaderLexicons lex = VaderLexicons::builtin();
  std::string error;
  lex.loadExtension(VaderLexicons::builtinCryptoLexicon(), error);
  VaderScorer scorer(std::move(lex), VaderScorer::Config{true});
  const auto texts = articles();
  scoreEach(state, texts, [&](const std::string& t) { return scorer.score(t); });
}
BENCHMARK(BM_VaderScore);

// The headline model alone (features + logistic regression), on the 9,543 training headlines
// (mean ~86 bytes, most with a t.co link): bytes/s is the scoring throughput per core.
void BM_HeadlineScore(benchmark::State& state) {
  std::ifstream in(CVAGENT_PLUGIN_DIR "/data/twitter-financial-news_train.csv", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::vector<std::string> texts;
  for (auto& row : training::parseLabelledCsv(
           s.str(), CVAGENT_PLUGIN_DIR "/data/twitter-financial-news_train.csv")) {
    texts.push_back(std::move(row.text));
  }
  HeadlineScorer scorer(HeadlineModel::builtin());
  scoreEach(state, texts, [&](const std::string& t) { return scorer.score(t); });
}
BENCHMARK(BM_HeadlineScore);

void BM_CoinTag(benchmark::State& state) {
  CoinTagger tagger(defaultAliasTable());
  const auto texts = articles();
  scoreEach(state, texts, [&](const std::string& t) { return tagger.tag(t); });
}
BENCHMARK(BM_CoinTag);

// The whole processor: score + tag + rolling windows + metric building, per article metric;
// argument 0: `model: vader`, 1: the default headline model (which also computes VADER's compound).
void BM_ProcessArticle(benchmark::State& state) {
  cvagent::testing::TestContext ctx;
  SentimentOptions options;
  if (state.range(0) == 0) options.model = "vader";
  SentimentProcessor p(options, ctx);
  cvagent::testing::CapturingEmitter out;
  const auto texts = articles();
  std::size_t bytes = 0;
  std::size_t i = 0;
  std::int64_t t = 1'741'621'330'000'000'000;
  for (auto _ : state) {
    const auto& text = texts[i++ % texts.size()];
    Metric m = cvagent::testing::MetricBuilder("article")
                   .tag("source", "bench")
                   .field("title", "Bitcoin and Ether rally")
                   .field("text", text)
                   .time(t += 1'000'000'000);
    p.process(std::move(m), out);
    if (out.size() > 1000) out.take();
    bytes += text.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_ProcessArticle)->Arg(0)->Arg(1);

}  // namespace
}  // namespace cvagent::processors::sentiment

BENCHMARK_MAIN();

// Sentiment scoring throughput on article text (the five authored fixture articles, whose
// paragraphs are narrative news prose). Each iteration scores one article-sized text.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "coin_tagger.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
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

void BM_VaderScore(benchmark::State& state) {
  VaderLexicons lex = VaderLexicons::builtin();
  std::string error;
  lex.loadExtension(VaderLexicons::builtinCryptoLexicon(), error);
  VaderScorer scorer(std::move(lex), VaderScorer::Config{true});
  const auto texts = articles();
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& t = texts[i++ % texts.size()];
    benchmark::DoNotOptimize(scorer.score(t));
    bytes += t.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_VaderScore);

void BM_CoinTag(benchmark::State& state) {
  CoinTagger tagger(defaultAliasTable());
  const auto texts = articles();
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& t = texts[i++ % texts.size()];
    benchmark::DoNotOptimize(tagger.tag(t));
    bytes += t.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_CoinTag);

// The whole processor: score + tag + rolling windows + metric building, per article metric.
void BM_ProcessArticle(benchmark::State& state) {
  cvagent::testing::TestContext ctx;
  SentimentProcessor p(SentimentOptions{}, ctx);
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
BENCHMARK(BM_ProcessArticle);

}  // namespace
}  // namespace cvagent::processors::sentiment

BENCHMARK_MAIN();

// Feed parsing and article text extraction throughput, on the fixture feeds and pages.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "feed_date.h"
#include "feed_parser.h"
#include "html_text.h"

namespace cvagent::inputs::rss {
namespace {

std::string readFile(const std::string& rel) {
  std::ifstream in(std::string(CVAGENT_SHARED_TEST_DATA) + "/feeds/" + rel, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void runParse(benchmark::State& state, const std::vector<std::string>& docs) {
  std::size_t bytes = 0;
  std::size_t items = 0;
  for (auto _ : state) {
    for (const auto& d : docs) {
      ParsedFeed feed;
      std::string error;
      if (!parseFeed(d, "https://example.test/feed", feed, error))
        state.SkipWithError(error.c_str());
      items += feed.items.size();
      bytes += d.size();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["items/s"] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
}

// The four real crypto-news feeds (CDATA, HTML descriptions, RFC 822 dates).
void BM_ParseCryptoFeeds(benchmark::State& state) {
  runParse(state, {readFile("crypto/coindesk.rss"), readFile("crypto/cointelegraph.rss"),
                   readFile("crypto/decrypt.rss"), readFile("crypto/theblock.rss")});
}
BENCHMARK(BM_ParseCryptoFeeds);

// A mix with large HTML bodies and a legacy encoding (iconv).
void BM_ParseMixedFeeds(benchmark::State& state) {
  runParse(state, {readFile("rss2/guardian-us.rss"), readFile("rss2/wapo-wellness.xml"),
                   readFile("atom/reddit-mediarss.atom"), readFile("rdf/science-twis.rdf"),
                   readFile("nonascii/oren-windows-1251.xml")});
}
BENCHMARK(BM_ParseMixedFeeds);

void BM_ExtractArticleText(benchmark::State& state) {
  const std::vector<std::string> pages = {
      readFile("crypto/site/cryptowire/2025/03/bitcoin-etf-inflows-record.html"),
      readFile("crypto/site/cryptowire/2025/03/ethereum-bridge-exploit.html"),
      readFile("crypto/site/cryptowire/2025/03/ripple-court-ruling.html"),
      readFile("crypto/site/chainledger/news/bitcoin-difficulty-adjustment.html"),
      readFile("crypto/site/chainledger/news/coinharbor-lawsuit.html")};
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const auto& p : pages) {
      benchmark::DoNotOptimize(extractArticleText(p));
      bytes += p.size();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_ExtractArticleText);

// A hostile page of about 1 MB: `depth` nested <article><div class="content"> blocks around 20,000
// paragraphs (arg 0), or `depth` nested <p>x<span> around 1 MB of text (arg 1). The article search
// reads the paragraphs once whatever the nesting.
void BM_ExtractArticleTextNested(benchmark::State& state) {
  const auto depth = static_cast<int>(state.range(0));
  const bool nested_paragraphs = state.range(1) == 1;
  std::string page = "<html><body>";
  for (int i = 0; i < depth; ++i)
    page += nested_paragraphs ? "<p>x<span>" : "<article><div class='content'>";
  if (nested_paragraphs) {
    page += std::string(1'000'000, 'a');
  } else {
    for (int i = 0; i < 20'000; ++i)
      page += "<p>Some paragraph text of an article, long enough.</p>";
  }
  for (int i = 0; i < depth; ++i) page += nested_paragraphs ? "</span></p>" : "</div></article>";
  page += "</body></html>";
  std::size_t text = 0;
  for (auto _ : state) text += extractArticleText(page).size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * page.size()));
  state.counters["text_bytes"] =
      static_cast<double>(text) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ExtractArticleTextNested)
    ->ArgsProduct({{1, 10, 100}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

void BM_ParseDates(benchmark::State& state) {
  const std::vector<std::string> dates = {"Fri, 12 Dec 2025 15:09:00 +0000",
                                          "2025-12-12T10:09:00-05:00", "12 Dec 2025 11:37:46 EST",
                                          "Friday, December 12, 2025 3:09 PM"};
  for (auto _ : state) {
    for (const auto& d : dates) benchmark::DoNotOptimize(parseFeedDate(d));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * dates.size()));
}
BENCHMARK(BM_ParseDates);

}  // namespace
}  // namespace cvagent::inputs::rss

BENCHMARK_MAIN();

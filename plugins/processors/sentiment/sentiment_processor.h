#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coin_tagger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"
#include "vader.h"

namespace cvagent::processors::sentiment {

struct SentimentOptions {
  std::string metric = "article";
  std::vector<std::string> fields{"title", "summary", "text"};
  bool crypto_lexicon = true;
  std::vector<std::string> lexicon_files;
  bool normalize_quotes = true;
  AliasTable coins = defaultAliasTable();
  std::chrono::nanoseconds window = std::chrono::hours(1);
  bool emit_sentiment = true;

  static void describe(Schema<SentimentOptions>& s);
};

// Per-coin rolling window over article (event) time: the window ending at the latest article
// time seen for the coin, (latest - window, latest]. Articles older than the window start when
// they arrive are not counted.
class RollingSentiment {
 public:
  struct Summary {
    double score = 0;       // mean compound
    double confidence = 0;  // n/(n+2) * (1 - stddev)
    std::int64_t articles = 0;
    std::int64_t time_ns = 0;  // latest article time in the window
  };
  explicit RollingSentiment(std::chrono::nanoseconds window) : window_ns_(window.count()) {}

  // Adds one article's compound for `symbol`; nullopt when it falls before the window.
  std::optional<Summary> add(const std::string& symbol, std::int64_t time_ns, double compound);

 private:
  struct Entry {
    std::int64_t time_ns;
    double compound;
  };
  struct Window {
    std::deque<Entry> entries;  // sorted by time
    double sum = 0;             // running sums of compound and compound^2: O(1) per article
    double sum_sq = 0;
  };
  std::int64_t window_ns_;
  std::map<std::string, Window> windows_;
};

class SentimentProcessor final : public Processor {
 public:
  SentimentProcessor(const SentimentOptions& options, PluginContext& context);

  void process(Metric&& metric, Emitter& out) override;

 private:
  SentimentOptions options_;
  PluginContext& ctx_;
  VaderScorer scorer_;
  CoinTagger tagger_;
  RollingSentiment rolling_;
  Counter& scored_;
  Counter& late_;
  std::string text_;
  std::vector<std::string> coins_;
};

}  // namespace cvagent::processors::sentiment

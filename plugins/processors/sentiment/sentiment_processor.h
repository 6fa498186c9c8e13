#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coin_tagger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"
#include "headline_model.h"
#include "vader.h"

namespace cvagent::processors::sentiment {

struct SentimentOptions {
  std::string metric = "article";
  std::string model = "headline";  // or "vader"
  std::string model_file;          // empty: the built-in data/headline_model.bin
  std::vector<std::string> model_fields{"title", "summary"};
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
// they arrive are not counted. Each article weighs `weight` (the model's confidence; 1 with VADER).
class RollingSentiment {
 public:
  struct Sample {
    double score = 0;                                    // -1..1
    double weight = 1;                                   // > 0
    std::array<double, kHeadlineClasses> probability{};  // class probabilities (model only)
  };
  struct Summary {
    double score = 0;       // weighted mean score
    double confidence = 0;  // W/(W+2) * (1 - weighted stddev), W the sum of weights (VADER)
    std::array<double, kHeadlineClasses> probability{};  // weighted mean class probabilities
    std::int64_t articles = 0;
    std::int64_t time_ns = 0;  // latest article time in the window
  };
  explicit RollingSentiment(std::chrono::nanoseconds window) : window_ns_(window.count()) {}

  // Adds one article's sample for `symbol`; nullopt when it falls before the window.
  std::optional<Summary> add(const std::string& symbol, std::int64_t time_ns, const Sample& sample);
  std::optional<Summary> add(const std::string& symbol, std::int64_t time_ns, double score) {
    return add(symbol, time_ns, Sample{score});
  }

 private:
  struct Entry {
    std::int64_t time_ns;
    Sample sample;
  };
  struct Window {
    std::deque<Entry> entries;  // sorted by time
    // Running weighted sums (weight, weight*score, weight*score^2, weight*probability): O(1)
    // per article.
    double sum_w = 0;
    double sum_ws = 0;
    double sum_ws2 = 0;
    std::array<double, kHeadlineClasses> sum_wp{};
    void accumulate(const Sample& s, double sign);
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
  VaderScorer scorer_;
  std::unique_ptr<HeadlineScorer> headline_;  // null in `model: vader`
  CoinTagger tagger_;
  RollingSentiment rolling_;
  Counter& scored_;
  Counter& late_;
  std::string text_;
  std::string model_text_;
  std::vector<std::string> coins_;
};

}  // namespace cvagent::processors::sentiment

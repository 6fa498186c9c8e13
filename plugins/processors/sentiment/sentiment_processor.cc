#include "sentiment_processor.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cvagent::processors::sentiment {
namespace {

VaderLexicons buildLexicons(const SentimentOptions& options) {
  VaderLexicons lex = VaderLexicons::builtin();
  std::string error;
  if (options.crypto_lexicon && !lex.loadExtension(VaderLexicons::builtinCryptoLexicon(), error)) {
    throw std::logic_error("built-in crypto lexicon: " + error);
  }
  for (const auto& path : options.lexicon_files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("lexicon_files: cannot read '" + path + "'");
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!lex.loadExtension(buffer.str(), error)) {
      throw std::runtime_error("lexicon_files: " + path + ": " + error);
    }
  }
  return lex;
}

double round4(double v) { return std::round(v * 1e4) / 1e4; }

}  // namespace

void SentimentOptions::describe(Schema<SentimentOptions>& s) {
  s.option("metric", &SentimentOptions::metric,
           "Name of the metrics to score; others pass through unchanged.");
  s.option("fields", &SentimentOptions::fields,
           "String fields scored and searched for coins, joined by a space, when present.");
  s.option("crypto_lexicon", &SentimentOptions::crypto_lexicon,
           "Load the built-in crypto/market lexicon (bullish, hack, rug pull...) after VADER's.");
  s.option(
      "lexicon_files", &SentimentOptions::lexicon_files,
      "Extra lexicon files (lines of token, tab, valence -4..4; '#' comments; phrases allowed), "
      "loaded in order after the built-in ones; later entries override earlier ones.");
  s.option("normalize_quotes", &SentimentOptions::normalize_quotes,
           "Map curly quotes to ASCII before tokenising, so a quoted 'Not' still negates.");
  s.option("coins", &SentimentOptions::coins,
           "Ticker -> aliases. An all-upper-case alias matches only in upper case; others match "
           "in any case; whole words only.");
  s.option("window", &SentimentOptions::window,
           "Length of the rolling per-coin window, by article time.")
      .min(1);
  s.option("emit_sentiment", &SentimentOptions::emit_sentiment,
           "Emit a rolling `sentiment` metric per coin after each article that mentions it.");
}

std::optional<RollingSentiment::Summary> RollingSentiment::add(const std::string& symbol,
                                                               std::int64_t time_ns,
                                                               double compound) {
  Window& w = windows_[symbol];
  auto& entries = w.entries;
  const std::int64_t latest = entries.empty() ? time_ns : std::max(entries.back().time_ns, time_ns);
  if (time_ns <= latest - window_ns_) return std::nullopt;
  // Keep entries sorted by time: articles may arrive out of order.
  auto it = entries.end();
  while (it != entries.begin() && std::prev(it)->time_ns > time_ns) --it;
  entries.insert(it, Entry{time_ns, compound});
  w.sum += compound;
  w.sum_sq += compound * compound;
  while (entries.front().time_ns <= latest - window_ns_) {
    w.sum -= entries.front().compound;
    w.sum_sq -= entries.front().compound * entries.front().compound;
    entries.pop_front();
  }
  Summary s;
  s.articles = static_cast<std::int64_t>(entries.size());
  s.time_ns = latest;
  const double n = static_cast<double>(entries.size());
  s.score = w.sum / n;
  const double variance = std::max(0.0, w.sum_sq / n - s.score * s.score);
  const double stddev = std::sqrt(variance);
  s.confidence = n / (n + 2.0) * (1.0 - std::min(1.0, stddev));
  return s;
}

SentimentProcessor::SentimentProcessor(const SentimentOptions& options, PluginContext& context)
    : options_(options),
      ctx_(context),
      scorer_(buildLexicons(options), VaderScorer::Config{options.normalize_quotes}),
      tagger_(options.coins),
      rolling_(options.window),
      scored_(context.counter("articles_scored_total", "Articles given a sentiment score.")),
      late_(context.counter("articles_outside_window_total",
                            "Articles older than their coin's rolling window when they arrived "
                            "(scored, not counted in the window).")) {}

void SentimentProcessor::process(Metric&& metric, Emitter& out) {
  if (metric.name() != options_.metric) {
    out.emit(std::move(metric));
    return;
  }
  text_.clear();
  for (const auto& field : options_.fields) {
    const std::string* value = metric.stringField(field);
    if (value == nullptr || value->empty()) continue;
    if (!text_.empty()) text_ += ' ';
    text_ += *value;
  }
  const VaderScores scores = scorer_.score(text_);
  coins_.clear();
  tagger_.tagInto(text_, coins_);
  std::string coin_list;
  for (const auto& c : coins_) {
    if (!coin_list.empty()) coin_list += ',';
    coin_list += c;
  }
  metric.setField("coins", std::move(coin_list));
  metric.setField("sentiment", scores.compound);
  metric.setField("sentiment_label", std::string(labelOf(scores.compound)));
  metric.setField("sentiment_score", round4((scores.compound + 1.0) / 2.0));
  scored_.inc();
  const std::int64_t time_ns = metric.time();
  out.emit(std::move(metric));

  if (!options_.emit_sentiment) return;
  for (const auto& coin : coins_) {
    auto summary = rolling_.add(coin, time_ns, scores.compound);
    if (!summary) {
      late_.inc();
      continue;
    }
    Metric m("sentiment", summary->time_ns);
    m.setTag("symbol", coin);
    m.reserveFields(4);
    m.setField("score", round4(summary->score));
    m.setField("label", std::string(labelOf(summary->score)));
    m.setField("confidence", round4(summary->confidence));
    m.setField("articles", summary->articles);
    out.emit(std::move(m));
  }
}

}  // namespace cvagent::processors::sentiment

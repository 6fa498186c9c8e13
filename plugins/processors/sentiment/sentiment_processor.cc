#include "sentiment_processor.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "embedded_data.h"

namespace cvagent::processors::sentiment {
namespace {

std::unique_ptr<HeadlineScorer> buildHeadlineScorer(const SentimentOptions& options) {
  if (options.model != "headline") return nullptr;
  try {
    return std::make_unique<HeadlineScorer>(options.model_file.empty()
                                                ? HeadlineModel::builtin()
                                                : HeadlineModel::fromFile(options.model_file));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("model_file: ") + e.what());
  }
}

void joinFields(const Metric& metric, const std::vector<std::string>& fields, std::string& out) {
  out.clear();
  for (const auto& field : fields) {
    const std::string* value = metric.stringField(field);
    if (value == nullptr || value->empty()) continue;
    if (!out.empty()) out += ' ';
    out += *value;
  }
}

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

HeadlineClass argmax(const std::array<double, kHeadlineClasses>& p) {
  return static_cast<HeadlineClass>(std::max_element(p.begin(), p.end()) - p.begin());
}

}  // namespace

HeadlineModel HeadlineModel::builtin() {
  return parse(embedded::headline_model_bin(), "built-in headline_model.bin");
}

void SentimentOptions::describe(Schema<SentimentOptions>& s) {
  s.option("metric", &SentimentOptions::metric,
           "Name of the metrics to score; others pass through unchanged.");
  s.option("model", &SentimentOptions::model,
           "`headline`: a logistic regression trained on labelled financial headlines sets the "
           "label, score and confidence (VADER's compound kept as `vader_compound`); `vader`: "
           "VADER alone, as before.")
      .oneOf({"headline", "vader"});
  s.option("model_file", &SentimentOptions::model_file,
           "Headline model file written by train_headline_model; empty: the built-in one.");
  s.option("model_fields", &SentimentOptions::model_fields,
           "String fields the headline model scores, joined by a space (it was trained on "
           "headline-length texts).");
  s.option("fields", &SentimentOptions::fields,
           "String fields VADER scores and the coin tagger searches, joined by a space, when "
           "present.");
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

void RollingSentiment::Window::accumulate(const Sample& s, double sign) {
  const double w = sign * s.weight;
  sum_w += w;
  sum_ws += w * s.score;
  sum_ws2 += w * s.score * s.score;
  for (std::size_t k = 0; k < kHeadlineClasses; ++k) sum_wp[k] += w * s.probability[k];
}

std::optional<RollingSentiment::Summary> RollingSentiment::add(const std::string& symbol,
                                                               std::int64_t time_ns,
                                                               const Sample& sample) {
  Window& w = windows_[symbol];
  auto& entries = w.entries;
  const std::int64_t latest = entries.empty() ? time_ns : std::max(entries.back().time_ns, time_ns);
  if (time_ns <= latest - window_ns_) return std::nullopt;
  // Keep entries sorted by time: articles may arrive out of order.
  auto it = entries.end();
  while (it != entries.begin() && std::prev(it)->time_ns > time_ns) --it;
  entries.insert(it, Entry{time_ns, sample});
  w.accumulate(sample, 1.0);
  while (entries.front().time_ns <= latest - window_ns_) {
    w.accumulate(entries.front().sample, -1.0);
    entries.pop_front();
  }
  Summary s;
  s.articles = static_cast<std::int64_t>(entries.size());
  s.time_ns = latest;
  const double weight = w.sum_w;
  s.score = w.sum_ws / weight;
  for (std::size_t k = 0; k < kHeadlineClasses; ++k) s.probability[k] = w.sum_wp[k] / weight;
  const double variance = std::max(0.0, w.sum_ws2 / weight - s.score * s.score);
  const double stddev = std::sqrt(variance);
  s.confidence = weight / (weight + 2.0) * (1.0 - std::min(1.0, stddev));
  return s;
}

SentimentProcessor::SentimentProcessor(const SentimentOptions& options, PluginContext& context)
    : options_(options),
      scorer_(buildLexicons(options), VaderScorer::Config{options.normalize_quotes}),
      headline_(buildHeadlineScorer(options)),
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
  joinFields(metric, options_.fields, text_);
  const VaderScores scores = scorer_.score(text_);
  coins_.clear();
  tagger_.tagInto(text_, coins_);
  std::string coin_list;
  for (const auto& c : coins_) {
    if (!coin_list.empty()) coin_list += ',';
    coin_list += c;
  }
  metric.setField("coins", std::move(coin_list));
  RollingSentiment::Sample sample{scores.compound};
  if (headline_) {
    joinFields(metric, options_.model_fields, model_text_);
    const HeadlinePrediction prediction = headline_->score(model_text_);
    sample = {prediction.score(), prediction.confidence(), prediction.probability};
    metric.setField("sentiment", round4(sample.score));
    metric.setField("sentiment_label", std::string(labelOf(prediction.label)));
    metric.setField("sentiment_confidence", round4(sample.weight));
    metric.setField("vader_compound", scores.compound);
  } else {
    metric.setField("sentiment", scores.compound);
    metric.setField("sentiment_label", std::string(labelOf(scores.compound)));
  }
  metric.setField("sentiment_score", round4((sample.score + 1.0) / 2.0));
  scored_.inc();
  const std::int64_t time_ns = metric.time();
  out.emit(std::move(metric));

  if (!options_.emit_sentiment) return;
  for (const auto& coin : coins_) {
    auto summary = rolling_.add(coin, time_ns, sample);
    if (!summary) {
      late_.inc();
      continue;
    }
    Metric m("sentiment", summary->time_ns);
    m.setTag("symbol", coin);
    m.reserveFields(4);
    m.setField("score", round4(summary->score));
    if (headline_) {
      // The window's label is the class of highest confidence-weighted mean probability; its
      // confidence is that mean probability.
      const HeadlineClass label = argmax(summary->probability);
      m.setField("label", std::string(labelOf(label)));
      m.setField("confidence", round4(summary->probability[static_cast<std::size_t>(label)]));
    } else {
      m.setField("label", std::string(labelOf(summary->score)));
      m.setField("confidence", round4(summary->confidence));
    }
    m.setField("articles", summary->articles);
    out.emit(std::move(m));
  }
}

}  // namespace cvagent::processors::sentiment

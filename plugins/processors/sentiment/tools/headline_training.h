#pragma once
// Training of the headline model (headline_model.h): multinomial logistic regression fitted by
// single-threaded SGD with L2 regularisation, k-fold cross-validation on the training data only,
// and temperature scaling fitted on the out-of-fold predictions. Deterministic: a fixed seed, a
// fixed visiting order and no thread-dependent sums, so the same inputs give the same bytes.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "headline_model.h"

namespace cvagent::processors::sentiment::training {

struct LabelledText {
  std::string text;
  HeadlineClass label;
};

// CSV with a `text,label` header, RFC 4180 quoting, labels 0 bearish / 1 bullish / 2 neutral.
// Throws std::runtime_error naming `source` and the line on malformed input.
std::vector<LabelledText> parseLabelledCsv(std::string_view csv, const std::string& source);

// Defaults: the committed model's settings, chosen by 5-fold cross-validation on the training
// file (docs/performance.md lists the runs).
struct TrainingConfig {
  FeatureConfig features{.log2_buckets = 18,
                         .flags = FeatureConfig::kUnigrams | FeatureConfig::kBigrams |
                                  FeatureConfig::kCharNgrams | FeatureConfig::kLexiconPrior,
                         .char_min = 5,
                         .char_max = 5};
  double l2 = 5e-6;  // lambda of the L2 penalty, per example
  double eta0 = 2;   // initial learning rate; eta_t = eta0 / (1 + eta0 * l2 * t)
  int epochs = 40;
  int folds = 5;
  std::uint64_t seed = 20261201;
  bool balance_classes = true;    // weight examples by N / (classes * N_class): macro-F1 matters
  std::vector<PriorEntry> prior;  // with FeatureConfig::kLexiconPrior (see buildPrior)
};

// The prior lexicon from lexicon texts (token<TAB>valence[<TAB>...] lines, '#' comment lines;
// VADER's lexicon and the crypto lexicon both read this way), later texts overriding earlier
// ones; entries of more than two words are left out. Sorted by key.
std::vector<PriorEntry> buildPrior(const std::vector<std::string>& lexicon_texts);

struct Metrics {
  std::size_t count = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  std::array<double, kHeadlineClasses> f1{};
  std::array<std::array<std::size_t, kHeadlineClasses>, kHeadlineClasses>
      confusion{};  // [truth][pred]
  double nll = 0;   // mean negative log-likelihood of the truth
  double ece = 0;   // expected calibration error of the top class, 10 equal-width bins
};

// Metrics of calibrated predictions against the truth.
Metrics evaluate(const std::vector<HeadlineClass>& truth,
                 const std::vector<std::array<double, kHeadlineClasses>>& probabilities);

// Headlines about crypto assets (bitcoin, ether, crypto..., coinbase...): a word list, not a model.
bool isCryptoText(std::string_view text);

struct TrainingResult {
  std::string model_bytes;  // the model file
  double temperature = 1;
  Metrics cv;               // out-of-fold, calibrated, with the quantised fold models
  Metrics cv_uncalibrated;  // same predictions at temperature 1
  Metrics cv_crypto;        // the crypto items of the training data, out-of-fold
};

TrainingResult train(const std::vector<LabelledText>& data, const TrainingConfig& config);

std::string formatMetrics(const Metrics& m);

}  // namespace cvagent::processors::sentiment::training

// Trains the headline sentiment model (data/headline_model.bin) from labelled headlines.
//
//   train_headline_model --data twitter-financial-news_train.csv --output headline_model.bin
//                        [--evaluate held_out.csv]... [--l2 X] [--eta0 X] [--epochs N]
//                        [--log2-buckets N] [--features ubc] [--char-ngrams MIN-MAX]
//                        [--no-balance] [--prior-lexicon LEXICON]...
//
// Prints the cross-validated metrics (training file only) and, for each --evaluate file, the
// metrics of the final model on it: those files are never used for training or tuning.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "headline_training.h"

namespace training = cvagent::processors::sentiment::training;
using cvagent::processors::sentiment::FeatureConfig;
using cvagent::processors::sentiment::HeadlineModel;
using cvagent::processors::sentiment::HeadlineScorer;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int usage() {
  std::cerr << "usage: train_headline_model --data CSV [--output MODEL] [--evaluate CSV]... "
               "[--l2 X] [--eta0 X] [--epochs N] [--log2-buckets N] [--features ubc] "
               "[--char-ngrams MIN-MAX] [--no-balance] [--prior-lexicon FILE]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  training::TrainingConfig config;
  std::string data_path;
  std::string output_path;
  std::vector<std::string> evaluate_paths;
  std::vector<std::string> prior_texts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-balance") {
      config.balance_classes = false;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    if (arg == "--data") {
      data_path = value;
    } else if (arg == "--output") {
      output_path = value;
    } else if (arg == "--evaluate") {
      evaluate_paths.push_back(value);
    } else if (arg == "--prior-lexicon") {
      prior_texts.push_back(readFile(value));
    } else if (arg == "--l2") {
      config.l2 = std::stod(value);
    } else if (arg == "--eta0") {
      config.eta0 = std::stod(value);
    } else if (arg == "--epochs") {
      config.epochs = std::stoi(value);
    } else if (arg == "--log2-buckets") {
      config.features.log2_buckets = static_cast<std::uint32_t>(std::stoul(value));
    } else if (arg == "--features") {
      config.features.flags &= FeatureConfig::kLexiconPrior;
      if (value.find('u') != std::string::npos) config.features.flags |= FeatureConfig::kUnigrams;
      if (value.find('b') != std::string::npos) config.features.flags |= FeatureConfig::kBigrams;
      if (value.find('c') != std::string::npos) config.features.flags |= FeatureConfig::kCharNgrams;
    } else if (arg == "--char-ngrams") {
      const auto dash = value.find('-');
      if (dash == std::string::npos) return usage();
      config.features.char_min = static_cast<std::uint32_t>(std::stoul(value.substr(0, dash)));
      config.features.char_max = static_cast<std::uint32_t>(std::stoul(value.substr(dash + 1)));
    } else {
      return usage();
    }
  }
  if (data_path.empty()) return usage();
  if (prior_texts.empty()) config.features.flags &= ~FeatureConfig::kLexiconPrior;
  config.prior = training::buildPrior(prior_texts);
  const auto data = training::parseLabelledCsv(readFile(data_path), data_path);
  std::printf("training data: %s, %zu rows\n", data_path.c_str(), data.size());
  std::printf("prior lexicon: %zu entries\n", config.prior.size());
  std::printf(
      "config: log2_buckets=%u features=%u char_ngrams=%u-%u l2=%g eta0=%g epochs=%d "
      "folds=%d seed=%llu balance_classes=%d\n",
      config.features.log2_buckets, config.features.flags, config.features.char_min,
      config.features.char_max, config.l2, config.eta0, config.epochs, config.folds,
      static_cast<unsigned long long>(config.seed), config.balance_classes ? 1 : 0);
  const auto result = training::train(data, config);
  std::printf(
      "%d-fold cross-validation (training split only), calibrated, temperature %.2f:\n  %s\n",
      config.folds, result.temperature, training::formatMetrics(result.cv).c_str());
  std::printf("same, temperature 1 (uncalibrated):\n  %s\n",
              training::formatMetrics(result.cv_uncalibrated).c_str());
  std::printf("crypto items of the training split (cross-validated):\n  %s\n",
              training::formatMetrics(result.cv_crypto).c_str());
  const HeadlineModel model = HeadlineModel::parse(result.model_bytes, "trained model");
  for (const auto& path : evaluate_paths) {
    const auto held_out = training::parseLabelledCsv(readFile(path), path);
    HeadlineScorer scorer{HeadlineModel(model)};
    std::vector<cvagent::processors::sentiment::HeadlineClass> truth;
    std::vector<std::array<double, cvagent::processors::sentiment::kHeadlineClasses>> p;
    for (const auto& row : held_out) {
      truth.push_back(row.label);
      p.push_back(scorer.score(row.text).probability);
    }
    std::printf("held-out evaluation on %s (never used for training or tuning):\n  %s\n",
                path.c_str(), training::formatMetrics(training::evaluate(truth, p)).c_str());
  }
  if (!output_path.empty()) {
    std::ofstream out(output_path, std::ios::binary | std::ios::trunc);
    out.write(result.model_bytes.data(), static_cast<std::streamsize>(result.model_bytes.size()));
    if (!out.flush()) throw std::runtime_error(output_path + ": cannot write the model");
    std::printf("model: %s, %zu bytes, fnv1a64 %016llx\n", output_path.c_str(),
                result.model_bytes.size(),
                static_cast<unsigned long long>(
                    cvagent::processors::sentiment::fnv1a64(result.model_bytes)));
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "train_headline_model: " << e.what() << "\n";
  return 1;
}

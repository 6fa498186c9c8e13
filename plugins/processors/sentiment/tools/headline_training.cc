#include "headline_training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>

namespace cvagent::processors::sentiment::training {
namespace {

constexpr std::size_t K = kHeadlineClasses;

// splitmix64: a fixed, portable generator (std::shuffle's algorithm is not specified).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }

 private:
  std::uint64_t state_;
};

using Example = std::vector<Feature>;

ModelWeights fit(const std::vector<Example>& x, const std::vector<HeadlineClass>& y,
                 std::vector<std::size_t> order, const TrainingConfig& config, Random& random) {
  const std::size_t buckets = std::size_t{1} << config.features.log2_buckets;
  std::array<double, K> class_weight{1, 1, 1};
  if (config.balance_classes) {
    std::array<double, K> counts{};
    for (std::size_t i : order) counts[static_cast<std::size_t>(y[i])] += 1;
    for (std::size_t k = 0; k < K; ++k) {
      class_weight[k] = counts[k] > 0 ? static_cast<double>(order.size()) / (K * counts[k]) : 0;
    }
  }
  // Bottou's trick: w = scale * v, so the L2 shrink of every weight is one multiplication.
  std::vector<double> v(buckets * K, 0.0);
  std::array<double, K> bias{};
  double scale = 1;
  std::uint64_t t = 0;
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    random.shuffle(order);
    for (std::size_t i : order) {
      const Example& ex = x[i];
      std::array<double, K> z = bias;
      for (const Feature& f : ex) {
        for (std::size_t k = 0; k < K; ++k) z[k] += scale * f.value * v[f.bucket * K + k];
      }
      const auto p = softmax(z, 1.0);
      const double eta = config.eta0 / (1.0 + config.eta0 * config.l2 * static_cast<double>(t++));
      scale *= 1.0 - eta * config.l2;
      const double cw = class_weight[static_cast<std::size_t>(y[i])];
      for (std::size_t k = 0; k < K; ++k) {
        const double g = cw * (p[k] - (static_cast<std::size_t>(y[i]) == k ? 1.0 : 0.0));
        bias[k] -= eta * g;
        const double step = eta * g / scale;
        for (const Feature& f : ex) v[f.bucket * K + k] -= step * f.value;
      }
      if (scale < 1e-6) {
        for (double& w : v) w *= scale;
        scale = 1;
      }
    }
  }
  ModelWeights m;
  m.features = config.features;
  m.prior = config.prior;
  for (std::size_t k = 0; k < K; ++k) m.bias[k] = static_cast<float>(bias[k]);
  m.weights.resize(v.size());
  for (std::size_t j = 0; j < v.size(); ++j) m.weights[j] = static_cast<float>(scale * v[j]);
  return m;
}

double meanNll(const std::vector<HeadlineClass>& y,
               const std::vector<std::array<double, K>>& logits, double temperature) {
  double sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const auto p = softmax(logits[i], temperature);
    sum -= std::log(std::max(1e-300, p[static_cast<std::size_t>(y[i])]));
  }
  return sum / static_cast<double>(y.size());
}

}  // namespace

std::vector<LabelledText> parseLabelledCsv(std::string_view csv, const std::string& source) {
  std::vector<LabelledText> out;
  std::size_t pos = 0;
  std::size_t line = 1;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(source + ":" + std::to_string(line) + ": " + what);
  };
  auto readField = [&](std::string& field) {  // returns at ',' / line end / EOF
    field.clear();
    if (pos < csv.size() && csv[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= csv.size()) fail("unterminated quoted field");
        if (csv[pos] == '"') {
          if (pos + 1 < csv.size() && csv[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        if (csv[pos] == '\n') ++line;
        field += csv[pos++];
      }
    } else {
      while (pos < csv.size() && csv[pos] != ',' && csv[pos] != '\r' && csv[pos] != '\n') {
        field += csv[pos++];
      }
    }
  };
  auto endLine = [&] {
    if (pos < csv.size() && csv[pos] == '\r') ++pos;
    if (pos < csv.size() && csv[pos] != '\n') fail("expected the end of the line");
    if (pos < csv.size()) ++pos;
    ++line;
  };
  std::string text;
  std::string label;
  readField(text);
  if (pos >= csv.size() || csv[pos] != ',') fail("expected the header text,label");
  ++pos;
  readField(label);
  if (text != "text" || label != "label") fail("expected the header text,label");
  endLine();
  while (pos < csv.size()) {
    const std::size_t row_line = line;
    readField(text);
    if (pos >= csv.size() || csv[pos] != ',') fail("expected text,label");
    ++pos;
    readField(label);
    endLine();
    if (label != "0" && label != "1" && label != "2") {
      line = row_line;
      fail("label must be 0, 1 or 2, got '" + label + "'");
    }
    out.push_back({text, static_cast<HeadlineClass>(label[0] - '0')});
  }
  return out;
}

Metrics evaluate(const std::vector<HeadlineClass>& truth,
                 const std::vector<std::array<double, K>>& probabilities) {
  Metrics m;
  m.count = truth.size();
  if (m.count == 0) return m;
  constexpr int kBins = 10;
  std::array<double, kBins> bin_conf{};
  std::array<double, kBins> bin_correct{};
  std::array<double, kBins> bin_count{};
  std::size_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto& p = probabilities[i];
    const auto pred = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    const auto y = static_cast<std::size_t>(truth[i]);
    ++m.confusion[y][pred];
    correct += pred == y;
    m.nll -= std::log(std::max(1e-300, p[y]));
    const int bin = std::min(kBins - 1, static_cast<int>(p[pred] * kBins));
    bin_conf[bin] += p[pred];
    bin_correct[bin] += pred == y ? 1 : 0;
    bin_count[bin] += 1;
  }
  const auto n = static_cast<double>(m.count);
  m.accuracy = static_cast<double>(correct) / n;
  m.nll /= n;
  for (int b = 0; b < kBins; ++b) m.ece += std::abs(bin_conf[b] - bin_correct[b]) / n;
  for (std::size_t k = 0; k < K; ++k) {
    double tp = static_cast<double>(m.confusion[k][k]);
    double predicted = 0;
    double actual = 0;
    for (std::size_t j = 0; j < K; ++j) {
      predicted += static_cast<double>(m.confusion[j][k]);
      actual += static_cast<double>(m.confusion[k][j]);
    }
    m.f1[k] = predicted + actual > 0 ? 2 * tp / (predicted + actual) : 0;
    m.macro_f1 += m.f1[k] / K;
  }
  return m;
}

bool isCryptoText(std::string_view text) {
  static constexpr std::string_view kWords[] = {
      "bitcoin",  "bitcoins", "btc",      "ethereum",  "ether",      "eth",          "blockchain",
      "coinbase", "binance",  "dogecoin", "doge",      "solana",     "xrp",          "ripple",
      "tether",   "nft",      "nfts",     "defi",      "stablecoin", "stablecoins",  "altcoin",
      "altcoins", "litecoin", "cardano",  "grayscale", "ftx",        "microstrategy"};
  std::string word;
  auto check = [&] {
    if (word.rfind("crypto", 0) == 0) return true;  // crypto, cryptocurrency, cryptos...
    return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      word += static_cast<char>(std::tolower(u));
    } else if (!word.empty()) {
      if (check()) return true;
      word.clear();
    }
  }
  return !word.empty() && check();
}

std::vector<PriorEntry> buildPrior(const std::vector<std::string>& lexicon_texts) {
  std::map<std::uint64_t, float> entries;
  for (const std::string& text : lexicon_texts) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      const std::string_view line(text.data() + pos, eol - pos);
      pos = eol + 1;
      const std::size_t tab = line.find('\t');
      if (line.empty() || line[0] == '#' || tab == std::string_view::npos) continue;
      const std::string value(line.substr(tab + 1, line.find('\t', tab + 1) - tab - 1));
      char* parsed_end = nullptr;
      const double valence = std::strtod(value.c_str(), &parsed_end);
      if (parsed_end == value.c_str()) continue;
      if (const auto key = FeatureExtractor::priorKey(line.substr(0, tab))) {
        entries[*key] = static_cast<float>(valence);
      }
    }
  }
  std::vector<PriorEntry> out;
  out.reserve(entries.size());
  for (const auto& [key, valence] : entries) out.push_back({key, valence});
  return out;
}

TrainingResult train(const std::vector<LabelledText>& data, const TrainingConfig& config) {
  if (data.empty()) throw std::runtime_error("no training data");
  FeatureExtractor extractor(config.features, config.prior);
  std::vector<Example> x;
  std::vector<HeadlineClass> y;
  x.reserve(data.size());
  for (const auto& row : data) {
    x.push_back(extractor.extract(row.text));
    y.push_back(row.label);
  }
  Random random(config.seed);
  // Folds: a seeded permutation dealt round-robin.
  std::vector<std::size_t> permutation(data.size());
  for (std::size_t i = 0; i < permutation.size(); ++i) permutation[i] = i;
  random.shuffle(permutation);
  std::vector<int> fold_of(data.size());
  for (std::size_t r = 0; r < permutation.size(); ++r) {
    fold_of[permutation[r]] = static_cast<int>(r % static_cast<std::size_t>(config.folds));
  }
  std::vector<std::array<double, K>> oof_logits(data.size());
  for (int fold = 0; fold < config.folds; ++fold) {
    std::vector<std::size_t> train_rows;
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (fold_of[i] != fold) train_rows.push_back(i);
    }
    // Score the held-out fold with the quantised model, exactly as the plugin will.
    const HeadlineModel model =
        HeadlineModel::parse(encodeModel(fit(x, y, train_rows, config, random)), "fold model");
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (fold_of[i] == fold) oof_logits[i] = model.logits(x[i]);
    }
  }
  // Temperature scaling: the T minimising the out-of-fold negative log-likelihood.
  double best_t = 1;
  double best_nll = meanNll(y, oof_logits, 1.0);
  for (int step = 20; step <= 400; ++step) {
    const double t = step / 100.0;
    const double nll = meanNll(y, oof_logits, t);
    if (nll < best_nll) {
      best_nll = nll;
      best_t = t;
    }
  }
  TrainingResult result;
  result.temperature = best_t;
  std::vector<std::array<double, K>> calibrated;
  std::vector<std::array<double, K>> raw;
  std::vector<HeadlineClass> crypto_truth;
  std::vector<std::array<double, K>> crypto_probabilities;
  for (std::size_t i = 0; i < data.size(); ++i) {
    calibrated.push_back(softmax(oof_logits[i], best_t));
    raw.push_back(softmax(oof_logits[i], 1.0));
    if (isCryptoText(data[i].text)) {
      crypto_truth.push_back(y[i]);
      crypto_probabilities.push_back(calibrated.back());
    }
  }
  result.cv = evaluate(y, calibrated);
  result.cv_uncalibrated = evaluate(y, raw);
  result.cv_crypto = evaluate(crypto_truth, crypto_probabilities);

  std::vector<std::size_t> all(data.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  ModelWeights final_model = fit(x, y, all, config, random);
  final_model.temperature = static_cast<float>(best_t);
  result.model_bytes = encodeModel(final_model);
  return result;
}

std::string formatMetrics(const Metrics& m) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "n=%zu accuracy=%.4f macro_f1=%.4f f1[negative/bearish]=%.4f "
                "f1[positive/bullish]=%.4f f1[neutral]=%.4f nll=%.4f ece=%.4f\n"
                "  confusion [truth][predicted] (negative, positive, neutral): "
                "[%zu %zu %zu] [%zu %zu %zu] [%zu %zu %zu]",
                m.count, m.accuracy, m.macro_f1, m.f1[0], m.f1[1], m.f1[2], m.nll, m.ece,
                m.confusion[0][0], m.confusion[0][1], m.confusion[0][2], m.confusion[1][0],
                m.confusion[1][1], m.confusion[1][2], m.confusion[2][0], m.confusion[2][1],
                m.confusion[2][2]);
  return buf;
}

}  // namespace cvagent::processors::sentiment::training

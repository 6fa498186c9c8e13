#include "headline_model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cvagent::processors::sentiment {
namespace {

static_assert(std::endian::native == std::endian::little, "model files are little-endian");

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
// Seeds keep the feature kinds apart in the shared hash space.
constexpr std::uint64_t kUnigramSeed = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kBigramSeed = 0xc2b2ae3d27d4eb4fULL;
constexpr std::uint64_t kCharSeed = 0x165667b19e3779f9ULL;
constexpr std::uint64_t kStartMark = 0x5151515151515151ULL;
constexpr std::uint64_t kEndMark = 0xa3a3a3a3a3a3a3a3ULL;
constexpr std::uint64_t kPositiveWord = 0x7f4a7c159e3779b9ULL;
constexpr std::uint64_t kNegativeWord = 0x27d4eb4fc2b2ae3dULL;
constexpr float kPriorScale = 0.25F;           // valence -4..4 -> feature value 0..1
constexpr std::size_t kMaxCharNgramWord = 24;  // longer "words" are ids or junk: no n-grams
constexpr std::size_t kHeaderBytes = 8 + 6 * 4 + 4 + 4 + kHeadlineClasses * 4;

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hashBytes(std::string_view s, std::uint64_t h = kFnvOffset) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

// ASCII classes, independent of the C locale.
bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isLetter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isWordByte(unsigned char c) { return isLetter(c) || isDigit(c) || c >= 0x80; }
bool isSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
char lower(unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); }
bool startsWithUrl(std::string_view s) {
  auto lower_prefix = [&](std::string_view p) {
    if (s.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (lower(static_cast<unsigned char>(s[i])) != p[i]) return false;
    }
    return true;
  };
  return lower_prefix("http://") || lower_prefix("https://") || lower_prefix("www.");
}

template <typename T>
void put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}
  template <typename T>
  T get() {
    if (bytes_.size() - pos_ < sizeof(T)) fail("truncated");
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("sentiment model '" + source_ + "': " + what);
  }

 private:
  std::string_view bytes_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string_view labelOf(HeadlineClass c) {
  switch (c) {
    case HeadlineClass::kNegative:
      return "negative";
    case HeadlineClass::kPositive:
      return "positive";
    case HeadlineClass::kNeutral:
      break;
  }
  return "neutral";
}

std::uint64_t fnv1a64(std::string_view bytes) { return hashBytes(bytes); }

std::uint64_t bigramKey(std::uint64_t first, std::uint64_t second) {
  return mix(first) * 31 + second + kBigramSeed;
}

void FeatureExtractor::addHash(std::uint64_t hash, float value) {
  const auto bucket = static_cast<std::uint32_t>(mix(hash) >> (64 - config_.log2_buckets));
  features_.push_back({bucket, value});
}

FeatureExtractor::FeatureExtractor(FeatureConfig config, const std::vector<PriorEntry>& prior)
    : config_(config) {
  if (prior.empty()) return;
  std::size_t size = 16;
  while (size < prior.size() * 2) size *= 2;
  prior_table_.assign(size, PriorEntry{0, 0});
  for (const PriorEntry& e : prior) {
    if (e.key == 0) continue;
    std::size_t slot = mix(e.key) & (size - 1);
    while (prior_table_[slot].key != 0 && prior_table_[slot].key != e.key) {
      slot = (slot + 1) & (size - 1);
    }
    prior_table_[slot] = e;
  }
}

float FeatureExtractor::priorValence(std::uint64_t key) const {
  const std::size_t mask = prior_table_.size() - 1;
  for (std::size_t slot = mix(key) & mask;; slot = (slot + 1) & mask) {
    const PriorEntry& e = prior_table_[slot];
    if (e.key == key) return e.valence;
    if (e.key == 0) return 0.0F;
  }
}

std::optional<std::uint64_t> FeatureExtractor::priorKey(std::string_view phrase) {
  FeatureExtractor words(FeatureConfig{.flags = 0});
  words.extract(phrase);
  const auto& h = words.word_hashes_;
  if (h.size() == 1) return h[0];
  if (h.size() == 2) return bigramKey(h[0], h[1]);
  return std::nullopt;
}

// One tokenizer loop over the bytes: the branches are the byte classes, in one place on purpose.
// NOLINTNEXTLINE(readability-function-cognitive-complexity)
const std::vector<Feature>& FeatureExtractor::extract(std::string_view text) {
  text = text.substr(0, kMaxTextBytes);
  features_.clear();
  word_hashes_.clear();
  const bool chars = (config_.flags & FeatureConfig::kCharNgrams) != 0;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '%' || c == '!' || c == '?') {
      word_hashes_.push_back(hashBytes(text.substr(i, 1)));
      ++i;
      continue;
    }
    const bool ticker = c == '$' && i + 1 < n && isLetter(static_cast<unsigned char>(text[i + 1]));
    if (!ticker && !isWordByte(c)) {
      ++i;
      continue;
    }
    if (startsWithUrl(text.substr(i))) {
      while (i < n && !isSpace(static_cast<unsigned char>(text[i]))) ++i;
      continue;
    }
    word_.clear();
    bool numeric = true;
    if (ticker) {
      word_ += '$';
      ++i;
    }
    while (i < n) {
      const auto b = static_cast<unsigned char>(text[i]);
      if (isWordByte(b)) {
        word_ += lower(b);
        numeric = numeric && isDigit(b);
        ++i;
      } else if (b == '\'' && i + 1 < n && isWordByte(static_cast<unsigned char>(text[i + 1])) &&
                 !word_.empty()) {  // NOLINT(bugprone-branch-clone): same step, another reason
        ++i;                        // "doesn't" -> "doesnt"
      } else if ((b == '.' || b == ',') && numeric && !word_.empty() && i + 1 < n &&
                 isDigit(static_cast<unsigned char>(text[i + 1]))) {
        ++i;  // 1,200.5 is one number
      } else {
        break;
      }
    }
    if (numeric && !ticker) {
      word_hashes_.push_back(hashBytes("0"));  // every number is the same token
      continue;
    }
    word_hashes_.push_back(hashBytes(word_));
    if (chars && word_.size() <= kMaxCharNgramWord) {
      // "<word>" n-grams; the marks let prefixes and suffixes differ from inner n-grams.
      const std::size_t len = word_.size() + 2;
      for (std::size_t g = config_.char_min; g <= config_.char_max && g <= len; ++g) {
        for (std::size_t start = 0; start + g <= len; ++start) {
          std::uint64_t h = kFnvOffset ^ kCharSeed;
          for (std::size_t k = start; k < start + g; ++k) {
            const char ch = k == 0 ? '<' : k == len - 1 ? '>' : word_[k - 1];
            h = (h ^ static_cast<unsigned char>(ch)) * kFnvPrime;
          }
          addHash(h);
        }
      }
    }
  }
  if ((config_.flags & FeatureConfig::kUnigrams) != 0) {
    for (std::uint64_t h : word_hashes_) addHash(h ^ kUnigramSeed);
  }
  if ((config_.flags & FeatureConfig::kBigrams) != 0) {
    std::uint64_t previous = kStartMark;
    for (std::uint64_t h : word_hashes_) {
      addHash(bigramKey(previous, h));
      previous = h;
    }
    if (!word_hashes_.empty()) addHash(bigramKey(previous, kEndMark));
  }
  if ((config_.flags & FeatureConfig::kLexiconPrior) != 0 && !prior_table_.empty()) {
    for (std::size_t w = 0; w < word_hashes_.size(); ++w) {
      for (const float v :
           {priorValence(word_hashes_[w]),
            w > 0 ? priorValence(bigramKey(word_hashes_[w - 1], word_hashes_[w])) : 0.0F}) {
        if (v != 0) addHash(v > 0 ? kPositiveWord : kNegativeWord, std::abs(v) * kPriorScale);
      }
    }
  }
  float sum_sq = 0;
  for (const auto& f : features_) sum_sq += f.value * f.value;
  if (sum_sq > 0) {
    const float norm = 1.0F / std::sqrt(sum_sq);
    for (auto& f : features_) f.value *= norm;
  }
  return features_;
}

std::string encodeModel(const ModelWeights& model) {
  const std::size_t buckets = std::size_t{1} << model.features.log2_buckets;
  if (model.weights.size() != buckets * kHeadlineClasses) {
    throw std::logic_error("encodeModel: weights do not match the bucket count");
  }
  float max_abs = 0;
  for (float w : model.weights) max_abs = std::max(max_abs, std::abs(w));
  const float scale = max_abs > 0 ? max_abs / 32767.0F : 1.0F;
  std::string out;
  out.reserve(kHeaderBytes + model.weights.size() * 2 + 8);
  out.append(kModelMagic);
  put(out, kModelFormatVersion);
  put(out, static_cast<std::uint32_t>(kHeadlineClasses));
  put(out, model.features.log2_buckets);
  put(out, model.features.flags);
  put(out, model.features.char_min);
  put(out, model.features.char_max);
  put(out, model.temperature);
  put(out, scale);
  for (float b : model.bias) put(out, b);
  // Sparse: most buckets are never hit by a training feature and stay exactly zero.
  std::string rows;
  std::uint32_t stored = 0;
  std::size_t previous = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    std::array<std::int16_t, kHeadlineClasses> q{};
    bool zero = true;
    for (std::size_t k = 0; k < kHeadlineClasses; ++k) {
      q[k] =
          static_cast<std::int16_t>(std::lround(model.weights[b * kHeadlineClasses + k] / scale));
      zero = zero && q[k] == 0;
    }
    if (zero) continue;
    for (std::size_t gap = b - previous;; gap >>= 7) {  // LEB128 varint of the bucket gap
      if (gap < 0x80) {
        rows += static_cast<char>(gap);
        break;
      }
      rows += static_cast<char>((gap & 0x7f) | 0x80);
    }
    for (std::int16_t v : q) put(rows, v);
    previous = b;
    ++stored;
  }
  put(out, stored);
  out += rows;
  put(out, static_cast<std::uint32_t>(model.prior.size()));
  for (const PriorEntry& e : model.prior) {
    put(out, e.key);
    put(out, e.valence);
  }
  put(out, fnv1a64(out));
  return out;
}

HeadlineModel HeadlineModel::parse(std::string_view bytes, const std::string& source) {
  Reader in(bytes, source);
  if (bytes.size() < kModelMagic.size() || bytes.substr(0, kModelMagic.size()) != kModelMagic) {
    in.fail("not a cvagent sentiment model (bad magic)");
  }
  in.get<std::uint64_t>();
  const auto version = in.get<std::uint32_t>();
  if (version != kModelFormatVersion) {
    in.fail("format version " + std::to_string(version) + ", this plugin reads version " +
            std::to_string(kModelFormatVersion));
  }
  HeadlineModel m;
  if (in.get<std::uint32_t>() != kHeadlineClasses) in.fail("expected 3 classes");
  m.features_.log2_buckets = in.get<std::uint32_t>();
  m.features_.flags = in.get<std::uint32_t>();
  m.features_.char_min = in.get<std::uint32_t>();
  m.features_.char_max = in.get<std::uint32_t>();
  if (m.features_.log2_buckets < 4 || m.features_.log2_buckets > 24 || m.features_.char_min == 0 ||
      m.features_.char_max < m.features_.char_min || m.features_.char_max > 16) {
    in.fail("corrupt header");
  }
  m.temperature_ = in.get<float>();
  m.scale_ = in.get<float>();
  if (!(m.temperature_ > 0) || !std::isfinite(m.temperature_) || !std::isfinite(m.scale_)) {
    in.fail("corrupt header");
  }
  for (auto& b : m.bias_) b = in.get<float>();
  if (bytes.size() < kHeaderBytes + 4 + 8) in.fail("truncated");
  // Verify the checksum first, so a damaged file is reported as such rather than as a random
  // decoding error.
  std::uint64_t checksum;
  std::memcpy(&checksum, bytes.data() + bytes.size() - 8, 8);
  if (checksum != fnv1a64(bytes.substr(0, bytes.size() - 8))) {
    in.fail("checksum mismatch (truncated or damaged file)");
  }
  const std::size_t buckets = std::size_t{1} << m.features_.log2_buckets;
  m.weights_.assign(buckets * kHeadlineClasses, 0);
  const auto stored = in.get<std::uint32_t>();
  std::size_t bucket = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + kHeaderBytes + 4;
  const auto* end = reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size() - 8;
  for (std::uint32_t r = 0; r < stored; ++r) {
    std::size_t gap = 0;
    for (int shift = 0;; shift += 7) {
      if (p == end || shift > 28) in.fail("corrupt weights");
      gap |= std::size_t{*p & 0x7fU} << shift;
      if ((*p++ & 0x80U) == 0) break;
    }
    bucket += gap;
    if (bucket >= buckets || end - p < static_cast<std::ptrdiff_t>(2 * kHeadlineClasses)) {
      in.fail("corrupt weights");
    }
    std::memcpy(&m.weights_[bucket * kHeadlineClasses], p, 2 * kHeadlineClasses);
    p += 2 * kHeadlineClasses;
  }
  if (end - p < 4) in.fail("corrupt prior lexicon");
  std::uint32_t prior_count;
  std::memcpy(&prior_count, p, 4);
  p += 4;
  constexpr std::size_t kPriorEntryBytes = 12;
  if (static_cast<std::size_t>(end - p) != std::size_t{prior_count} * kPriorEntryBytes) {
    in.fail("corrupt prior lexicon");
  }
  m.prior_.resize(prior_count);
  for (auto& e : m.prior_) {
    std::memcpy(&e.key, p, 8);
    std::memcpy(&e.valence, p + 8, 4);
    p += kPriorEntryBytes;
  }
  if (!std::is_sorted(m.prior_.begin(), m.prior_.end(),
                      [](const PriorEntry& a, const PriorEntry& b) { return a.key < b.key; })) {
    in.fail("corrupt prior lexicon");
  }
  return m;
}

HeadlineModel HeadlineModel::fromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("sentiment model '" + path + "': cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

std::array<double, kHeadlineClasses> HeadlineModel::logits(
    std::span<const Feature> features) const {
  float acc[kHeadlineClasses] = {};
  const std::int16_t* w = weights_.data();
  for (const Feature& f : features) {
    const std::int16_t* row = w + std::size_t{f.bucket} * kHeadlineClasses;
    for (std::size_t k = 0; k < kHeadlineClasses; ++k) acc[k] += f.value * row[k];
  }
  std::array<double, kHeadlineClasses> z{};
  for (std::size_t k = 0; k < kHeadlineClasses; ++k) z[k] = bias_[k] + double{acc[k]} * scale_;
  return z;
}

std::array<double, kHeadlineClasses> softmax(const std::array<double, kHeadlineClasses>& logits,
                                             double temperature) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::array<double, kHeadlineClasses> p{};
  double sum = 0;
  for (std::size_t k = 0; k < kHeadlineClasses; ++k) {
    p[k] = std::exp((logits[k] - top) / temperature);
    sum += p[k];
  }
  for (double& v : p) v /= sum;
  return p;
}

HeadlinePrediction HeadlineModel::predict(std::span<const Feature> features) const {
  HeadlinePrediction out;
  out.probability = softmax(logits(features), temperature_);
  const auto best = std::max_element(out.probability.begin(), out.probability.end());
  out.label = static_cast<HeadlineClass>(best - out.probability.begin());
  return out;
}

}  // namespace cvagent::processors::sentiment

#pragma once
// A learned headline classifier: multinomial logistic regression over hashed word unigrams,
// word bigrams and character n-grams (the hashing trick), scored in plain C++. The weights come
// from a model file written by tools/train_headline_model (format below); the plugin embeds
// data/headline_model.bin at build time and can load another one (`model_file`).
//
// Model file, little-endian:
//   magic "CVSENTM\0" (8 bytes), u32 format version (kModelFormatVersion), u32 classes (3),
//   u32 log2(buckets), u32 feature flags, u32 char n-gram min, u32 char n-gram max,
//   f32 temperature, f32 weight scale, f32 bias[classes],
//   u32 stored rows, then per non-zero bucket in increasing order: LEB128 varint gap from the
//   previous stored bucket, i16 weights[classes] (quantised: weight = q * scale),
//   u32 prior entries, then per entry (increasing key) u64 key, f32 valence,
//   u64 FNV-1a checksum of every byte before it.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cvagent::processors::sentiment {

// Class order of the training data (twitter-financial-news: 0 bearish, 1 bullish, 2 neutral).
enum class HeadlineClass : std::uint8_t { kNegative = 0, kPositive = 1, kNeutral = 2 };
inline constexpr std::size_t kHeadlineClasses = 3;
std::string_view labelOf(HeadlineClass c);  // "negative" / "positive" / "neutral"

inline constexpr std::uint32_t kModelFormatVersion = 1;
inline constexpr std::string_view kModelMagic{"CVSENTM\0", 8};

struct FeatureConfig {
  static constexpr std::uint32_t kUnigrams = 1;
  static constexpr std::uint32_t kBigrams = 2;
  static constexpr std::uint32_t kCharNgrams = 4;
  static constexpr std::uint32_t kLexiconPrior = 8;
  std::uint32_t log2_buckets = 18;
  std::uint32_t flags = kUnigrams | kBigrams | kCharNgrams;
  std::uint32_t char_min = 3;  // character n-grams of each word (with boundary marks), lengths
  std::uint32_t char_max = 5;  // char_min..char_max
};

struct Feature {
  std::uint32_t bucket;
  float value;
};

// A lexicon word or two-word phrase (key: the hash of its words as the extractor sees them)
// and its valence (-4..4): a prior the model weighs. The two lexicon features ("positive word",
// "negative word") are learned from all the training data at once, so they carry to words that
// are rare in it (hack, scam, soars).
struct PriorEntry {
  std::uint64_t key;
  float valence;
};

// Turns a text into hashed features: ASCII-lower-cased words (runs of letters, digits and
// non-ASCII bytes; `$` tickers keep their `$`; URLs dropped; numbers become one token), word
// bigrams including start/end marks, and character n-grams of each word. The vector is
// L2-normalised so long and short texts weigh alike. With kLexiconPrior, each word or two-word
// phrase found in `prior` (sorted by key) adds a "positive word" or "negative word" feature of
// value |valence| / 4. Only the first kMaxTextBytes count (headlines are far shorter; it bounds
// the work and the buffers). Reuses its buffers: one per thread.
class FeatureExtractor {
 public:
  static constexpr std::size_t kMaxTextBytes = 64 * 1024;
  explicit FeatureExtractor(FeatureConfig config, const std::vector<PriorEntry>& prior = {});
  const std::vector<Feature>& extract(std::string_view text);
  const FeatureConfig& config() const { return config_; }
  // The key of a lexicon entry of one or two words; nullopt for other lengths.
  static std::optional<std::uint64_t> priorKey(std::string_view phrase);

 private:
  void addHash(std::uint64_t hash, float value = 1.0F);
  float priorValence(std::uint64_t key) const;
  FeatureConfig config_;
  // Open addressing, linear probing, power-of-two size, at most half full; key 0 marks a free
  // slot (a prior key of 0 is dropped: a 2^-64 chance).
  std::vector<PriorEntry> prior_table_;
  std::string word_;
  std::vector<std::uint64_t> word_hashes_;
  std::vector<Feature> features_;
};

struct HeadlinePrediction {
  HeadlineClass label = HeadlineClass::kNeutral;
  std::array<double, kHeadlineClasses> probability{};  // calibrated (temperature-scaled)
  double confidence() const { return probability[static_cast<std::size_t>(label)]; }
  // P(positive) - P(negative), -1..1: the score that replaces VADER's compound.
  double score() const { return probability[1] - probability[0]; }
};

// Trained weights in the form the trainer produces them (before quantisation).
struct ModelWeights {
  FeatureConfig features;
  float temperature = 1;
  std::array<float, kHeadlineClasses> bias{};
  std::vector<float> weights;     // buckets * classes, bucket-major
  std::vector<PriorEntry> prior;  // sorted by key; used with FeatureConfig::kLexiconPrior
};

// Serialises (quantising weights to int16) and parses the model file format.
std::string encodeModel(const ModelWeights& model);

class HeadlineModel {
 public:
  // Throws std::runtime_error naming `source` when the bytes are not a model of this format:
  // wrong magic, another format version, truncated, or a checksum mismatch.
  static HeadlineModel parse(std::string_view bytes, const std::string& source);
  static HeadlineModel fromFile(const std::string& path);
  // data/headline_model.bin, embedded at build time (defined next to the embedded data, in the
  // plugin's library).
  static HeadlineModel builtin();

  // Logits before temperature scaling (what calibration and training diagnostics need).
  std::array<double, kHeadlineClasses> logits(std::span<const Feature> features) const;
  HeadlinePrediction predict(std::span<const Feature> features) const;
  const FeatureConfig& featureConfig() const { return features_; }
  const std::vector<PriorEntry>& prior() const { return prior_; }
  double temperature() const { return temperature_; }

 private:
  FeatureConfig features_;
  double temperature_ = 1;
  float scale_ = 0;
  std::array<float, kHeadlineClasses> bias_{};
  std::vector<std::int16_t> weights_;
  std::vector<PriorEntry> prior_;
};

// Softmax of logits / temperature.
std::array<double, kHeadlineClasses> softmax(const std::array<double, kHeadlineClasses>& logits,
                                             double temperature);

// A model and its feature extractor: what the processor holds. Not thread-safe.
class HeadlineScorer {
 public:
  explicit HeadlineScorer(HeadlineModel model)
      : model_(std::move(model)), extractor_(model_.featureConfig(), model_.prior()) {}
  HeadlinePrediction score(std::string_view text) {
    return model_.predict(extractor_.extract(text));
  }

 private:
  HeadlineModel model_;
  FeatureExtractor extractor_;
};

std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace cvagent::processors::sentiment

#pragma once
// VADER (Hutto & Gilbert 2014) sentiment scoring, a faithful port of cjhutto/vaderSentiment at
// commit 44fc044 including its quirks (see shared/docs/sentiment.md), plus two opt-in extensions:
// an extension lexicon whose entries may be multi-word phrases ("rug pull"), and normalising curly
// quotes to ASCII before tokenising.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cvagent::processors::sentiment {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, double, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

struct VaderScores {
  double neg = 0;
  double neu = 0;
  double pos = 0;
  double compound = 0;  // -1..1, rounded to 4 decimals like the reference
};

// The word lists VADER works from. Load the built-in ones with VaderLexicons::builtin().
class VaderLexicons {
 public:
  // vader_lexicon.txt format: token<TAB>mean<TAB>... (no comments; later duplicates win).
  void loadLexicon(std::string_view text);
  // token<TAB>valence lines; '#' starts a comment line. Entries override earlier ones; a token
  // with spaces is a phrase matched on consecutive tokens (at most kMaxPhraseWords words).
  // Returns false and sets `error` (with the line number) on a malformed line.
  bool loadExtension(std::string_view text, std::string& error);
  void loadEmoji(std::string_view text);
  void loadBoosters(std::string_view text);
  void loadNegations(std::string_view text);
  void loadSpecialCases(std::string_view text);

  // VADER's own lists, embedded in the plugin at build time.
  static VaderLexicons builtin();
  // The crypto extension lexicon shipped with the plugin (data/crypto_lexicon.tsv).
  static std::string_view builtinCryptoLexicon();

  static constexpr std::size_t kMaxPhraseWords = 4;

 private:
  friend class VaderScorer;
  void finish();

  StringMap lexicon_;
  StringMap boosters_;
  StringSet negations_;
  StringMap special_cases_;
  std::unordered_map<char32_t, std::string> emoji_;
  // First word of each extension phrase -> the phrases (lower-case words), longest first.
  std::unordered_map<std::string, std::vector<std::vector<std::string>>, StringHash,
                     std::equal_to<>>
      phrases_;
  // Words that occur in special cases or multi-word boosters: idiom checks are skipped when none
  // of the window's words is one of them (same result, much less string building).
  StringSet idiom_words_;
};

class VaderScorer {
 public:
  struct Config {
    bool normalize_quotes = false;  // map ‘ ’ “ ” to ' and " before tokenising
  };
  VaderScorer(VaderLexicons lexicons, Config config);
  explicit VaderScorer(VaderLexicons lexicons) : VaderScorer(std::move(lexicons), Config{}) {}

  // Not thread-safe (reuses scratch buffers); one scorer per thread.
  VaderScores score(std::string_view text);

  const VaderLexicons& lexicons() const { return lex_; }

 private:
  struct Token {
    std::string_view text;   // as in the text (punctuation stripped like the reference)
    std::string_view lower;  // ASCII lower-case form used for look-ups
    bool is_upper = false;   // Python str.isupper()
    bool in_lexicon = false;
    bool is_booster = false;
    bool is_negator = false;
    double valence = 0;  // lexicon value when in_lexicon
    double booster = 0;  // booster value when is_booster
  };

  void preprocess(std::string_view text);
  void tokenize();
  void mergePhrases();
  double valenceAt(std::size_t i, bool cap_diff) const;
  double scalarIncDec(const Token& t, double valence, bool cap_diff) const;
  double negationCheck(double valence, int start, std::size_t i) const;
  double idiomsCheck(double valence, std::size_t i) const;
  double leastCheck(double valence, std::size_t i) const;
  static void butCheck(std::vector<double>& sentiments, std::size_t but_index);

  VaderLexicons lex_;
  Config config_;
  std::string text_;   // after emoji replacement and quote normalisation
  std::string lower_;  // text_ with ASCII letters lower-cased (same byte offsets)
  std::vector<Token> tokens_;
  std::vector<std::string> merged_;  // storage for merged phrase look-up keys
  std::vector<double> sentiments_;
};

// README thresholds: positive >= 0.05, negative <= -0.05, else neutral.
std::string_view labelOf(double compound);

}  // namespace cvagent::processors::sentiment

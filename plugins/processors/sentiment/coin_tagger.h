#pragma once
// Finds the coins an article mentions, by ticker and name, with word boundaries.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cvagent::processors::sentiment {

// ticker -> aliases. An alias written entirely in upper case ("SOL", "DOT", "LINK") matches only
// in upper case, so the Spanish "sol", "dot-com" and the word "link" are not coins; any other
// alias matches in any case ("bitcoin", "btc", "Shiba Inu"). A space in an alias matches one
// whitespace character.
using AliasTable = std::map<std::string, std::vector<std::string>>;

AliasTable defaultAliasTable();

class CoinTagger {
 public:
  explicit CoinTagger(const AliasTable& table);

  // Tickers found, sorted and without duplicates. At each word start the longest alias wins, so
  // "Bitcoin Cash" is BCH and not BTC. Boundaries: a word character is an ASCII letter, digit or
  // '_'; anything else (punctuation, spaces, non-ASCII such as ’) separates words.
  std::vector<std::string> tag(std::string_view text) const;
  // Adds the tickers found in `text` to `found` (kept sorted, unique).
  void tagInto(std::string_view text, std::vector<std::string>& found) const;

 private:
  struct Alias {
    std::string text;  // lower-cased unless case_sensitive
    bool case_sensitive = false;
    std::string ticker;
  };
  std::size_t matchAt(std::string_view text, std::size_t pos, const Alias& alias) const;
  // Aliases by lower-cased first byte, longest first.
  std::vector<Alias> by_first_[256];
};

}  // namespace cvagent::processors::sentiment

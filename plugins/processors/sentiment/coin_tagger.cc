#include "coin_tagger.h"

#include <algorithm>

namespace cvagent::processors::sentiment {
namespace {

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool allUpper(std::string_view s) {
  bool letter = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') letter = true;
  }
  return letter;
}

}  // namespace

AliasTable defaultAliasTable() {
  return {
      {"ADA", {"cardano", "ADA"}},
      {"AVAX", {"avalanche", "avax"}},
      {"BCH", {"bitcoin cash", "bch"}},
      {"BNB", {"bnb"}},
      {"BTC", {"bitcoin", "btc", "xbt"}},
      {"DOGE", {"dogecoin", "doge"}},
      {"DOT", {"polkadot", "DOT"}},
      {"ETC", {"ethereum classic", "ETC"}},
      {"ETH", {"ethereum", "ether", "eth"}},
      {"LINK", {"chainlink", "LINK"}},
      {"LTC", {"litecoin", "ltc"}},
      {"POL", {"polygon", "matic", "POL"}},
      {"SHIB", {"shiba inu", "shib"}},
      {"SOL", {"solana", "SOL"}},
      {"USDC", {"usdc"}},
      {"USDT", {"tether", "usdt"}},
      {"XRP", {"xrp", "ripple"}},
  };
}

CoinTagger::CoinTagger(const AliasTable& table) {
  for (const auto& [ticker, aliases] : table) {
    for (const auto& alias : aliases) {
      if (alias.empty()) continue;
      Alias a;
      a.case_sensitive = allUpper(alias);
      a.text = alias;
      if (!a.case_sensitive)
        std::transform(a.text.begin(), a.text.end(), a.text.begin(), lowerAscii);
      a.ticker = ticker;
      by_first_[static_cast<unsigned char>(lowerAscii(alias.front()))].push_back(std::move(a));
    }
  }
  for (auto& list : by_first_) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Alias& x, const Alias& y) { return x.text.size() > y.text.size(); });
  }
}

// Length of text matched by `alias` at `pos` (0 when it does not match there).
std::size_t CoinTagger::matchAt(std::string_view text, std::size_t pos, const Alias& alias) const {
  std::size_t p = pos;
  for (char want : alias.text) {
    if (p >= text.size()) return 0;
    const char got = text[p];
    if (want == ' ') {
      if (!isSpace(got)) return 0;
    } else if (alias.case_sensitive ? got != want : lowerAscii(got) != want) {
      return 0;
    }
    ++p;
  }
  if (p < text.size() && isWordChar(text[p])) return 0;
  return p - pos;
}

void CoinTagger::tagInto(std::string_view text, std::vector<std::string>& found) const {
  std::size_t pos = 0;
  const std::size_t n = text.size();
  while (pos < n) {
    if (!isWordChar(text[pos])) {
      ++pos;
      continue;
    }
    // pos starts a word.
    std::size_t matched = 0;
    const Alias* best = nullptr;
    for (const Alias& a : by_first_[static_cast<unsigned char>(lowerAscii(text[pos]))]) {
      if (a.text.size() <= matched) break;  // longest first: nothing longer follows
      const std::size_t len = matchAt(text, pos, a);
      if (len > matched) {
        matched = len;
        best = &a;
      }
    }
    if (best != nullptr) {
      auto it = std::lower_bound(found.begin(), found.end(), best->ticker);
      if (it == found.end() || *it != best->ticker) found.insert(it, best->ticker);
      pos += matched;
      continue;
    }
    while (pos < n && isWordChar(text[pos])) ++pos;
  }
}

std::vector<std::string> CoinTagger::tag(std::string_view text) const {
  std::vector<std::string> found;
  tagInto(text, found);
  return found;
}

}  // namespace cvagent::processors::sentiment

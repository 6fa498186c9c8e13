#include "vader.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "embedded_data.h"

namespace cvagent::processors::sentiment {
namespace {

constexpr double kCIncr = 0.733;
constexpr double kNScalar = -0.74;
constexpr double kAlpha = 15.0;

// Decodes one UTF-8 code point at text[pos]; advances pos. Invalid bytes decode as U+FFFD, one
// byte at a time, so every byte is consumed exactly once.
char32_t decodeUtf8(std::string_view text, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++pos;
    return 0xFFFD;
  }
  if (pos + static_cast<std::size_t>(len) > text.size()) {
    ++pos;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[pos + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos += static_cast<std::size_t>(len);
  return cp;
}

// Python str.split() separators.
bool isUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool isAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

locale_t utf8Locale() {
  static const locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return loc;
}

// Python str.isupper(): at least one cased character and no lower-case one.
bool isUpperToken(std::string_view token) {
  bool cased = false;
  std::size_t pos = 0;
  while (pos < token.size()) {
    const auto b = static_cast<unsigned char>(token[pos]);
    if (b < 0x80) {
      ++pos;
      if (b >= 'a' && b <= 'z') return false;
      if (b >= 'A' && b <= 'Z') cased = true;
      continue;
    }
    const char32_t cp = decodeUtf8(token, pos);
    const locale_t loc = utf8Locale();
    if (loc == static_cast<locale_t>(nullptr)) continue;
    const auto wc = static_cast<wint_t>(cp);
    if (iswlower_l(wc, loc)) return false;
    if (iswupper_l(wc, loc)) cased = true;
  }
  return cased;
}

std::size_t codePointCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Splits text into lines; calls fn(line) for each non-empty line (CR stripped).
template <typename Fn>
void forEachLine(std::string_view text, Fn&& fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) fn(line);
    start = end + 1;
  }
}

std::string_view trimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// "a\tb\tc" -> {"a", "b"}; false when there is no tab.
bool splitTwo(std::string_view line, std::string_view& first, std::string_view& second) {
  const std::size_t tab = line.find('\t');
  if (tab == std::string_view::npos) return false;
  first = line.substr(0, tab);
  std::string_view rest = line.substr(tab + 1);
  const std::size_t tab2 = rest.find('\t');
  second = tab2 == std::string_view::npos ? rest : rest.substr(0, tab2);
  return true;
}

bool parseNumber(std::string_view s, double& out) {
  const std::string copy(trimAscii(s));
  if (copy.empty()) return false;
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

double roundTo(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

std::string_view labelOf(double compound) {
  if (compound >= 0.05) return "positive";
  if (compound <= -0.05) return "negative";
  return "neutral";
}

void VaderLexicons::loadLexicon(std::string_view text) {
  forEachLine(text, [&](std::string_view line) {
    std::string_view word;
    std::string_view value;
    double v = 0;
    // The reference strips the line before splitting on tabs.
    if (!splitTwo(trimAscii(line), word, value) || !parseNumber(value, v)) return;
    lexicon_.insert_or_assign(std::string(word), v);
  });
  finish();
}

bool VaderLexicons::loadExtension(std::string_view text, std::string& error) {
  std::size_t line_no = 0;
  bool ok = true;
  std::size_t start = 0;
  while (ok && start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    std::string_view line = trimAscii(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    std::string_view word;
    std::string_view value;
    double v = 0;
    if (!splitTwo(line, word, value) || !parseNumber(value, v) || trimAscii(word).empty()) {
      error = "line " + std::to_string(line_no) + ": expected token<TAB>valence, got '" +
              std::string(line.substr(0, 60)) + "'";
      ok = false;
      break;
    }
    // Keys are matched against lower-cased tokens, so store them lower-cased.
    std::string key = asciiLower(trimAscii(word));
    std::vector<std::string> words;
    std::size_t p = 0;
    while (p < key.size()) {
      while (p < key.size() && key[p] == ' ') ++p;
      std::size_t q = key.find(' ', p);
      if (q == std::string::npos) q = key.size();
      if (q > p) words.emplace_back(key.substr(p, q - p));
      p = q;
    }
    if (words.size() > kMaxPhraseWords) {
      error = "line " + std::to_string(line_no) + ": phrase '" + key + "' has more than " +
              std::to_string(kMaxPhraseWords) + " words";
      ok = false;
      break;
    }
    std::string joined;
    for (const auto& w : words) {
      if (!joined.empty()) joined += ' ';
      joined += w;
    }
    if (words.size() > 1) {
      auto& list = phrases_[words.front()];
      list.erase(std::remove(list.begin(), list.end(), words), list.end());
      list.push_back(words);
      std::stable_sort(list.begin(), list.end(),
                       [](const auto& a, const auto& b) { return a.size() > b.size(); });
    }
    lexicon_.insert_or_assign(std::move(joined), v);
    if (end == text.size()) break;
  }
  finish();
  return ok;
}

void VaderLexicons::loadEmoji(std::string_view text) {
  forEachLine(text, [&](std::string_view line) {
    std::string_view emoji;
    std::string_view description;
    if (!splitTwo(trimAscii(line), emoji, description)) return;
    // Only single code points can match: the reference walks the text one code point at a time.
    std::size_t pos = 0;
    if (emoji.empty()) return;
    const char32_t cp = decodeUtf8(emoji, pos);
    if (pos != emoji.size()) return;
    emoji_.insert_or_assign(cp, std::string(description));
  });
}

void VaderLexicons::loadBoosters(std::string_view text) {
  forEachLine(text, [&](std::string_view line) {
    if (line.front() == '#') return;
    std::string_view word;
    std::string_view value;
    double v = 0;
    if (splitTwo(line, word, value) && parseNumber(value, v)) {
      boosters_.insert_or_assign(std::string(word), v);
    }
  });
  finish();
}

void VaderLexicons::loadNegations(std::string_view text) {
  forEachLine(text, [&](std::string_view line) {
    line = trimAscii(line);
    if (!line.empty() && line.front() != '#') negations_.emplace(line);
  });
}

void VaderLexicons::loadSpecialCases(std::string_view text) {
  forEachLine(text, [&](std::string_view line) {
    if (line.front() == '#') return;
    std::string_view phrase;
    std::string_view value;
    double v = 0;
    if (splitTwo(line, phrase, value) && parseNumber(value, v)) {
      special_cases_.insert_or_assign(std::string(phrase), v);
    }
  });
  finish();
}

void VaderLexicons::finish() {
  idiom_words_.clear();
  auto addWords = [&](std::string_view phrase) {
    if (phrase.find(' ') == std::string_view::npos) return;
    std::size_t p = 0;
    while (p < phrase.size()) {
      std::size_t q = phrase.find(' ', p);
      if (q == std::string_view::npos) q = phrase.size();
      if (q > p) idiom_words_.emplace(phrase.substr(p, q - p));
      p = q + 1;
    }
  };
  for (const auto& [k, v] : special_cases_) addWords(k);
  for (const auto& [k, v] : boosters_) addWords(k);
}

VaderScorer::VaderScorer(VaderLexicons lexicons, Config config)
    : lex_(std::move(lexicons)), config_(config) {}

void VaderScorer::preprocess(std::string_view text) {
  text_.clear();
  text_.reserve(text.size() + 16);
  // Emoji -> description, as the reference: a space before the description unless the previous
  // input character was a plain space (or the text starts there); none after it.
  bool prev_space = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      text_ += static_cast<char>(b);
      prev_space = b == ' ';
      ++pos;
      continue;
    }
    const std::size_t start = pos;
    const char32_t cp = decodeUtf8(text, pos);
    if (!lex_.emoji_.empty()) {
      auto it = lex_.emoji_.find(cp);
      if (it != lex_.emoji_.end()) {
        if (!prev_space) text_ += ' ';
        text_ += it->second;
        prev_space = false;
        continue;
      }
    }
    if (config_.normalize_quotes && (cp == 0x2018 || cp == 0x2019)) {
      text_ += '\'';
    } else if (config_.normalize_quotes && (cp == 0x201C || cp == 0x201D)) {
      text_ += '"';
    } else {
      text_.append(text.substr(start, pos - start));
    }
    prev_space = false;
  }
  lower_ = text_;
  for (char& c : lower_) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

void VaderScorer::tokenize() {
  tokens_.clear();
  const std::string_view text = text_;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Skip separators.
    std::size_t next = pos;
    char32_t cp = decodeUtf8(text, next);
    if (isUnicodeSpace(cp)) {
      pos = next;
      continue;
    }
    const std::size_t start = pos;
    std::size_t end = next;
    while (end < text.size()) {
      std::size_t after = end;
      cp = decodeUtf8(text, after);
      if (isUnicodeSpace(cp)) break;
      end = after;
    }
    pos = end;
    // Strip leading/trailing ASCII punctuation unless that leaves 2 code points or fewer.
    std::size_t s = start;
    std::size_t e = end;
    while (s < e && isAsciiPunct(text[s])) ++s;
    while (e > s && isAsciiPunct(text[e - 1])) --e;
    if (codePointCount(text.substr(s, e - s)) <= 2) {
      s = start;
      e = end;
    }
    Token t;
    t.text = text.substr(s, e - s);
    t.lower = std::string_view(lower_).substr(s, e - s);
    tokens_.push_back(t);
  }
}

void VaderScorer::mergePhrases() {
  if (lex_.phrases_.empty()) return;
  merged_.clear();
  merged_.reserve(tokens_.size());  // views into merged_ must stay valid
  std::vector<Token> out;
  out.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    auto it = lex_.phrases_.find(tokens_[i].lower);
    bool merged = false;
    if (it != lex_.phrases_.end()) {
      for (const auto& words : it->second) {
        if (i + words.size() > tokens_.size()) continue;
        bool match = true;
        for (std::size_t k = 1; k < words.size() && match; ++k) {
          match = tokens_[i + k].lower == words[k];
        }
        if (!match) continue;
        std::string key;
        for (const auto& w : words) {
          if (!key.empty()) key += ' ';
          key += w;
        }
        merged_.push_back(std::move(key));
        Token t;
        const Token& last = tokens_[i + words.size() - 1];
        t.text = std::string_view(
            tokens_[i].text.data(),
            static_cast<std::size_t>(last.text.data() + last.text.size() - tokens_[i].text.data()));
        t.lower = merged_.back();
        out.push_back(t);
        i += words.size() - 1;
        merged = true;
        break;
      }
    }
    if (!merged) out.push_back(tokens_[i]);
  }
  tokens_.swap(out);
}

double VaderScorer::scalarIncDec(const Token& t, double valence, bool cap_diff) const {
  double scalar = 0.0;
  if (t.is_booster) {
    scalar = t.booster;
    if (valence < 0) scalar *= -1;
    if (t.is_upper && cap_diff) {
      if (valence > 0) {
        scalar += kCIncr;
      } else {
        scalar -= kCIncr;
      }
    }
  }
  return scalar;
}

double VaderScorer::negationCheck(double valence, int start, std::size_t i) const {
  auto w = [&](std::size_t j) { return tokens_[j].lower; };
  if (start == 0) {
    if (tokens_[i - 1].is_negator) valence *= kNScalar;
  } else if (start == 1) {
    if (w(i - 2) == "never" && (w(i - 1) == "so" || w(i - 1) == "this")) {
      valence *= 1.25;
    } else if (w(i - 2) == "without" && w(i - 1) == "doubt") {
      // unchanged
    } else if (tokens_[i - 2].is_negator) {
      valence *= kNScalar;
    }
  } else {
    // The reference's operator precedence: (never and (so or this)) or (so or this at i-1).
    if ((w(i - 3) == "never" && (w(i - 2) == "so" || w(i - 2) == "this")) ||
        (w(i - 1) == "so" || w(i - 1) == "this")) {
      valence *= 1.25;
    } else if (w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt")) {
      // unchanged
    } else if (tokens_[i - 3].is_negator) {
      valence *= kNScalar;
    }
  }
  return valence;
}

double VaderScorer::idiomsCheck(double valence, std::size_t i) const {
  const std::size_t n = tokens_.size();
  bool relevant = false;
  for (std::size_t j = i - 3; j < std::min(n, i + 3) && !relevant; ++j) {
    relevant = lex_.idiom_words_.count(tokens_[j].lower) > 0;
  }
  if (!relevant) return valence;
  auto join = [&](std::initializer_list<std::size_t> idx) {
    std::string s;
    for (std::size_t j : idx) {
      if (!s.empty()) s += ' ';
      s += tokens_[j].lower;
    }
    return s;
  };
  const std::string onezero = join({i - 1, i});
  const std::string twoonezero = join({i - 2, i - 1, i});
  const std::string twoone = join({i - 2, i - 1});
  const std::string threetwoone = join({i - 3, i - 2, i - 1});
  const std::string threetwo = join({i - 3, i - 2});
  for (const std::string* seq : {&onezero, &twoonezero, &twoone, &threetwoone, &threetwo}) {
    auto it = lex_.special_cases_.find(*seq);
    if (it != lex_.special_cases_.end()) {
      valence = it->second;
      break;
    }
  }
  if (n - 1 > i) {
    auto it = lex_.special_cases_.find(join({i, i + 1}));
    if (it != lex_.special_cases_.end()) valence = it->second;
  }
  if (n - 1 > i + 1) {
    auto it = lex_.special_cases_.find(join({i, i + 1, i + 2}));
    if (it != lex_.special_cases_.end()) valence = it->second;
  }
  for (const std::string* gram : {&threetwoone, &threetwo, &twoone}) {
    auto it = lex_.boosters_.find(*gram);
    if (it != lex_.boosters_.end()) valence += it->second;
  }
  return valence;
}

double VaderScorer::leastCheck(double valence, std::size_t i) const {
  if (i > 1 && !tokens_[i - 1].in_lexicon && tokens_[i - 1].lower == "least") {
    if (tokens_[i - 2].lower != "at" && tokens_[i - 2].lower != "very") valence *= kNScalar;
  } else if (i > 0 && !tokens_[i - 1].in_lexicon && tokens_[i - 1].lower == "least") {
    valence *= kNScalar;
  }
  return valence;
}

double VaderScorer::valenceAt(std::size_t i, bool cap_diff) const {
  const Token& t = tokens_[i];
  const std::size_t n = tokens_.size();
  auto w = [&](std::size_t j) { return tokens_[j].lower; };
  double v = t.valence;
  if (t.lower == "no" && i != n - 1 && tokens_[i + 1].in_lexicon) v = 0.0;
  if ((i > 0 && w(i - 1) == "no") || (i > 1 && w(i - 2) == "no") ||
      (i > 2 && w(i - 3) == "no" && (w(i - 1) == "or" || w(i - 1) == "nor"))) {
    v = t.valence * kNScalar;
  }
  if (t.is_upper && cap_diff) {
    if (v > 0) {
      v += kCIncr;
    } else {
      v -= kCIncr;
    }
  }
  for (int start = 0; start < 3; ++start) {
    const auto dist = static_cast<std::size_t>(start) + 1;
    if (i > static_cast<std::size_t>(start) && !tokens_[i - dist].in_lexicon) {
      double s = scalarIncDec(tokens_[i - dist], v, cap_diff);
      if (start == 1 && s != 0) s *= 0.95;
      if (start == 2 && s != 0) s *= 0.9;
      v += s;
      v = negationCheck(v, start, i);
      if (start == 2) v = idiomsCheck(v, i);
    }
  }
  return leastCheck(v, i);
}

// The reference scales values around the first "but" by looking each value up with
// list.index(value), so an equal earlier (already scaled) value can be scaled again instead.
// Reproduced exactly; positions of current values are indexed so long texts stay O(n log n).
void VaderScorer::butCheck(std::vector<double>& s, std::size_t bi) {
  std::unordered_map<double, std::set<std::size_t>> processed;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const double v = s[k];
    if (v == 0) continue;  // 0 scales to 0 wherever it is found
    std::size_t si = k;
    auto it = processed.find(v);
    if (it != processed.end() && !it->second.empty()) si = *it->second.begin();
    double nv = v;
    if (si < bi) {
      nv = v * 0.5;
    } else if (si > bi) {
      nv = v * 1.5;
    }
    if (si != k) {
      it->second.erase(si);
      s[si] = nv;
      if (nv != 0) processed[nv].insert(si);
      processed[s[k]].insert(k);
    } else {
      s[k] = nv;
      if (nv != 0) processed[nv].insert(k);
    }
  }
}

VaderScores VaderScorer::score(std::string_view text) {
  preprocess(text);
  tokenize();
  mergePhrases();
  std::size_t upper_count = 0;
  for (Token& t : tokens_) {
    t.is_upper = isUpperToken(t.text);
    upper_count += t.is_upper ? 1 : 0;
    if (auto it = lex_.lexicon_.find(t.lower); it != lex_.lexicon_.end()) {
      t.in_lexicon = true;
      t.valence = it->second;
    }
    if (auto it = lex_.boosters_.find(t.lower); it != lex_.boosters_.end()) {
      t.is_booster = true;
      t.booster = it->second;
    }
    t.is_negator = lex_.negations_.count(t.lower) > 0 || t.lower.find("n't") != std::string::npos;
  }
  const std::size_t n = tokens_.size();
  const bool cap_diff = upper_count > 0 && upper_count < n;

  sentiments_.clear();
  sentiments_.reserve(n);
  std::size_t but_index = n;
  for (std::size_t i = 0; i < n; ++i) {
    const Token& t = tokens_[i];
    if (but_index == n && t.lower == "but") but_index = i;
    if (t.is_booster) {
      sentiments_.push_back(0);
      continue;
    }
    if (i < n - 1 && t.lower == "kind" && tokens_[i + 1].lower == "of") {
      sentiments_.push_back(0);
      continue;
    }
    sentiments_.push_back(t.in_lexicon ? valenceAt(i, cap_diff) : 0.0);
  }
  if (but_index < n) butCheck(sentiments_, but_index);

  VaderScores out;
  if (sentiments_.empty()) return out;
  double sum = 0;
  for (double v : sentiments_) sum += v;

  std::size_t ep = 0;
  std::size_t qm = 0;
  for (char c : text_) {
    ep += c == '!' ? 1 : 0;
    qm += c == '?' ? 1 : 0;
  }
  const double ep_amp = static_cast<double>(std::min<std::size_t>(ep, 4)) * 0.292;
  double qm_amp = 0;
  if (qm > 1) qm_amp = qm <= 3 ? static_cast<double>(qm) * 0.18 : 0.96;
  const double amp = ep_amp + qm_amp;
  if (sum > 0) {
    sum += amp;
  } else if (sum < 0) {
    sum -= amp;
  }
  double compound = sum / std::sqrt(sum * sum + kAlpha);
  compound = std::clamp(compound, -1.0, 1.0);

  double pos_sum = 0;
  double neg_sum = 0;
  double neu_count = 0;
  for (double v : sentiments_) {
    if (v > 0) pos_sum += v + 1;
    if (v < 0) neg_sum += v - 1;
    if (v == 0) neu_count += 1;
  }
  if (pos_sum > std::fabs(neg_sum)) {
    pos_sum += amp;
  } else if (pos_sum < std::fabs(neg_sum)) {
    neg_sum -= amp;
  }
  const double total = pos_sum + std::fabs(neg_sum) + neu_count;
  out.pos = roundTo(std::fabs(pos_sum / total), 1e3);
  out.neg = roundTo(std::fabs(neg_sum / total), 1e3);
  out.neu = roundTo(std::fabs(neu_count / total), 1e3);
  out.compound = roundTo(compound, 1e4);
  return out;
}

}  // namespace cvagent::processors::sentiment

namespace cvagent::processors::sentiment {

VaderLexicons VaderLexicons::builtin() {
  VaderLexicons lex;
  lex.loadLexicon(embedded::vader_lexicon_txt());
  lex.loadEmoji(embedded::vader_emoji_utf8_lexicon_txt());
  lex.loadBoosters(embedded::vader_boosters_tsv());
  lex.loadNegations(embedded::vader_negations_txt());
  lex.loadSpecialCases(embedded::vader_special_cases_tsv());
  return lex;
}

std::string_view VaderLexicons::builtinCryptoLexicon() { return embedded::crypto_lexicon_tsv(); }

}  // namespace cvagent::processors::sentiment

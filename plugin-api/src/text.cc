#include "cvagent/text.h"

#include <simdjson.h>

namespace cvagent {

bool isValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

bool globMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {
// Each special character and the letter that stands for it after a backslash.
constexpr std::string_view kTsvSpecials = "\\\t\n\r";
constexpr std::string_view kTsvLetters = "\\tnr";
}  // namespace

void appendTsvEscaped(std::string_view text, std::string& out) {
  while (!text.empty()) {
    const std::size_t special = text.find_first_of(kTsvSpecials);
    out.append(text.substr(0, special));
    if (special == std::string_view::npos) return;
    out += '\\';
    out += kTsvLetters[kTsvSpecials.find(text[special])];
    text.remove_prefix(special + 1);
  }
}

bool unescapeTsv(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    const std::size_t letter = i + 1 < text.size() ? kTsvLetters.find(text[++i]) : kTsvLetters.npos;
    if (letter == std::string_view::npos) return false;
    out += kTsvSpecials[letter];
  }
  return true;
}

}  // namespace cvagent

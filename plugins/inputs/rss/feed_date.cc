#include "feed_date.h"

#include <array>
#include <string>
#include <vector>

#include "cvagent/time_util.h"

namespace cvagent::inputs::rss {
namespace {

constexpr std::int64_t kNs = 1'000'000'000;

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}
// Saturates at 999'999'999 (out of every range checked below) rather than overflowing on a long
// run of digits (found by fuzzing).
int toInt(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (v >= 99'999'999) return 999'999'999;
    v = v * 10 + (c - '0');
  }
  return v;
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int daysInMonth(int y, int m) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

std::optional<std::int64_t> compose(int y, int mo, int d, int h, int mi, int s,
                                    std::int64_t frac_ns, int offset_seconds) {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 ||
      h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    return std::nullopt;
  }
  const std::int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_seconds;
  // Nanoseconds in an int64 end in 2262 (found by fuzzing: a signed overflow).
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, kNs, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    return std::nullopt;
  }
  return ns;
}

// Month from an English/Portuguese/Spanish/German name or abbreviation; 0 when not a month.
int monthOf(std::string_view token) {
  std::string t = lower(token);
  while (!t.empty() && t.back() == '.') t.pop_back();
  if (t.size() < 3) return 0;
  struct Name {
    const char* prefix;
    int month;
  };
  // Matched on the first three letters (full names such as "december" or "sept" too).
  static constexpr Name kNames[] = {
      {"jan", 1},  {"feb", 2},  {"fev", 2},  {"mar", 3},  {"mär", 3},  {"apr", 4},
      {"abr", 4},  {"may", 5},  {"mai", 5},  {"jun", 6},  {"jul", 7},  {"aug", 8},
      {"ago", 8},  {"sep", 9},  {"set", 9},  {"oct", 10}, {"out", 10}, {"okt", 10},
      {"nov", 11}, {"dec", 12}, {"dez", 12}, {"dic", 12}, {"ene", 1},
  };
  for (const auto& n : kNames) {
    const std::string_view p(n.prefix);
    if (t.compare(0, p.size(), p) == 0) {
      // A full word must still be a month name ("outubro" yes; "outage" no).
      if (t.size() > 4 && t.size() != p.size()) {
        static constexpr const char* kFull[] = {
            "january",   "february",   "march",    "april",     "june",      "july",    "august",
            "september", "october",    "november", "december",  "fevereiro", "janeiro", "marco",
            "março",     "abril",      "maio",     "junho",     "julho",     "agosto",  "setembro",
            "outubro",   "novembro",   "dezembro", "enero",     "febrero",   "mayo",    "junio",
            "julio",     "septiembre", "octubre",  "noviembre", "diciembre", "januar",  "februar",
            "märz",      "juni",       "juli",     "oktober",   "dezember",  "sept"};
        bool full = false;
        for (const char* f : kFull) full = full || t == f;
        if (!full) return 0;
      }
      return n.month;
    }
  }
  return 0;
}

std::optional<int> zoneOffset(std::string_view z) {
  if (z.empty()) return std::nullopt;
  if (z[0] == '+' || z[0] == '-') {
    const int sign = z[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : z.substr(1)) {
      if (isDigit(c)) {
        digits += c;
      } else if (c != ':') {
        return std::nullopt;
      }
    }
    int h = 0;
    int m = 0;
    if (digits.size() == 4) {
      h = toInt(std::string_view(digits).substr(0, 2));
      m = toInt(std::string_view(digits).substr(2));
    } else if (digits.size() == 2) {
      h = toInt(digits);
    } else if (digits.size() == 3) {  // "+00:0": a truncated minute field
      h = toInt(std::string_view(digits).substr(0, 2));
      m = toInt(std::string_view(digits).substr(2)) * 10;
    } else {
      return std::nullopt;
    }
    if (h > 23 || m > 59) return std::nullopt;
    return sign * (h * 3600 + m * 60);
  }
  const std::string t = lower(z);
  struct Zone {
    const char* name;
    int hours;
  };
  static constexpr Zone kZones[] = {{"gmt", 0},  {"ut", 0},   {"utc", 0},  {"z", 0},
                                    {"est", -5}, {"edt", -4}, {"cst", -6}, {"cdt", -5},
                                    {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7}};
  for (const auto& zone : kZones) {
    if (t == zone.name) return zone.hours * 3600;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parseIso(std::string_view s) {
  // YYYY-MM-DD
  if (s.size() < 10 || !allDigits(s.substr(0, 4)) || s[4] != '-' || !allDigits(s.substr(5, 2)) ||
      s[7] != '-' || !allDigits(s.substr(8, 2))) {
    return std::nullopt;
  }
  const int y = toInt(s.substr(0, 4));
  const int mo = toInt(s.substr(5, 2));
  const int d = toInt(s.substr(8, 2));
  if (s.size() == 10) return compose(y, mo, d, 0, 0, 0, 0, 0);
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  std::string_view rest = s.substr(11);
  if (rest.size() < 5 || !allDigits(rest.substr(0, 2)) || rest[2] != ':' ||
      !allDigits(rest.substr(3, 2))) {
    return std::nullopt;
  }
  const int h = toInt(rest.substr(0, 2));
  const int mi = toInt(rest.substr(3, 2));
  int sec = 0;
  std::int64_t frac = 0;
  rest.remove_prefix(5);
  if (!rest.empty() && rest[0] == ':') {
    if (rest.size() < 3 || !allDigits(rest.substr(1, 2))) return std::nullopt;
    sec = toInt(rest.substr(1, 2));
    rest.remove_prefix(3);
    if (!rest.empty() && (rest[0] == '.' || rest[0] == ',')) {
      rest.remove_prefix(1);
      std::int64_t scale = 100'000'000;
      std::size_t n = 0;
      while (n < rest.size() && isDigit(rest[n])) {
        if (scale > 0) frac += (rest[n] - '0') * scale;
        scale /= 10;
        ++n;
      }
      if (n == 0) return std::nullopt;
      rest.remove_prefix(n);
    }
  }
  while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  int offset = 0;
  if (!rest.empty()) {
    auto z = zoneOffset(rest);
    if (!z) return std::nullopt;
    offset = *z;
  }
  return compose(y, mo, d, h, mi, sec, frac, offset);
}

// One pass classifying tokens (weekday, day, month, year, time, zone) in whatever order feeds
// write them: one branch per token class.
// NOLINTNEXTLINE(readability-function-cognitive-complexity)
std::optional<std::int64_t> parseWords(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t p = 0;
  while (p < s.size()) {
    while (p < s.size() && (s[p] == ' ' || s[p] == ',' || s[p] == '\t')) ++p;
    std::size_t q = p;
    while (q < s.size() && s[q] != ' ' && s[q] != ',' && s[q] != '\t') ++q;
    if (q > p) tokens.push_back(s.substr(p, q - p));
    p = q;
  }
  std::size_t i = 0;
  // A leading weekday (any language, possibly wrong) is ignored.
  if (i < tokens.size() && !isDigit(tokens[i][0]) && monthOf(tokens[i]) == 0) ++i;
  if (tokens.size() - i < 3) return std::nullopt;
  int d = 0;
  int mo = 0;
  std::string_view year;
  if (allDigits(tokens[i]) && (mo = monthOf(tokens[i + 1])) != 0) {
    d = toInt(tokens[i]);
    year = tokens[i + 2];
  } else if ((mo = monthOf(tokens[i])) != 0 && allDigits(tokens[i + 1])) {
    d = toInt(tokens[i + 1]);
    year = tokens[i + 2];
  } else {
    return std::nullopt;
  }
  if (tokens[i].size() > 2 && allDigits(tokens[i])) return std::nullopt;
  i += 3;
  if (!allDigits(year) || (year.size() != 2 && year.size() != 4)) return std::nullopt;
  int y = toInt(year);
  if (year.size() == 2) y += y < 50 ? 2000 : 1900;
  int h = 0;
  int mi = 0;
  int sec = 0;
  if (i < tokens.size()) {
    std::string_view t = tokens[i];
    if (t.find(':') != std::string_view::npos) {
      // H:MM or HH:MM[:SS]
      const std::size_t c1 = t.find(':');
      const std::size_t c2 = t.find(':', c1 + 1);
      std::string_view hh = t.substr(0, c1);
      std::string_view mm = t.substr(c1 + 1, c2 == std::string_view::npos ? t.npos : c2 - c1 - 1);
      std::string_view ss = c2 == std::string_view::npos ? std::string_view() : t.substr(c2 + 1);
      if (!allDigits(hh) || hh.size() > 2 || !allDigits(mm) || mm.size() != 2 ||
          (c2 != std::string_view::npos && (!allDigits(ss) || ss.size() != 2))) {
        return std::nullopt;
      }
      h = toInt(hh);
      mi = toInt(mm);
      sec = ss.empty() ? 0 : toInt(ss);
      ++i;
    } else if (t.size() == 4 && allDigits(t)) {  // "1500"
      h = toInt(t.substr(0, 2));
      mi = toInt(t.substr(2));
      ++i;
    }
  }
  if (i < tokens.size()) {
    const std::string ampm = lower(tokens[i]);
    if (ampm == "am" || ampm == "pm" || ampm == "a.m." || ampm == "p.m.") {
      if (h < 1 || h > 12) return std::nullopt;
      if (ampm[0] == 'a') {
        h = h == 12 ? 0 : h;
      } else {
        h = h == 12 ? 12 : h + 12;
      }
      ++i;
    }
  }
  int offset = 0;
  if (i < tokens.size()) {
    auto z = zoneOffset(tokens[i]);
    if (!z) return std::nullopt;
    offset = *z;
    ++i;
  }
  if (i != tokens.size()) return std::nullopt;
  return compose(y, mo, d, h, mi, sec, 0, offset);
}

}  // namespace

std::optional<std::int64_t> parseFeedDate(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  if (text.size() >= 10 && isDigit(text[0]) && text[4] == '-') return parseIso(text);
  return parseWords(text);
}

}  // namespace cvagent::inputs::rss

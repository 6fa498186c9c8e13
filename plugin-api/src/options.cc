#include "cvagent/options.h"

#include "cvagent/codec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace cvagent {
namespace detail {

bool parseBool(std::string_view text, bool& out) {
  static constexpr std::pair<std::string_view, bool> kWords[] = {
      {"true", true},   {"True", true},   {"TRUE", true},   {"yes", true}, {"on", true},
      {"false", false}, {"False", false}, {"FALSE", false}, {"no", false}, {"off", false}};
  for (const auto& [word, value] : kWords) {
    if (text == word) {
      out = value;
      return true;
    }
  }
  return false;
}

bool parseInt(std::string_view text, std::int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

bool parseDouble(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() &&
         std::isfinite(out);
}

bool parseDuration(std::string_view text, std::chrono::nanoseconds& out) {
  using namespace std::chrono;
  struct Unit {
    std::string_view suffix;
    double ns;
  };
  // Longest suffixes first so "ms" is not read as "m" followed by garbage.
  static constexpr Unit kUnits[] = {{"ns", 1.0},   {"us", 1e3},    {"µs", 1e3},
                                    {"ms", 1e6},   {"s", 1e9},     {"m", 60e9},
                                    {"h", 3600e9}, {"d", 86400e9}, {"w", 604800e9}};
  if (text == "0") {
    out = nanoseconds(0);
    return true;
  }
  if (text.empty()) return false;
  double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == 0) return false;
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
    if (ec != std::errc() || ptr != text.data() + i) return false;
    text.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.substr(0, u.suffix.size()) == u.suffix &&
          (text.size() == u.suffix.size() ||
           std::isdigit(static_cast<unsigned char>(text[u.suffix.size()])))) {
        unit = &u;
        break;
      }
    }
    if (!unit) return false;
    text.remove_prefix(unit->suffix.size());
    total += value * unit->ns;
  }
  if (total > 9.2e18) return false;
  out = nanoseconds(static_cast<std::int64_t>(std::llround(total)));
  return true;
}

bool parseByteSize(std::string_view text, std::uint64_t& out) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i) return false;
  std::string_view suffix = text.substr(i);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"", 1.0},       {"B", 1.0},         {"KB", 1e3},           {"MB", 1e6}, {"GB", 1e9},
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"k", 1e3}};
  for (const auto& [name, factor] : kUnits) {
    if (suffix == name) {
      const double bytes = value * factor;
      if (bytes > 1.8e19) return false;
      out = static_cast<std::uint64_t>(std::llround(bytes));
      return true;
    }
  }
  return false;
}

std::string formatByteSize(std::uint64_t bytes) {
  if (bytes != 0 && bytes % 1073741824 == 0) return std::to_string(bytes / 1073741824) + "GiB";
  if (bytes != 0 && bytes % 1048576 == 0) return std::to_string(bytes / 1048576) + "MiB";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + "KiB";
  return std::to_string(bytes);
}

std::string formatBound(double v) {
  std::ostringstream s;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    s << static_cast<long long>(v);
  } else {
    s << v;
  }
  return s.str();
}

std::string yamlQuote(std::string_view text) {
  bool plain = !text.empty();
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '/' || c == ':')) {
      plain = false;
      break;
    }
  }
  // Words YAML would read as something other than a string stay quoted.
  bool dummy_b = false;
  double dummy_d = 0;
  if (plain &&
      (parseBool(text, dummy_b) || parseDouble(text, dummy_d) || text == "null" || text == "~" ||
       text.front() == '-' || text.back() == ':' || text.find(": ") != std::string_view::npos)) {
    plain = false;
  }
  if (plain) return std::string(text);
  // YAML's double-quoted scalars read JSON string escapes.
  std::string out;
  codec::appendJsonString(text, out);
  return out;
}

namespace {
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace
}  // namespace detail

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  using detail::editDistance;
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t d = editDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

namespace detail {

void typeError(const ConfigNode& node, const OptionSpec& self, std::string_view expected,
               Diagnostics& diags) {
  std::string got = node.isScalar() ? "'" + node.text() + "'" : std::string("a ") + node.typeName();
  if (self.secret && node.isScalar()) got = "a value";
  diags.push_back({node.mark(),
                   "option '" + self.name + "' expects " + std::string(expected) + ", got " + got});
}

void checkConstraints(const ConfigNode& node, const OptionSpec& self, std::optional<double> number,
                      const std::vector<std::string>& strings, Diagnostics& diags) {
  const auto fmt = formatBound;
  if (number && self.min && *number < *self.min) {
    diags.push_back({node.mark(), "option '" + self.name + "' must be at least " + fmt(*self.min) +
                                      ", got " + node.text()});
  }
  if (number && self.max && *number > *self.max) {
    diags.push_back({node.mark(), "option '" + self.name + "' must be at most " + fmt(*self.max) +
                                      ", got " + node.text()});
  }
  if (!self.one_of.empty()) {
    for (const auto& s : strings) {
      if (std::find(self.one_of.begin(), self.one_of.end(), s) != self.one_of.end()) continue;
      std::string allowed;
      for (const auto& v : self.one_of) allowed += (allowed.empty() ? "" : ", ") + v;
      std::string msg =
          "option '" + self.name + "' must be one of " + allowed + ", got '" + s + "'";
      const std::string hint = didYouMean(s, self.one_of);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      diags.push_back({node.mark(), std::move(msg)});
    }
  }
}

}  // namespace detail

Secret Secret::fromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read secret file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  // Secret files conventionally end with a newline that is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return Secret(std::move(value));
}

bool OptionTraits<Secret>::parse(const ConfigNode& n, Secret& out, const OptionSpec& s,
                                 Diagnostics& d) {
  if (!detail::expectScalar(n, s, "a string", d)) return false;
  static constexpr std::string_view kFilePrefix = "file:";
  if (std::string_view(n.text()).substr(0, kFilePrefix.size()) == kFilePrefix) {
    try {
      out = Secret::fromFile(n.text().substr(kFilePrefix.size()));
    } catch (const std::invalid_argument& e) {
      d.push_back({n.mark(), "option '" + s.name + "': " + e.what()});
      return false;
    }
    return true;
  }
  out = Secret(n.text());
  return true;
}

std::string OptionTraits<double>::render(double v) {
  std::ostringstream s;
  s << v;
  std::string out = s.str();
  return out;
}

const OptionSpec* OptionSchema::find(std::string_view name) const {
  for (const auto& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

std::vector<std::string> OptionSchema::names() const {
  std::vector<std::string> out;
  out.reserve(options_.size());
  for (const auto& o : options_) out.push_back(o.name);
  return out;
}

void OptionSchema::bind(void* target, const ConfigNode& map, std::string_view context,
                        Diagnostics& diags, const std::vector<std::string>& also_known) const {
  if (!map.isMap() && !map.isNull()) {
    diags.push_back({map.mark(), std::string(context) + ": expected a map of options, got a " +
                                     map.typeName()});
    return;
  }
  for (const auto& entry : map.entries()) {
    if (std::find(also_known.begin(), also_known.end(), entry.key) != also_known.end()) continue;
    const OptionSpec* spec = find(entry.key);
    if (!spec) {
      std::vector<std::string> candidates = names();
      candidates.insert(candidates.end(), also_known.begin(), also_known.end());
      std::string msg = "unknown option '" + entry.key + "' in " + std::string(context);
      const std::string hint = detail::didYouMean(entry.key, candidates);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      diags.push_back({entry.key_mark, std::move(msg)});
      continue;
    }
    spec->bind(target, entry.value, *spec, diags);
  }
  for (const auto& spec : options_) {
    if (spec.required && !map.find(spec.name)) {
      diags.push_back(
          {map.mark(), "missing required option '" + spec.name + "' in " + std::string(context)});
    }
  }
  for (const auto& check : checks_) check(target, map.mark(), diags);
}

}  // namespace cvagent

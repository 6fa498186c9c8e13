#include "normalize_processor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "contract/contract.h"
#include "cvagent/time_util.h"

namespace cvagent::processors::normalize {

namespace {

// Assets known without configuration, used to split names without a separator (`SOLUSD`).
const std::vector<std::string>& defaultAssets() {
  static const std::vector<std::string> assets{
      "BTC",   "ETH", "SOL",  "USD",   "USDT",  "USDC", "EUR",  "GBP",   "JPY",  "CAD",
      "CHF",   "AUD", "DOGE", "XRP",   "ADA",   "DOT",  "LINK", "MATIC", "POL",  "LTC",
      "XMR",   "XLM", "ZEC",  "ETC",   "BCH",   "AVAX", "ATOM", "TRX",   "UNI",  "DAI",
      "PYUSD", "XTZ", "ALGO", "FIL",   "NEAR",  "ARB",  "OP",   "SHIB",  "PEPE", "MINA",
      "KSM",   "GRT", "SC",   "WAVES", "OCEAN", "OMG",  "REP",  "MLN"};
  return assets;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool isPlainNumber(std::string_view text) {
  if (text.empty()) return false;
  bool dot = false;
  bool digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

// Nanoseconds per unit, and how many fractional digits of that unit are still whole nanoseconds.
struct Scale {
  std::int64_t ns;
  int digits;
};

bool unitScale(std::string_view unit, double magnitude, Scale& out) {
  if (unit == "auto") {
    if (magnitude < 1e11) {
      unit = "s";
    } else if (magnitude < 1e14) {
      unit = "ms";
    } else if (magnitude < 1e17) {
      unit = "us";
    } else {
      unit = "ns";
    }
  }
  if (unit == "s") {
    out = {1'000'000'000, 9};
  } else if (unit == "ms") {
    out = {1'000'000, 6};
  } else if (unit == "us") {
    out = {1'000, 3};
  } else if (unit == "ns") {
    out = {1, 0};
  } else {
    return false;
  }
  return true;
}

bool scaleInteger(std::int64_t whole, const Scale& scale, std::int64_t& out) {
  if (whole < 0 || whole > std::numeric_limits<std::int64_t>::max() / scale.ns) return false;
  out = whole * scale.ns;
  return true;
}

// "1618678142.557535" in `unit`, exactly (digits past a nanosecond are dropped).
bool parseDecimalTime(std::string_view text, std::string_view unit, std::int64_t& out) {
  const auto dot = text.find('.');
  const std::string_view whole_text = text.substr(0, dot);
  const std::string_view frac_text =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  std::int64_t whole = 0;
  if (!whole_text.empty()) {
    auto [p, ec] = std::from_chars(whole_text.data(), whole_text.data() + whole_text.size(), whole);
    if (ec != std::errc() || p != whole_text.data() + whole_text.size()) return false;
  }
  Scale scale{};
  if (!unitScale(unit, static_cast<double>(whole), scale)) return false;
  if (!scaleInteger(whole, scale, out)) return false;
  std::int64_t frac = 0;
  for (int i = 0; i < scale.digits; ++i) {
    frac = frac * 10 + (static_cast<std::size_t>(i) < frac_text.size()
                            ? frac_text[static_cast<std::size_t>(i)] - '0'
                            : 0);
  }
  if (out > std::numeric_limits<std::int64_t>::max() - frac) return false;
  out += frac;
  return true;
}

}  // namespace

void MappingRule::describe(Schema<MappingRule>& s) {
  s.option("metric", &MappingRule::metric,
           "Metric name this rule applies to; empty: every metric.");
  s.option("rename_tags", &MappingRule::rename_tags, "Tag renames, old name: new name.")
      .example("{symbol: pair}");
  s.option("rename_fields", &MappingRule::rename_fields, "Field renames, old name: new name.")
      .example("{qty: volume}");
  s.option("drop_tags", &MappingRule::drop_tags, "Tags to remove.");
  s.option("drop_fields", &MappingRule::drop_fields, "Fields to remove.");
}

void NormalizeOptions::describe(Schema<NormalizeOptions>& s) {
  s.option("pair_tag", &NormalizeOptions::pair_tag,
           "Tag holding the trading pair; empty: leave pairs alone.");
  s.option("pair_style", &NormalizeOptions::pair_style,
           "Form of the pair names emitted: v2 (`BTC/USD`, `DOGE/USD`, Kraken WS v2) or legacy "
           "(`XBT/USD`, `XDG/USD`, Kraken WS v1, as the existing stack's consumers expect).")
      .oneOf({"v2", "legacy"});
  s.option("pair_aliases", &NormalizeOptions::pair_aliases,
           "Exact pair names mapped to a v2 name, checked first (e.g. `{XBTUSDT: BTC/USDT}`).")
      .example("{XBTUSDT: BTC/USDT}");
  s.option("asset_aliases", &NormalizeOptions::asset_aliases,
           "Asset codes mapped to their v2 code, added to the built-in Kraken table (XBT, XXBT: "
           "BTC; XDG, XXDG: DOGE; XETH: ETH; ZUSD: USD; ZEUR: EUR...).")
      .example("{XTZ2: XTZ}");
  s.option("assets", &NormalizeOptions::assets,
           "Asset codes known besides the built-in list, used to split names without a separator "
           "such as `SOLUSD`.")
      .example("[RENDER, JUP]");
  s.option("numeric_fields", &NormalizeOptions::numeric_fields,
           "String fields converted to double when they hold a number (`\"95863.2\"`, "
           "`\"5.1e-05\"`).");
  s.option("integer_fields", &NormalizeOptions::integer_fields,
           "String fields converted to int64 when they hold an integer.");
  s.option("time_field", &NormalizeOptions::time_field,
           "Field holding the event time, moved into the metric time and removed: RFC 3339 text "
           "or a number (or numeric text) in `time_unit`. Empty: none.")
      .example("timestamp");
  s.option("time_unit", &NormalizeOptions::time_unit,
           "Unit of numeric `time_field` values; auto picks s, ms, us or ns by magnitude.")
      .oneOf({"auto", "s", "ms", "us", "ns"});
  s.option("fix_metric_time", &NormalizeOptions::fix_metric_time,
           "Scale metric times that are clearly seconds, milliseconds or microseconds (below "
           "1e17, i.e. before 1973 as nanoseconds) to nanoseconds.");
  s.option("mappings", &NormalizeOptions::mappings,
           "Renames and drops of tags and fields, applied in order before everything else.");
  // pair_style and time_unit are checked by their oneOf; the processor trusts what it is given.
  s.check([](const NormalizeOptions& o, const SourceMark& where, Diagnostics& d) {
    for (const auto& [from, to] : o.pair_aliases) {
      const auto slash = to.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == to.size() ||
          to.find('/', slash + 1) != std::string::npos) {
        d.push_back(
            {where, "normalize: pair alias `" + from + ": " + to + "` must map to BASE/QUOTE"});
      }
    }
  });
}

namespace detail {

PairNormalizer::PairNormalizer(const NormalizeOptions& options)
    : legacy_(options.pair_style == "legacy") {
  for (const auto& [from, to] : contract::legacyAssetCodes()) asset_aliases_.emplace(from, to);
  for (const auto& [from, to] : options.asset_aliases) asset_aliases_[upper(from)] = upper(to);
  for (const auto& a : defaultAssets()) assets_.insert(a);
  for (const auto& a : options.assets) assets_.insert(upper(a));
  for (const auto& [from, to] : asset_aliases_) assets_.insert(to);
  for (const auto& [from, to] : options.pair_aliases) pair_aliases_.emplace(from, to);
}

std::string PairNormalizer::canonicalAsset(std::string_view code) const {
  auto it = asset_aliases_.find(code);
  return it == asset_aliases_.end() ? std::string(code) : it->second;
}

bool PairNormalizer::isAsset(std::string_view code) const {
  return assets_.contains(code) || asset_aliases_.contains(code);
}

std::string PairNormalizer::styled(std::string_view base, std::string_view quote) const {
  if (legacy_) {
    base = contract::legacyAssetSpelling(base);
    quote = contract::legacyAssetSpelling(quote);
  }
  std::string out;
  out.reserve(base.size() + quote.size() + 1);
  out.append(base).append("/").append(quote);
  return out;
}

PairNormalizer::Result PairNormalizer::compute(std::string_view pair) const {
  if (auto it = pair_aliases_.find(pair); it != pair_aliases_.end()) {
    const auto slash = it->second.find('/');
    const std::string base = canonicalAsset(upper(it->second.substr(0, slash)));
    const std::string quote = canonicalAsset(upper(it->second.substr(slash + 1)));
    return {styled(base, quote), true};
  }
  const std::string text = upper(pair);
  const auto sep = text.find_first_of("/-_");
  if (sep != std::string::npos) {
    if (sep == 0 || sep + 1 == text.size() ||
        text.find_first_of("/-_", sep + 1) != std::string::npos) {
      return {std::string(pair), false};
    }
    return {styled(canonicalAsset(std::string_view(text).substr(0, sep)),
                   canonicalAsset(std::string_view(text).substr(sep + 1))),
            true};
  }
  // No separator (REST keys, altnames): the longest known base whose rest is a known quote.
  for (std::size_t base_len = text.size() - 1; base_len >= 2; --base_len) {
    const std::string_view base = std::string_view(text).substr(0, base_len);
    const std::string_view quote = std::string_view(text).substr(base_len);
    if (quote.size() >= 2 && isAsset(base) && isAsset(quote)) {
      return {styled(canonicalAsset(base), canonicalAsset(quote)), true};
    }
  }
  return {std::string(pair), false};
}

const PairNormalizer::Result& PairNormalizer::resolve(std::string_view pair) {
  if (auto it = cache_.find(pair); it != cache_.end()) return it->second;
  // Garbage pair names must not grow the cache without bound.
  constexpr std::size_t kMaxCached = 4096;
  if (cache_.size() >= kMaxCached) {
    uncached_ = compute(pair);
    return uncached_;
  }
  return cache_.emplace(std::string(pair), compute(pair)).first->second;
}

bool parseEventTime(const FieldValue& value, std::string_view unit, std::int64_t& ns_out) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    if (isPlainNumber(*text)) return parseDecimalTime(*text, unit, ns_out);
    return parseRfc3339(*text, ns_out);
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    Scale scale{};
    return unitScale(unit, static_cast<double>(*i), scale) && scaleInteger(*i, scale, ns_out);
  }
  if (const auto* u = std::get_if<std::uint64_t>(&value)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    const auto v = static_cast<std::int64_t>(*u);
    Scale scale{};
    return unitScale(unit, static_cast<double>(v), scale) && scaleInteger(v, scale, ns_out);
  }
  if (const auto* d = std::get_if<double>(&value)) {
    Scale scale{};
    if (!std::isfinite(*d) || *d < 0 || !unitScale(unit, *d, scale)) return false;
    const double ns = *d * static_cast<double>(scale.ns);
    if (ns >= 9.2e18) return false;
    ns_out = std::llround(ns);
    return true;
  }
  return false;
}

std::int64_t fixMetricTime(std::int64_t time) {
  if (time <= 0 || time >= 100'000'000'000'000'000) return time;
  if (time < 100'000'000'000) return time * 1'000'000'000;
  if (time < 100'000'000'000'000) return time * 1'000'000;
  return time * 1'000;
}

}  // namespace detail

NormalizeProcessor::NormalizeProcessor(const NormalizeOptions& options, PluginContext& context)
    : mappings_(options.mappings),
      numeric_fields_(options.numeric_fields.begin(), options.numeric_fields.end()),
      integer_fields_(options.integer_fields.begin(), options.integer_fields.end()),
      pair_tag_(options.pair_tag),
      time_field_(options.time_field),
      time_unit_(options.time_unit),
      fix_metric_time_(options.fix_metric_time),
      pairs_(options),
      context_(context),
      unknown_pairs_(context.counter("normalize_unknown_pairs_total",
                                     "Metrics whose pair name was not understood; passed on "
                                     "unchanged.")),
      invalid_numbers_(context.counter("normalize_invalid_numbers_total",
                                       "String fields listed as numeric that did not hold a "
                                       "number; left as strings.")),
      invalid_times_(context.counter("normalize_invalid_times_total",
                                     "Time fields that could not be read; the metric time is "
                                     "kept and the field left in place.")) {}

void NormalizeProcessor::process(Metric&& metric, Emitter& out) {
  for (const MappingRule& rule : mappings_) {
    if (rule.metric.empty() || rule.metric == metric.name()) applyMapping(rule, metric);
  }
  convertNumbers(metric);
  normalizeTime(metric);
  normalizePair(metric);
  out.emit(std::move(metric));
}

void NormalizeProcessor::applyMapping(const MappingRule& rule, Metric& metric) {
  for (const auto& [from, to] : rule.rename_tags) {
    if (const std::string* value = metric.tag(from)) {
      std::string copy = *value;
      metric.removeTag(from);
      metric.setTag(to, copy);
    }
  }
  for (const auto& [from, to] : rule.rename_fields) {
    if (FieldValue* value = metric.field(from)) {
      FieldValue moved = std::move(*value);
      metric.removeField(from);
      metric.setField(to, std::move(moved));
    }
  }
  for (const auto& key : rule.drop_tags) metric.removeTag(key);
  for (const auto& key : rule.drop_fields) metric.removeField(key);
}

void NormalizeProcessor::convertNumbers(Metric& metric) {
  for (const Field& f : metric.fields()) {
    const auto* text = std::get_if<std::string>(&f.value);
    if (!text) continue;  // the common case: already typed
    const bool want_double = numeric_fields_.contains(std::string_view(f.key));
    const bool want_integer = !want_double && integer_fields_.contains(std::string_view(f.key));
    if (!want_double && !want_integer) continue;
    const char* begin = text->data();
    const char* end = begin + text->size();
    // Fields are only read through the const view above; write through the mutable accessor.
    FieldValue* slot = metric.field(f.key);
    if (want_double) {
      double value = 0;
      auto [p, ec] = std::from_chars(begin, end, value);
      if (ec == std::errc() && p == end && std::isfinite(value)) {
        *slot = value;
        continue;
      }
    } else {
      std::int64_t value = 0;
      auto [p, ec] = std::from_chars(begin, end, value);
      if (ec == std::errc() && p == end) {
        *slot = value;
        continue;
      }
    }
    invalid_numbers_.inc();
    log_limit_.warn(context_.logger(), "{}: field `{}` = \"{}\" is not {}; left as a string",
                    metric.name(), f.key, *text, want_double ? "a number" : "an integer");
  }
}

void NormalizeProcessor::normalizeTime(Metric& metric) {
  if (!time_field_.empty()) {
    if (const FieldValue* value = metric.field(time_field_)) {
      std::int64_t ns = 0;
      if (detail::parseEventTime(*value, time_unit_, ns)) {
        metric.setTime(ns);
        metric.removeField(time_field_);
        return;
      }
      invalid_times_.inc();
      log_limit_.warn(context_.logger(),
                      "{}: time field `{}` cannot be read as RFC 3339 or a number of {}",
                      metric.name(), time_field_, time_unit_);
    }
  }
  if (fix_metric_time_) metric.setTime(detail::fixMetricTime(metric.time()));
}

void NormalizeProcessor::normalizePair(Metric& metric) {
  if (pair_tag_.empty()) return;
  const std::string* pair = metric.tag(pair_tag_);
  if (!pair) return;
  const detail::PairNormalizer::Result& result = pairs_.resolve(*pair);
  if (!result.known) {
    unknown_pairs_.inc();
    if (reported_unknown_.size() < 1000 && reported_unknown_.insert(*pair).second) {
      context_.logger().warn(
          "pair `{}` not understood; passed on unchanged (add it to pair_aliases or its assets "
          "to assets)",
          *pair);
    }
    return;
  }
  if (result.name != *pair) metric.setTag(pair_tag_, result.name);
}

}  // namespace cvagent::processors::normalize

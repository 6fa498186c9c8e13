#include "contract/kafka_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>

#include "cvagent/codec.h"

namespace cvagent::contract {
namespace {

using namespace std::string_view_literals;
using codec::appendJsonString;
using codec::appendJsonValue;

// The legacy quirks of a shape beyond renamed members (seed-system.md §3).
enum class Legacy : std::uint8_t { kNone, kTicker, kArticle };

// What encoding a kind needs beyond its members, worked out once per kind (index = kind id).
struct ShapeTraits {
  Legacy legacy = Legacy::kNone;
  bool respells_tags = false;  // a tag with a legacy key or values (trade side, article source)
};

const ShapeTraits& traitsOf(const Kind& kind) {
  static const std::vector<ShapeTraits> traits = [] {
    std::vector<ShapeTraits> all;
    for (const Kind& k : kinds()) {
      ShapeTraits t;
      if (k.name == "ticker") t.legacy = Legacy::kTicker;
      if (k.name == "article") t.legacy = Legacy::kArticle;
      for (const Member& m : k.members) {
        t.respells_tags |= m.from == From::kTag && (!m.json.empty() || m.rule == Rule::kSideLetter);
      }
      all.push_back(t);
    }
    return all;
  }();
  const Kind* first = kinds().data();
  if (std::less<const Kind*>()(&kind, first) ||
      !std::less<const Kind*>()(&kind, first + kinds().size())) {
    throw std::invalid_argument("a Kafka shape of a kind that is not one of contract::kinds()");
  }
  return traits[static_cast<std::size_t>(&kind - first)];
}

Legacy legacyOf(const Kind& kind) { return traitsOf(kind).legacy; }

// The tag member of `kind` spelled or valued differently in its shape, or nullptr.
const Member* respelledTag(const Kind& kind, std::string_view key) {
  if (!traitsOf(kind).respells_tags) return nullptr;
  for (const Member& m : kind.members) {
    if (m.from == From::kTag && (!m.json.empty() || m.rule == Rule::kSideLetter) && m.key == key) {
      return &m;
    }
  }
  return nullptr;
}

std::string_view sideLetter(std::string_view side) {
  return side == "buy" ? "b"sv : side == "sell" ? "s"sv : side;
}

// Epoch seconds with microseconds, the legacy `timestamp`: 1795962600.123456. Before 1970 the
// sign comes first and the digits are those of the magnitude: -1500 ns is -0.000002 (microseconds
// rounded down, as ever).
void appendSeconds(std::int64_t ns, std::string& out) {
  std::int64_t us = ns / 1000 - (ns % 1000 < 0 ? 1 : 0);  // floor; no overflow at INT64_MIN
  if (us < 0) {
    out += '-';
    us = -us;
  }
  codec::appendInteger(us / 1'000'000, out);
  std::int64_t frac = us % 1'000'000;
  char digits[7] = {'.'};
  for (int i = 6; i > 0; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
  out.append(digits, sizeof digits);
}

void appendKey(std::string_view key, std::string& out) {
  if (out.back() != '{') out += ',';
  appendJsonString(key, out);
  out += ':';
}

void appendNumberOrNull(const Metric& m, std::string_view field, std::string& out) {
  if (const FieldValue* v = m.field(field)) {
    appendJsonValue(*v, out);
  } else {
    out += "null";
  }
}

// Legacy timestamps are float seconds: exact to the microsecond, no further. nullopt when not
// finite or outside the int64 nanoseconds (1677..2262) a metric's time holds (found by fuzzing).
std::optional<std::int64_t> secondsToNs(double s) {
  const double us = s * 1e6;
  if (!(std::fabs(us) < 9.2e15)) return std::nullopt;
  return std::llround(us) * 1000;
}
std::optional<std::int64_t> millisToNs(double ms) {
  const double ns = ms * 1e6;
  if (!(std::fabs(ns) < 9.2e18)) return std::nullopt;
  return std::llround(ns);
}

// "BTC, ETH" -> ["BTC","ETH"]
void appendCoinList(std::string_view coins, std::string& out) {
  out += '[';
  bool first = true;
  forEachCoin(coins, [&](std::string_view coin) {
    if (!first) out += ',';
    first = false;
    appendJsonString(coin, out);
  });
  out += ']';
}

// rawarticle's nested and duplicated keys, after the flat members.
void appendArticleExtras(const Metric& m, std::string& out) {
  appendKey("content", out);
  out += '{';
  if (const std::string* text = m.stringField("text")) {
    appendKey("text", out);
    appendJsonString(*text, out);
  }
  out += '}';
  appendKey("published_at", out);
  appendSeconds(m.time(), out);
  if (const FieldValue* rt = m.field("receive_time");
      rt && std::holds_alternative<std::int64_t>(*rt)) {
    appendKey("scraped_at", out);
    appendSeconds(std::get<std::int64_t>(*rt), out);
  }
  const std::string* coins = m.stringField("coins");
  const std::string_view coin_list = coins ? std::string_view(*coins) : std::string_view();
  appendKey("cryptocurrencies_mentioned", out);
  appendCoinList(coin_list, out);
  appendKey("tags", out);
  appendCoinList(coin_list, out);
  if (const FieldValue* compound = m.field("sentiment")) {
    appendKey("sentiment_compound", out);
    appendJsonValue(*compound, out);
  }
  if (m.field("sentiment_score") || m.field("sentiment_label")) {
    appendKey("sentiment", out);
    out += '{';
    if (const FieldValue* score = m.field("sentiment_score")) {
      appendKey("score", out);
      appendJsonValue(*score, out);
    }
    if (const FieldValue* label = m.field("sentiment_label")) {
      appendKey("label", out);
      appendJsonValue(*label, out);
    }
    out += '}';
  }
}

bool nestedInArticle(std::string_view key) {
  return key == "text" || key == "sentiment" || key == "sentiment_score" ||
         key == "sentiment_label";
}

}  // namespace

void appendJson(const Metric& m, std::string& out) {
  const Kind* kind = kindOf(m.name());
  if (!kind) {
    codec::appendJson(m, out);
    return;
  }
  const Legacy legacy = legacyOf(*kind);
  out += '{';
  for (const auto& tag : m.tags()) {
    const Member* spelled = respelledTag(*kind, tag.key);
    appendKey(spelled ? spelled->jsonKey() : std::string_view(tag.key), out);
    appendJsonString(spelled && spelled->rule == Rule::kSideLetter ? sideLetter(tag.value)
                                                                   : std::string_view(tag.value),
                     out);
  }
  for (const auto& field : m.fields()) {
    if (legacy == Legacy::kArticle && nestedInArticle(field.key)) continue;  // nested below
    appendKey(field.key, out);
    appendJsonValue(field.value, out);
  }
  if (legacy == Legacy::kTicker) {
    // The legacy consumer reads pct_change; ours is Kraken's 24 h change, not tick-to-tick.
    appendKey("pct_change", out);
    appendNumberOrNull(m, "change_pct", out);
  } else if (legacy == Legacy::kArticle) {
    appendArticleExtras(m, out);
  }
  appendKey("timestamp", out);
  if (kind->legacy_time == LegacyTime::kMilliseconds) {
    codec::appendInteger(m.time() / 1'000'000, out);
  } else {
    appendSeconds(m.time(), out);
  }
  appendKey("time", out);
  codec::appendInteger(m.time(), out);
  out += '}';
}

namespace {

bool toFieldValue(simdjson::dom::element value, FieldValue& out) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::INT64:
      out = std::int64_t(value.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      out = std::uint64_t(value.get_uint64().value_unsafe());
      return true;
    case element_type::DOUBLE:
      out = double(value.get_double().value_unsafe());
      return true;
    case element_type::BOOL:
      out = bool(value.get_bool().value_unsafe());
      return true;
    case element_type::STRING:
      out = std::string(value.get_string().value_unsafe());
      return true;
    default:
      return false;
  }
}

bool toDouble(simdjson::dom::element value, double& out) {
  return !value.get_double().get(out);  // accepts integers too
}

std::string scalarText(simdjson::dom::element value) {
  std::string_view s;
  if (!value.get_string().get(s)) return std::string(s);
  return simdjson::minify(value);
}

// The tag a shape key stands for (its own name or a legacy spelling), or nullptr.
const Member* tagOfKey(const Kind& kind, std::string_view key) {
  for (const Member& m : kind.members) {
    if (m.from == From::kTag && (m.key == key || (!m.json.empty() && m.json == key))) return &m;
  }
  return nullptr;
}

// rawarticle's nested and duplicated keys; true when `key` was one of them.
bool readArticleExtra(std::string_view key, simdjson::dom::element value, Metric& out,
                      std::string& coins_from_list) {
  if (key == "content") {
    simdjson::dom::object content;
    std::string_view text;
    // {"text": ...} or, in the test-report version, a plain string.
    if ((!value.get_object().get(content) && !content["text"].get_string().get(text)) ||
        !value.get_string().get(text)) {
      out.setField("text", std::string(text));
    }
    return true;
  }
  if (key == "scraped_at") {
    double t = 0;
    if (!out.field("receive_time") && toDouble(value, t)) {
      if (const auto ns = secondsToNs(t)) out.setField("receive_time", *ns);
    }
    return true;
  }
  if (key == "sentiment") {
    simdjson::dom::object sentiment;
    if (!value.get_object().get(sentiment)) {
      double score = 0;
      std::string_view label;
      if (!sentiment["score"].get_double().get(score)) out.setField("sentiment_score", score);
      if (!sentiment["label"].get_string().get(label)) {
        out.setField("sentiment_label", std::string(label));
      }
    }
    return true;
  }
  if (key == "sentiment_compound") {
    double compound = 0;
    if (toDouble(value, compound)) out.setField("sentiment", compound);
    return true;
  }
  if (key == "cryptocurrencies_mentioned") {
    simdjson::dom::array list;
    if (!value.get_array().get(list)) {
      for (auto item : list) {
        std::string_view coin;
        if (item.get_string().get(coin)) continue;
        if (!coins_from_list.empty()) coins_from_list += ',';
        coins_from_list += coin;
      }
    }
    return true;
  }
  return key == "tags";  // the same list as cryptocurrencies_mentioned
}

bool parseObject(simdjson::dom::object object, const Kind& kind, std::int64_t default_time_ns,
                 Metric& out, std::string& error) {
  const Legacy legacy = legacyOf(kind);
  out = Metric(std::string(kind.name), 0);
  out.reserveFields(16);
  std::optional<std::int64_t> time_ns;
  std::optional<std::int64_t> timestamp_ns;
  std::string coins_from_list;
  for (auto [key, value] : object) {
    if (const Member* tag = tagOfKey(kind, key)) {
      std::string text = scalarText(value);
      if (tag->rule == Rule::kSideLetter) {
        if (text == "b") text = "buy";
        if (text == "s") text = "sell";
      }
      out.setTag(tag->key, text);
      continue;
    }
    if (key == "time") {
      std::int64_t ns = 0;
      if (value.get_int64().get(ns)) {
        error = "`time` is not an integer number of nanoseconds";
        return false;
      }
      time_ns = ns;
      continue;
    }
    if (key == "timestamp" || (legacy == Legacy::kArticle && key == "published_at")) {
      double t = 0;
      if (value.is_null()) continue;
      if (!toDouble(value, t)) {
        error = fmt::format("`{}` is not a number", key);
        return false;
      }
      const std::optional<std::int64_t> ns =
          kind.legacy_time == LegacyTime::kMilliseconds && key == "timestamp" ? millisToNs(t)
                                                                              : secondsToNs(t);
      if (!ns) {
        error = fmt::format("`{}` is out of range", key);
        return false;
      }
      if (key == "timestamp" || !timestamp_ns) timestamp_ns = *ns;
      continue;
    }
    if (legacy == Legacy::kTicker && key == "pct_change") continue;  // legacy tick-to-tick
    if (legacy == Legacy::kArticle && readArticleExtra(key, value, out, coins_from_list)) continue;
    FieldValue field;
    if (toFieldValue(value, field)) out.setField(key, std::move(field));
    // null, nested objects and lists of other shapes carry nothing of the contract: skipped.
  }
  if (legacy == Legacy::kArticle && !out.field("coins") && !coins_from_list.empty()) {
    out.setField("coins", coins_from_list);
  }
  if (time_ns) {
    out.setTime(*time_ns);
  } else if (timestamp_ns) {
    out.setTime(*timestamp_ns);
  } else if (default_time_ns != 0) {
    out.setTime(default_time_ns);
  } else {
    error = "no `time` or `timestamp`";
    return false;
  }
  return true;
}

}  // namespace

bool parseJson(simdjson::dom::parser& parser, std::string_view json, const Kind& kind, Metric& out,
               std::string& error) {
  simdjson::dom::object object;
  if (auto err = parser.parse(json.data(), json.size()).get_object().get(object)) {
    error = fmt::format("not a JSON object: {}", simdjson::error_message(err));
    return false;
  }
  return parseObject(object, kind, 0, out, error);
}

bool parseValue(simdjson::dom::parser& parser, std::string_view value, std::string_view metric_hint,
                std::int64_t default_time_ns, Metric& out, std::string& error) {
  std::size_t first = value.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    error = "empty message";
    return false;
  }
  if (value[first] != '{') {
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
    return codec::parseLineProtocol(value, out, error, default_time_ns);
  }
  // The generic form names the metric and nests its fields; a Kafka shape is flat.
  simdjson::dom::object object;
  if (auto err = parser.parse(value.data(), value.size()).get_object().get(object)) {
    error = fmt::format("malformed JSON: {}", simdjson::error_message(err));
    return false;
  }
  simdjson::dom::object fields;
  std::string_view name;
  if (!object["fields"].get_object().get(fields) && !object["name"].get_string().get(name)) {
    return codec::parseJson(value, out, error, default_time_ns);
  }
  const Kind* kind = kindOf(metric_hint);
  if (!kind) {
    error = metric_hint.empty()
                ? std::string(
                      "a flat JSON object but no metric kind: no `metric` header and the "
                      "topic is not mapped to a metric")
                : fmt::format("no JSON shape for metric `{}`", metric_hint);
    return false;
  }
  return parseObject(object, *kind, default_time_ns, out, error);
}

}  // namespace cvagent::contract

#include "kafka_shapes.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "cvagent/codec.h"

namespace cvagent::kafka {
namespace {

using namespace std::string_view_literals;

const std::vector<MetricShape>& shapes() {
  static const std::vector<MetricShape> all = {
      {"ticker", "rawticker", {"exchange", "pair"}},
      {"trade", "rawtrade", {"exchange", "pair", "side"}},
      {"article", "rawarticle", {"source"}},
      {"alert", "rawalert", {"pair", "rule", "severity"}},
      {"candle", "ohlc", {"exchange", "pair", "interval"}},
      {"sentiment", "sentiment", {"symbol"}},
      {"prediction", "prediction", {"symbol", "model"}},
  };
  return all;
}

// Epoch seconds with microseconds, the legacy `timestamp`: 1795962600.123456.
void appendSeconds(std::int64_t ns, std::string& out) {
  const std::int64_t us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
  std::int64_t s = us / 1'000'000;
  std::int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --s;
  }
  fmt::format_to(std::back_inserter(out), "{}.{:06}", s, frac);
}

// A JSON string; the common case (nothing to escape) is one append.
void appendString(std::string_view text, std::string& out) {
  for (char c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      codec::appendJsonString(text, out);
      return;
    }
  }
  out += '"';
  out.append(text);
  out += '"';
}

void appendValue(const FieldValue& value, std::string& out) {
  if (const double* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d)) {
      out += "null";
      return;
    }
    // Shortest round-trip form, with a decimal point so it reads back as a double.
    char buf[32];
    const auto end = fmt::format_to(buf, "{}", *d);
    const std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out.append(text);
    if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
  } else if (const std::string* str = std::get_if<std::string>(&value)) {
    appendString(*str, out);
  } else {
    codec::appendJsonValue(value, out);
  }
}

void appendKey(std::string_view key, std::string& out) {
  if (out.back() != '{') out += ',';
  appendString(key, out);
  out += ':';
}

void appendNumberOrNull(const Metric& m, std::string_view field, std::string& out) {
  if (const FieldValue* v = m.field(field)) {
    codec::appendJsonValue(*v, out);
  } else {
    out += "null";
  }
}

// Legacy timestamps are float seconds: exact to the microsecond, no further.
std::int64_t secondsToNs(double s) { return std::llround(s * 1e6) * 1000; }

// "BTC,ETH" -> ["BTC","ETH"]
void appendCoinList(std::string_view coins, std::string& out) {
  out += '[';
  bool first = true;
  while (!coins.empty()) {
    const auto comma = coins.find(',');
    std::string_view coin = coins.substr(0, comma);
    coins = comma == std::string_view::npos ? std::string_view() : coins.substr(comma + 1);
    while (!coin.empty() && coin.front() == ' ') coin.remove_prefix(1);
    while (!coin.empty() && coin.back() == ' ') coin.remove_suffix(1);
    if (coin.empty()) continue;
    if (!first) out += ',';
    first = false;
    appendString(coin, out);
  }
  out += ']';
}

}  // namespace

const MetricShape* shapeOf(std::string_view metric_name) {
  for (const auto& s : shapes()) {
    if (s.metric == metric_name) return &s;
  }
  return nullptr;
}

const std::map<std::string, std::string>& defaultTopics() {
  static const std::map<std::string, std::string> topics = [] {
    std::map<std::string, std::string> m;
    for (const auto& s : shapes()) m.emplace(std::string(s.metric), std::string(s.topic));
    return m;
  }();
  return topics;
}

void appendShapedJson(const Metric& m, std::string& out) {
  const MetricShape* shape = shapeOf(m.name());
  if (!shape) {
    codec::appendJson(m, out);
    return;
  }
  const std::string_view kind = shape->metric;
  out += '{';
  // Tags, with the legacy spellings: trade side b/s, article source as `website`.
  for (const auto& tag : m.tags()) {
    if (kind == "trade" && tag.key == "side") {
      appendKey("side", out);
      appendString(tag.value == "buy"    ? "b"sv
                   : tag.value == "sell" ? "s"sv
                                         : std::string_view(tag.value),
                   out);
    } else if (kind == "article" && tag.key == "source") {
      appendKey("website", out);
      appendString(tag.value, out);
    } else {
      appendKey(tag.key, out);
      appendString(tag.value, out);
    }
  }
  for (const auto& field : m.fields()) {
    if (kind == "article") {
      if (field.key == "text" || field.key == "sentiment" || field.key == "sentiment_score" ||
          field.key == "sentiment_label") {
        continue;  // nested below
      }
    }
    appendKey(field.key, out);
    appendValue(field.value, out);
  }
  if (kind == "ticker") {
    // The legacy consumer reads pct_change; ours is Kraken's 24 h change, not tick-to-tick.
    appendKey("pct_change", out);
    appendNumberOrNull(m, "change_pct", out);
  } else if (kind == "article") {
    appendKey("content", out);
    out += '{';
    if (const std::string* text = m.stringField("text")) {
      appendKey("text", out);
      appendString(*text, out);
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
    appendKey("cryptocurrencies_mentioned", out);
    appendCoinList(coins ? std::string_view(*coins) : std::string_view(), out);
    appendKey("tags", out);
    appendCoinList(coins ? std::string_view(*coins) : std::string_view(), out);
    if (const FieldValue* compound = m.field("sentiment")) {
      appendKey("sentiment_compound", out);
      appendValue(*compound, out);
    }
    if (m.field("sentiment_score") || m.field("sentiment_label")) {
      appendKey("sentiment", out);
      out += '{';
      if (const FieldValue* score = m.field("sentiment_score")) {
        appendKey("score", out);
        appendValue(*score, out);
      }
      if (const FieldValue* label = m.field("sentiment_label")) {
        appendKey("label", out);
        appendValue(*label, out);
      }
      out += '}';
    }
  }
  appendKey("timestamp", out);
  if (kind == "alert") {
    // The alert consumer (Spark schema) reads epoch milliseconds.
    fmt::format_to(std::back_inserter(out), "{}", m.time() / 1'000'000);
  } else {
    appendSeconds(m.time(), out);
  }
  appendKey("time", out);
  fmt::format_to(std::back_inserter(out), "{}", m.time());
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

}  // namespace

namespace {

bool parseShapedObject(simdjson::dom::object object, const MetricShape& shape,
                       std::int64_t default_time_ns, Metric& out, std::string& error) {
  const std::string_view kind = shape.metric;
  out = Metric(std::string(kind), 0);
  out.reserveFields(16);
  std::optional<std::int64_t> time_ns;
  std::optional<std::int64_t> timestamp_ns;
  std::string coins_from_list;
  for (auto [key, value] : object) {
    if (std::find(shape.tags.begin(), shape.tags.end(), key) != shape.tags.end() ||
        (kind == "article" && key == "website")) {
      std::string text = scalarText(value);
      if (kind == "trade" && key == "side") {
        if (text == "b") text = "buy";
        if (text == "s") text = "sell";
      }
      out.setTag(key == "website" ? "source"sv : key, text);
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
    if (key == "timestamp" || (kind == "article" && key == "published_at")) {
      double t = 0;
      if (value.is_null()) continue;
      if (!toDouble(value, t)) {
        error = fmt::format("`{}` is not a number", key);
        return false;
      }
      // Alerts carry epoch milliseconds (the Spark schema), the rest epoch seconds.
      const std::int64_t ns =
          kind == "alert" && key == "timestamp" ? std::llround(t * 1e6) : secondsToNs(t);
      if (key == "timestamp" || !timestamp_ns) timestamp_ns = ns;
      continue;
    }
    if (kind == "ticker" && key == "pct_change") continue;  // legacy tick-to-tick, not ours
    if (kind == "article") {
      if (key == "content") {
        simdjson::dom::object content;
        std::string_view text;
        if (!value.get_object().get(content) && !content["text"].get_string().get(text)) {
          out.setField("text", std::string(text));
        } else if (!value.get_string().get(text)) {
          out.setField("text", std::string(text));  // the test-report version's plain string
        }
        continue;
      }
      if (key == "scraped_at") {
        double t = 0;
        if (!out.field("receive_time") && toDouble(value, t)) {
          out.setField("receive_time", secondsToNs(t));
        }
        continue;
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
        continue;
      }
      if (key == "sentiment_compound") {
        double compound = 0;
        if (toDouble(value, compound)) out.setField("sentiment", compound);
        continue;
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
        continue;
      }
      if (key == "tags") continue;  // the same list as cryptocurrencies_mentioned
    }
    FieldValue field;
    if (toFieldValue(value, field)) {
      out.setField(key, std::move(field));
    }
    // null, nested objects and lists of other shapes carry nothing of the contract: skipped.
  }
  if (kind == "article" && !out.field("coins") && !coins_from_list.empty()) {
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

bool parseShapedJson(simdjson::dom::parser& parser, std::string_view json, const MetricShape& shape,
                     Metric& out, std::string& error) {
  simdjson::dom::object object;
  if (auto err = parser.parse(json.data(), json.size()).get_object().get(object)) {
    error = fmt::format("not a JSON object: {}", simdjson::error_message(err));
    return false;
  }
  return parseShapedObject(object, shape, 0, out, error);
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
  // The generic form names the metric and nests its fields; a topic shape is flat.
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
  const MetricShape* shape = shapeOf(metric_hint);
  if (!shape) {
    error = metric_hint.empty()
                ? std::string(
                      "a flat JSON object but no metric kind: no `metric` header and the "
                      "topic is not mapped to a metric")
                : fmt::format("no JSON shape for metric `{}`", metric_hint);
    return false;
  }
  return parseShapedObject(object, *shape, default_time_ns, out, error);
}

}  // namespace cvagent::kafka

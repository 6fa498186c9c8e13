#include "contract/contract.h"

#include <algorithm>

#include "cvagent/options.h"

namespace cvagent::contract {
namespace {

using T = ColumnType;

constexpr std::string_view kQuote = "quote currency";
constexpr std::string_view kBase = "base currency";
constexpr std::string_view kNs = "ns since epoch";
constexpr std::string_view kDefaultExchange = "kraken";

Member eventTime() { return {From::kTime, "", T::kTime, kNs, "timestamp", Need::kRequired}; }
Member tag(std::string_view key, std::string_view column = {}, Need need = Need::kRequired) {
  return {From::kTag, key, T::kText, "", column.empty() ? key : column, need};
}
Member tagOr(std::string_view key, std::string_view fallback, std::string_view column = {}) {
  Member m = tag(key, column, Need::kDefault);
  m.text_default = fallback;
  return m;
}
Member exchange() { return tagOr("exchange", kDefaultExchange); }
Member field(std::string_view key, ColumnType type, std::string_view unit,
             Need need = Need::kOptional, std::string_view column = {}) {
  return {From::kField, key, type, unit, column.empty() ? key : column, need};
}
Member fieldOr(std::string_view key, ColumnType type, std::string_view unit, double fallback) {
  Member m = field(key, type, unit, Need::kDefault);
  m.number_default = fallback;
  return m;
}
Member receiveTime() { return field("receive_time", T::kTime, kNs); }
Member with(Member m, Rule rule) {
  m.rule = rule;
  return m;
}
Member spelled(Member m, std::string_view json) {
  m.json = json;
  return m;
}

constexpr int kMiB = 1 << 20;

// Designated initializers leave the members they do not name at their defaults; GCC 12 warns about
// that even for members with default initializers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
std::vector<Kind> declare() {
  std::vector<Kind> k;
  k.push_back(
      {.name = "ticker",
       .topic = "rawticker",
       .topic_settings = {6, 7, 512 * kMiB, true},
       .key_tag = "pair",
       .table = "ticker_data",
       .members = {eventTime(), tag("pair"), field("last", T::kDouble, kQuote, Need::kRequired),
                   field("bid", T::kDouble, kQuote), field("ask", T::kDouble, kQuote),
                   field("volume_24h", T::kDouble, kBase), exchange(),
                   field("bid_qty", T::kDouble, kBase), field("ask_qty", T::kDouble, kBase),
                   field("vwap", T::kDouble, kQuote), field("low", T::kDouble, kQuote),
                   field("high", T::kDouble, kQuote), field("change", T::kDouble, kQuote),
                   field("change_pct", T::kDouble, "%"), receiveTime()},
       .table_key = {"pair", "timestamp", "exchange"}});
  k.push_back(
      {.name = "trade",
       .topic = "rawtrade",
       .topic_settings = {6, 3, 512 * kMiB, true},
       .key_tag = "pair",
       .table = "trade_data",
       .members = {eventTime(), tag("pair"), field("price", T::kDouble, kQuote, Need::kRequired),
                   field("volume", T::kDouble, kBase, Need::kRequired),
                   // buy/sell, b/s in the legacy shape and table
                   with(tag("side"), Rule::kSideLetter), exchange(),
                   field("trade_id", T::kInt, "", Need::kRequired), field("ord_type", T::kText, ""),
                   receiveTime()},
       .table_key = {"pair", "timestamp", "exchange", "trade_id"}});
  // A partial (still open) candle never replaces a complete one.
  k.push_back(
      {.name = "candle",
       .topic = "ohlc",
       .topic_settings = {3, 30, 256 * kMiB, false},
       .key_tag = "pair",
       .table = "ohlc_data",
       .members = {eventTime(), exchange(), tag("pair"),
                   tag("interval"),  // intervalLabel()
                   field("open", T::kDouble, kQuote, Need::kRequired),
                   field("high", T::kDouble, kQuote, Need::kRequired),
                   field("low", T::kDouble, kQuote, Need::kRequired),
                   field("close", T::kDouble, kQuote, Need::kRequired),
                   fieldOr("volume", T::kDouble, kBase, 0.0), field("vwap", T::kDouble, kQuote),
                   fieldOr("trades", T::kInt, "", 0), fieldOr("partial", T::kBool, "", 0)},
       .table_key = {"pair", "interval", "timestamp", "exchange"},
       .upsert = true,
       .upsert_guard = "WHERE NOT (EXCLUDED.partial AND NOT ohlc_data.partial)"});
  k.push_back(
      {.name = "book",
       .topic = "book",
       .topic_settings = {6, 3, 512 * kMiB, false, false},
       .key_tag = "pair",
       .table = "book_data",
       .members = {eventTime(), exchange(), tag("pair"), field("best_bid", T::kDouble, kQuote),
                   field("best_bid_qty", T::kDouble, kBase), field("best_ask", T::kDouble, kQuote),
                   field("best_ask_qty", T::kDouble, kBase), field("spread", T::kDouble, kQuote),
                   field("mid", T::kDouble, kQuote), field("checksum", T::kInt, "CRC32"),
                   receiveTime()},
       .table_key = {"pair", "timestamp", "exchange"}});
  k.push_back({.name = "book_level",
               .topic = "book_level",
               .topic_settings = {6, 3, 512 * kMiB, false, false},
               .key_tag = "pair",
               .table = "book_level_data",
               .members = {eventTime(), exchange(), tag("pair"), tag("side"),
                           // a tag, so text; the database refuses anything but an integer
                           [] {
                             Member level = tag("level");
                             level.type = T::kIntText;
                             return level;
                           }(),
                           field("price", T::kDouble, kQuote, Need::kRequired),
                           field("qty", T::kDouble, kBase, Need::kRequired)},
               .table_key = {"pair", "timestamp", "exchange", "side", "level"}});
  k.push_back(
      {.name = "article",
       .topic = "rawarticle",
       .topic_settings = {3, 30, 128 * kMiB, true},
       .key_tag = "source",
       .table = "article_data",
       .members = {eventTime(),
                   with(field("id", T::kText, "", Need::kRequired, "article_id"), Rule::kIdOrUrl),
                   field("title", T::kText, "", Need::kRequired),
                   field("url", T::kText, "", Need::kRequired),
                   spelled(tag("source", "website", Need::kOptional), "website"),
                   field("summary", T::kText, ""),
                   with(field("coins", T::kTextArray, "", Need::kOptional,
                              "cryptocurrencies_mentioned"),
                        Rule::kCoinList),
                   field("sentiment_score", T::kDouble, "0..1"),
                   field("sentiment_label", T::kText, ""), field("text", T::kText, ""),
                   field("sentiment", T::kDouble, "-1..1", Need::kOptional, "sentiment_compound"),
                   receiveTime()},
       .table_key = {"article_id", "timestamp"},
       .upsert = true});
  k.push_back({.name = "alert",
               .topic = "rawalert",
               .topic_settings = {3, 14, 256 * kMiB, true},
               .key_tag = "pair",
               .legacy_time = LegacyTime::kMilliseconds,  // the Spark schema's
               .table = "alert_data",
               .members = {eventTime(), tag("pair"),
                           field("last", T::kDouble, kQuote, Need::kRequired, "last_price"),
                           field("change", T::kDouble, "%", Need::kRequired, "change_percent"),
                           field("threshold", T::kDouble, "%", Need::kRequired),
                           with(field("type", T::kText, "", Need::kOptional, "alert_type"),
                                Rule::kAlertType),
                           tagOr("rule", ""), tag("severity", {}, Need::kOptional),
                           field("message", T::kText, ""), field("resolved", T::kBool, "")},
               .table_key = {"pair", "timestamp", "rule"}});
  // sentiment_score keeps the old 0..1 scale; the -1..1 mean goes to sentiment_compound.
  k.push_back(
      {.name = "sentiment",
       .topic = "sentiment",
       .topic_settings = {3, 30, 128 * kMiB, false},
       .key_tag = "symbol",
       .table = "sentiment_data",
       .members = {eventTime(), tag("symbol", "crypto_symbol"),
                   with(field("score", T::kDouble, "0..1", Need::kRequired, "sentiment_score"),
                        Rule::kUnitScore),
                   field("label", T::kText, "", Need::kRequired, "sentiment_label"),
                   tagOr("source", "aggregated_articles"), field("confidence", T::kDouble, "0..1"),
                   field("score", T::kDouble, "-1..1", Need::kOptional, "sentiment_compound"),
                   field("articles", T::kInt, "", Need::kOptional, "article_count")},
       .table_key = {"crypto_symbol", "timestamp", "source"},
       .upsert = true});
  k.push_back(
      {.name = "prediction",
       .topic = "prediction",
       .topic_settings = {3, 30, 128 * kMiB, false},
       .key_tag = "symbol",
       .table = "prediction_data",
       .members = {eventTime(), tag("symbol", "crypto_symbol"),
                   field("predicted_price", T::kDouble, kQuote, Need::kRequired),
                   field("actual_price", T::kDouble, kQuote), tag("model", "model_name"),
                   field("ci_low", T::kDouble, kQuote, Need::kOptional, "confidence_interval_low"),
                   field("ci_high", T::kDouble, kQuote, Need::kOptional,
                         "confidence_interval_high"),
                   // A tag: processors.forecast emits one series per horizon, and the
                   // horizon is part of the row's key (a field would merge 1m and 5m).
                   tagOr("horizon", "")},
       .table_key = {"crypto_symbol", "timestamp", "model_name", "horizon"},
       .upsert = true});
  for (Kind& kind : k) {
    for (const Member& m : kind.members) {
      if (m.from == From::kTag) kind.tags.push_back(m.key);
    }
  }
  return k;
}
#pragma GCC diagnostic pop

}  // namespace

bool Kind::isTag(std::string_view key) const {
  return std::find(tags.begin(), tags.end(), key) != tags.end();
}

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all = declare();
  return all;
}

const Kind* kindOf(std::string_view metric_name) {
  for (const Kind& kind : kinds()) {
    if (kind.name == metric_name) return &kind;
  }
  return nullptr;
}

std::string kindNames() {
  std::string out;
  for (const Kind& kind : kinds()) {
    if (!out.empty()) out += ", ";
    out += kind.name;
  }
  return out;
}

std::string_view topicOf(const Metric& metric) {
  const Kind* kind = kindOf(metric.name());
  return kind ? kind->topic : std::string_view();
}

const Kind* kindOfTopic(std::string_view topic) {
  const Kind* owner = nullptr;
  for (const Kind& kind : kinds()) {
    if (kind.topic != topic) continue;
    if (owner) return nullptr;
    owner = &kind;
  }
  return owner;
}

const std::string* keyOf(const Metric& metric) {
  const Kind* kind = kindOf(metric.name());
  return kind ? metric.tag(kind->key_tag) : nullptr;
}

const std::map<std::string, std::string>& legacyAssetCodes() {
  static const std::map<std::string, std::string> codes{
      {"XBT", "BTC"},  {"XXBT", "BTC"}, {"XDG", "DOGE"}, {"XXDG", "DOGE"}, {"XETH", "ETH"},
      {"XLTC", "LTC"}, {"XXRP", "XRP"}, {"XXLM", "XLM"}, {"XXMR", "XMR"},  {"XZEC", "ZEC"},
      {"XETC", "ETC"}, {"XREP", "REP"}, {"XMLN", "MLN"}, {"ZUSD", "USD"},  {"ZEUR", "EUR"},
      {"ZGBP", "GBP"}, {"ZJPY", "JPY"}, {"ZCAD", "CAD"}, {"ZAUD", "AUD"},  {"ZCHF", "CHF"}};
  return codes;
}

std::string_view legacyAssetSpelling(std::string_view asset) {
  if (asset == "BTC") return "XBT";
  if (asset == "DOGE") return "XDG";
  return asset;
}

std::string intervalLabel(std::chrono::nanoseconds interval) {
  // The SDK's duration spelling (d, h, m, s...), with weeks first: 10080 minutes is `1w`.
  constexpr std::chrono::nanoseconds kWeek = std::chrono::hours(24 * 7);
  if (interval.count() != 0 && interval % kWeek == std::chrono::nanoseconds::zero()) {
    return std::to_string(interval / kWeek) + "w";
  }
  return formatDuration(interval);
}

std::string cleanCoinList(std::string_view coins) {
  std::string out;
  forEachCoin(coins, [&](std::string_view coin) {
    if (!out.empty()) out += ',';
    out += coin;
  });
  return out;
}

}  // namespace cvagent::contract

#include "tables.h"

#include "cvagent/text.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <variant>

namespace cvagent::outputs::timescale {

// --- RowBuilder -------------------------------------------------------------------------------

void RowBuilder::clear() {
  buffer_.clear();
  offsets_.clear();
}

void RowBuilder::begin(std::int64_t seq) {
  if (offsets_.empty()) offsets_.push_back(buffer_.size());
  row_start_ = buffer_.size();
  if (format_ == RowFormat::kValues) {
    if (rows() > 0) buffer_ += ',';
    buffer_ += '(';
    fmt::format_to(std::back_inserter(buffer_), "{}::int4", seq);
  } else {
    fmt::format_to(std::back_inserter(buffer_), "{}", seq);
  }
  first_column_ = false;
}

void RowBuilder::separator() { buffer_ += format_ == RowFormat::kCopyText ? '\t' : ','; }

void RowBuilder::time(std::int64_t ns) {
  separator();
  fmt::format_to(std::back_inserter(buffer_), "{}", ns);
  if (format_ == RowFormat::kValues) buffer_ += "::int8";
}

void RowBuilder::text(std::string_view value) {
  separator();
  if (format_ == RowFormat::kCopyText) {
    for (char c : value) {
      switch (c) {
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\r':
          buffer_ += "\\r";
          break;
        default:
          buffer_ += c;
      }
    }
  } else {
    // The session runs with standard_conforming_strings = on: only the quote needs doubling.
    buffer_ += '\'';
    for (char c : value) {
      if (c == '\'') buffer_ += '\'';
      buffer_ += c;
    }
    buffer_ += "'::text";
  }
}

void RowBuilder::number(double value) {
  separator();
  const bool quoted = format_ == RowFormat::kValues;
  if (std::isnan(value)) {
    buffer_ += quoted ? "'NaN'::float8" : "NaN";
  } else if (std::isinf(value)) {
    buffer_ += value > 0 ? (quoted ? "'Infinity'::float8" : "Infinity")
                         : (quoted ? "'-Infinity'::float8" : "-Infinity");
  } else {
    fmt::format_to(std::back_inserter(buffer_), "{}", value);
    if (quoted) buffer_ += "::float8";
  }
}

void RowBuilder::integer(std::int64_t value) {
  separator();
  fmt::format_to(std::back_inserter(buffer_), "{}", value);
  if (format_ == RowFormat::kValues) buffer_ += "::int8";
}

void RowBuilder::boolean(bool value) {
  separator();
  if (format_ == RowFormat::kCopyText) {
    buffer_ += value ? 't' : 'f';
  } else {
    buffer_ += value ? "true" : "false";
  }
}

void RowBuilder::null(ColumnKind kind) {
  separator();
  if (format_ == RowFormat::kCopyText) {
    buffer_ += "\\N";
    return;
  }
  switch (kind) {
    case ColumnKind::kTime:
    case ColumnKind::kInt:
      buffer_ += "NULL::int8";
      break;
    case ColumnKind::kText:
    case ColumnKind::kIntText:
    case ColumnKind::kTextArray:
      buffer_ += "NULL::text";
      break;
    case ColumnKind::kDouble:
      buffer_ += "NULL::float8";
      break;
    case ColumnKind::kBool:
      buffer_ += "NULL::bool";
      break;
  }
}

void RowBuilder::end() {
  buffer_ += format_ == RowFormat::kCopyText ? '\n' : ')';
  offsets_.push_back(buffer_.size());
}

void RowBuilder::abandon() {
  buffer_.resize(row_start_);
  if (offsets_.size() == 1) offsets_.clear();
}

bool isStorableText(std::string_view text) {
  // PostgreSQL text holds valid UTF-8 without NUL bytes.
  return text.find('\0') == std::string_view::npos && isValidUtf8(text);
}

namespace {

// Reads a metric column by column into a RowBuilder; the first problem is kept in `error`.
class Filler {
 public:
  Filler(const Metric& metric, RowBuilder& row, std::string& error)
      : m_(metric), row_(row), error_(error) {}

  bool ok() const { return ok_; }

  void eventTime() { row_.time(m_.time()); }

  void requiredTag(std::string_view key) {
    const std::string* v = m_.tag(key);
    if (!v || v->empty()) {
      fail(fmt::format("missing tag '{}'", key));
      row_.null(ColumnKind::kText);
      return;
    }
    text("tag", key, *v);
  }
  void tagOr(std::string_view key, std::string_view fallback) {
    const std::string* v = m_.tag(key);
    text("tag", key, v ? std::string_view(*v) : fallback);
  }
  void optionalTag(std::string_view key) {
    const std::string* v = m_.tag(key);
    if (v) {
      text("tag", key, *v);
    } else {
      row_.null(ColumnKind::kText);
    }
  }

  void requiredNumber(std::string_view key) {
    double v = 0;
    if (!m_.numberField(key, v)) {
      fail(missingField(key, "a number"));
      row_.null(ColumnKind::kDouble);
      return;
    }
    row_.number(v);
  }
  void optionalNumber(std::string_view key) {
    double v = 0;
    if (m_.numberField(key, v)) {
      row_.number(v);
    } else {
      row_.null(ColumnKind::kDouble);
    }
  }
  void numberOr(std::string_view key, double fallback) {
    double v = fallback;
    m_.numberField(key, v);
    row_.number(v);
  }

  std::optional<std::int64_t> integerField(std::string_view key) {
    const FieldValue* v = m_.field(key);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
    if (const auto* u = std::get_if<std::uint64_t>(v)) {
      if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(*u);
      }
      return std::nullopt;
    }
    if (const auto* d = std::get_if<double>(v)) {
      if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) {
        return static_cast<std::int64_t>(*d);
      }
    }
    return std::nullopt;
  }
  void requiredInteger(std::string_view key) {
    auto v = integerField(key);
    if (!v) {
      fail(missingField(key, "an integer"));
      row_.null(ColumnKind::kInt);
      return;
    }
    row_.integer(*v);
  }
  void optionalInteger(std::string_view key) {
    auto v = integerField(key);
    if (v) {
      row_.integer(*v);
    } else {
      row_.null(ColumnKind::kInt);
    }
  }
  void integerOr(std::string_view key, std::int64_t fallback) {
    row_.integer(integerField(key).value_or(fallback));
  }
  // An int64 ns field (receive_time) as a time column.
  void optionalTimeField(std::string_view key) {
    auto v = integerField(key);
    if (v) {
      row_.time(*v);
    } else {
      row_.null(ColumnKind::kTime);
    }
  }

  const std::string* stringField(std::string_view key) const { return m_.stringField(key); }
  void requiredString(std::string_view key) {
    const std::string* v = m_.stringField(key);
    if (!v) {
      fail(missingField(key, "a string"));
      row_.null(ColumnKind::kText);
      return;
    }
    text("field", key, *v);
  }
  void optionalString(std::string_view key) {
    const std::string* v = m_.stringField(key);
    if (v) {
      text("field", key, *v);
    } else {
      row_.null(ColumnKind::kText);
    }
  }
  void stringOr(std::string_view key, std::string_view fallback) {
    const std::string* v = m_.stringField(key);
    text("field", key, v ? std::string_view(*v) : fallback);
  }
  void boolOr(std::string_view key, bool fallback) {
    const FieldValue* v = m_.field(key);
    const bool* b = v ? std::get_if<bool>(v) : nullptr;
    row_.boolean(b ? *b : fallback);
  }

  // Writes `value` as text after checking PostgreSQL can store it.
  void text(std::string_view what, std::string_view key, std::string_view value) {
    if (!isStorableText(value)) {
      fail(fmt::format("{} '{}' is not valid UTF-8 or contains a NUL byte", what, key));
      row_.null(ColumnKind::kText);
      return;
    }
    row_.text(value);
  }

  void fail(std::string message) {
    if (ok_) error_ = std::move(message);
    ok_ = false;
  }

  double number(std::string_view key, double fallback) const {
    double v = fallback;
    m_.numberField(key, v);
    return v;
  }
  bool hasNumber(std::string_view key) const {
    double v = 0;
    return m_.numberField(key, v);
  }
  RowBuilder& row() { return row_; }
  const Metric& metric() const { return m_; }

 private:
  std::string missingField(std::string_view key, std::string_view type) const {
    return m_.field(key) ? fmt::format("field '{}' is not {}", key, type)
                         : fmt::format("missing field '{}'", key);
  }

  const Metric& m_;
  RowBuilder& row_;
  std::string& error_;
  bool ok_ = true;
};

constexpr std::string_view kDefaultExchange = "kraken";

bool fillTicker(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.requiredTag("pair");
  f.requiredNumber("last");
  f.optionalNumber("bid");
  f.optionalNumber("ask");
  f.optionalNumber("volume_24h");
  f.tagOr("exchange", kDefaultExchange);
  f.optionalNumber("bid_qty");
  f.optionalNumber("ask_qty");
  f.optionalNumber("vwap");
  f.optionalNumber("low");
  f.optionalNumber("high");
  f.optionalNumber("change");
  f.optionalNumber("change_pct");
  f.optionalTimeField("receive_time");
  return f.ok();
}

// The existing API reads side as one letter; buy/sell become b/s, anything else is left for the
// table's CHECK constraint to refuse.
bool fillTrade(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.requiredTag("pair");
  f.requiredNumber("price");
  f.requiredNumber("volume");
  const std::string* side = m.tag("side");
  if (!side) {
    f.fail("missing tag 'side'");
    row.null(ColumnKind::kText);
  } else if (*side == "buy") {
    row.text("b");
  } else if (*side == "sell") {
    row.text("s");
  } else {
    f.text("tag", "side", *side);
  }
  f.tagOr("exchange", kDefaultExchange);
  f.requiredInteger("trade_id");
  f.optionalString("ord_type");
  f.optionalTimeField("receive_time");
  return f.ok();
}

bool fillCandle(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.tagOr("exchange", kDefaultExchange);
  f.requiredTag("pair");
  f.requiredTag("interval");
  f.requiredNumber("open");
  f.requiredNumber("high");
  f.requiredNumber("low");
  f.requiredNumber("close");
  f.numberOr("volume", 0.0);
  f.optionalNumber("vwap");
  f.integerOr("trades", 0);
  f.boolOr("partial", false);
  return f.ok();
}

bool fillBook(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.tagOr("exchange", kDefaultExchange);
  f.requiredTag("pair");
  f.optionalNumber("best_bid");
  f.optionalNumber("best_bid_qty");
  f.optionalNumber("best_ask");
  f.optionalNumber("best_ask_qty");
  f.optionalNumber("spread");
  f.optionalNumber("mid");
  f.optionalInteger("checksum");
  f.optionalTimeField("receive_time");
  return f.ok();
}

bool fillBookLevel(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.tagOr("exchange", kDefaultExchange);
  f.requiredTag("pair");
  f.requiredTag("side");
  f.requiredTag("level");  // text, cast to integer by the database (which refuses non-numbers)
  f.requiredNumber("price");
  f.requiredNumber("qty");
  return f.ok();
}

// "BTC, ETH,,SOL" -> "BTC,ETH,SOL"
std::string cleanCoinList(std::string_view coins) {
  std::string out;
  std::size_t start = 0;
  while (start <= coins.size()) {
    std::size_t end = coins.find(',', start);
    if (end == std::string_view::npos) end = coins.size();
    std::string_view item = coins.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
      item.remove_prefix(1);
    }
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      if (!out.empty()) out += ',';
      out += item;
    }
    start = end + 1;
  }
  return out;
}

bool fillArticle(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  // The old producer used the URL as the id; cvagent's inputs set `id`. Either identifies it.
  if (const std::string* id = m.stringField("id"); id && !id->empty()) {
    f.text("field", "id", *id);
  } else if (const std::string* url = m.stringField("url"); url && !url->empty()) {
    f.text("field", "url", *url);
  } else {
    f.fail("missing field 'id' (and no 'url' to use instead)");
    row.null(ColumnKind::kText);
  }
  f.requiredString("title");
  f.requiredString("url");
  f.optionalTag("source");
  f.optionalString("summary");
  if (const std::string* coins = m.stringField("coins")) {
    const std::string cleaned = cleanCoinList(*coins);
    if (cleaned.empty()) {
      row.null(ColumnKind::kTextArray);
    } else {
      f.text("field", "coins", cleaned);
    }
  } else {
    row.null(ColumnKind::kTextArray);
  }
  f.optionalNumber("sentiment_score");
  f.optionalString("sentiment_label");
  f.optionalString("text");
  f.optionalNumber("sentiment");
  f.optionalTimeField("receive_time");
  return f.ok();
}

bool fillAlert(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.requiredTag("pair");
  f.requiredNumber("last");
  f.requiredNumber("change");
  f.requiredNumber("threshold");
  // alert_type keeps the old PRICE_UP / PRICE_DOWN vocabulary: the `type` field upper-cased, or
  // the direction of the change when there is none.
  if (const std::string* type = m.stringField("type"); type && !type->empty()) {
    std::string upper = *type;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    f.text("field", "type", upper);
  } else {
    row.text(f.number("change", 0.0) > 0 ? "PRICE_UP" : "PRICE_DOWN");
  }
  f.tagOr("rule", "");
  f.optionalTag("severity");
  f.optionalString("message");
  return f.ok();
}

// sentiment_score keeps the old 0..1 scale; the -1..1 mean goes to sentiment_compound.
bool fillSentiment(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.requiredTag("symbol");
  if (f.hasNumber("score")) {
    row.number((f.number("score", 0.0) + 1.0) / 2.0);
  } else {
    f.fail("missing field 'score'");
    row.null(ColumnKind::kDouble);
  }
  f.requiredString("label");
  f.tagOr("source", "aggregated_articles");
  f.optionalNumber("confidence");
  f.optionalNumber("score");
  f.optionalInteger("articles");
  return f.ok();
}

bool fillPrediction(const Metric& m, RowBuilder& row, std::string& error) {
  Filler f(m, row, error);
  f.eventTime();
  f.requiredTag("symbol");
  f.requiredNumber("predicted_price");
  f.optionalNumber("actual_price");
  f.requiredTag("model");
  f.optionalNumber("ci_low");
  f.optionalNumber("ci_high");
  f.stringOr("horizon", "");
  return f.ok();
}

using K = ColumnKind;

std::vector<TableSpec> buildTables() {
  std::vector<TableSpec> t;
  t.push_back({"ticker",
               "ticker_data",
               {{"timestamp", K::kTime},
                {"pair", K::kText},
                {"last", K::kDouble},
                {"bid", K::kDouble},
                {"ask", K::kDouble},
                {"volume_24h", K::kDouble},
                {"exchange", K::kText},
                {"bid_qty", K::kDouble},
                {"ask_qty", K::kDouble},
                {"vwap", K::kDouble},
                {"low", K::kDouble},
                {"high", K::kDouble},
                {"change", K::kDouble},
                {"change_pct", K::kDouble},
                {"receive_time", K::kTime}},
               {"pair", "timestamp", "exchange"},
               false,
               {},
               &fillTicker});
  t.push_back({"trade",
               "trade_data",
               {{"timestamp", K::kTime},
                {"pair", K::kText},
                {"price", K::kDouble},
                {"volume", K::kDouble},
                {"side", K::kText},
                {"exchange", K::kText},
                {"trade_id", K::kInt},
                {"ord_type", K::kText},
                {"receive_time", K::kTime}},
               {"pair", "timestamp", "exchange", "trade_id"},
               false,
               {},
               &fillTrade});
  // A partial (still open) candle never replaces a complete one.
  t.push_back({"candle",
               "ohlc_data",
               {{"timestamp", K::kTime},
                {"exchange", K::kText},
                {"pair", K::kText},
                {"interval", K::kText},
                {"open", K::kDouble},
                {"high", K::kDouble},
                {"low", K::kDouble},
                {"close", K::kDouble},
                {"volume", K::kDouble},
                {"vwap", K::kDouble},
                {"trades", K::kInt},
                {"partial", K::kBool}},
               {"pair", "interval", "timestamp", "exchange"},
               true,
               "WHERE NOT (EXCLUDED.partial AND NOT ohlc_data.partial)",
               &fillCandle});
  t.push_back({"book",
               "book_data",
               {{"timestamp", K::kTime},
                {"exchange", K::kText},
                {"pair", K::kText},
                {"best_bid", K::kDouble},
                {"best_bid_qty", K::kDouble},
                {"best_ask", K::kDouble},
                {"best_ask_qty", K::kDouble},
                {"spread", K::kDouble},
                {"mid", K::kDouble},
                {"checksum", K::kInt},
                {"receive_time", K::kTime}},
               {"pair", "timestamp", "exchange"},
               false,
               {},
               &fillBook});
  t.push_back({"book_level",
               "book_level_data",
               {{"timestamp", K::kTime},
                {"exchange", K::kText},
                {"pair", K::kText},
                {"side", K::kText},
                {"level", K::kIntText},
                {"price", K::kDouble},
                {"qty", K::kDouble}},
               {"pair", "timestamp", "exchange", "side", "level"},
               false,
               {},
               &fillBookLevel});
  t.push_back({"article",
               "article_data",
               {{"timestamp", K::kTime},
                {"article_id", K::kText},
                {"title", K::kText},
                {"url", K::kText},
                {"website", K::kText},
                {"summary", K::kText},
                {"cryptocurrencies_mentioned", K::kTextArray},
                {"sentiment_score", K::kDouble},
                {"sentiment_label", K::kText},
                {"text", K::kText},
                {"sentiment_compound", K::kDouble},
                {"receive_time", K::kTime}},
               {"article_id", "timestamp"},
               true,
               {},
               &fillArticle});
  t.push_back({"alert",
               "alert_data",
               {{"timestamp", K::kTime},
                {"pair", K::kText},
                {"last_price", K::kDouble},
                {"change_percent", K::kDouble},
                {"threshold", K::kDouble},
                {"alert_type", K::kText},
                {"rule", K::kText},
                {"severity", K::kText},
                {"message", K::kText}},
               {"pair", "timestamp", "rule"},
               false,
               {},
               &fillAlert});
  t.push_back({"sentiment",
               "sentiment_data",
               {{"timestamp", K::kTime},
                {"crypto_symbol", K::kText},
                {"sentiment_score", K::kDouble},
                {"sentiment_label", K::kText},
                {"source", K::kText},
                {"confidence", K::kDouble},
                {"sentiment_compound", K::kDouble},
                {"article_count", K::kInt}},
               {"crypto_symbol", "timestamp", "source"},
               true,
               {},
               &fillSentiment});
  t.push_back({"prediction",
               "prediction_data",
               {{"timestamp", K::kTime},
                {"crypto_symbol", K::kText},
                {"predicted_price", K::kDouble},
                {"actual_price", K::kDouble},
                {"model_name", K::kText},
                {"confidence_interval_low", K::kDouble},
                {"confidence_interval_high", K::kDouble},
                {"horizon", K::kText}},
               {"crypto_symbol", "timestamp", "model_name", "horizon"},
               true,
               {},
               &fillPrediction});
  return t;
}

const char* stageType(ColumnKind kind) {
  switch (kind) {
    case K::kTime:
    case K::kInt:
      return "int8";
    case K::kText:
    case K::kIntText:
    case K::kTextArray:
      return "text";
    case K::kDouble:
      return "float8";
    case K::kBool:
      return "bool";
  }
  return "text";
}

// The staged value of the source row `s` converted to the table's type. Identifiers are fixed
// names of this file.
std::string selectExpr(const Column& c) {
  switch (c.kind) {
    case K::kTime:
      return fmt::format("TIMESTAMPTZ 'epoch' + (s.{} / 1000) * INTERVAL '1 microsecond'", c.name);
    case K::kTextArray:
      return fmt::format("string_to_array(s.{}, ',')", c.name);
    case K::kIntText:
      return fmt::format("CAST(s.{} AS int4)", c.name);
    default:
      return fmt::format("s.{}", c.name);
  }
}

const Column& column(const TableSpec& spec, std::string_view name) {
  for (const auto& c : spec.columns) {
    if (c.name == name) return c;
  }
  throw std::logic_error("key column not in table spec");
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

struct SelectParts {
  std::string columns;    // "a, b, c"
  std::string converted;  // "<expr> AS a, ..."
};

SelectParts selectParts(const TableSpec& spec) {
  SelectParts p;
  for (const auto& c : spec.columns) {
    if (!p.columns.empty()) {
      p.columns += ", ";
      p.converted += ", ";
    }
    p.columns += c.name;
    p.converted += fmt::format("{} AS {}", selectExpr(c), c.name);
  }
  return p;
}

}  // namespace

const std::vector<TableSpec>& tables() {
  static const std::vector<TableSpec> all = buildTables();
  return all;
}

const TableSpec* tableFor(std::string_view metric_name) {
  for (const auto& spec : tables()) {
    if (spec.metric == metric_name) return &spec;
  }
  return nullptr;
}

std::string knownMetricNames() {
  std::string out;
  for (const auto& spec : tables()) {
    if (!out.empty()) out += ", ";
    out += spec.metric;
  }
  return out;
}

std::string stageTableName(const TableSpec& spec) {
  return fmt::format("cvagent_stage_{}", spec.table);
}

std::string stageTableDdl(const TableSpec& spec) {
  std::string ddl =
      fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} (seq int4 NOT NULL", stageTableName(spec));
  for (const auto& c : spec.columns)
    fmt::format_to(std::back_inserter(ddl), ", {} {}", c.name, stageType(c.kind));
  ddl += ") ON COMMIT DELETE ROWS";
  return ddl;
}

std::string stageSource(const TableSpec& spec) {
  return fmt::format("{} AS s", stageTableName(spec));
}

std::string valuesSource(const TableSpec& spec, std::string_view tuples) {
  std::string out = "(VALUES ";
  out += tuples;
  out += ") AS s(seq";
  for (const auto& c : spec.columns) {
    out += ", ";
    out += c.name;
  }
  out += ')';
  return out;
}

std::string insertSql(const TableSpec& spec, std::string_view source, std::string_view where) {
  const SelectParts p = selectParts(spec);
  const std::string key = joined(spec.key);
  const std::string filter = where.empty() ? std::string() : fmt::format(" WHERE {}", where);
  std::string sql = fmt::format("INSERT INTO {} ({}) ", spec.table, p.columns);
  if (!spec.upsert) {
    fmt::format_to(std::back_inserter(sql), "SELECT {} FROM {}{} ON CONFLICT ({}) DO NOTHING",
                   p.converted, source, filter, key);
    return sql;
  }
  // One row per key, the last of the batch: DO UPDATE may touch a row only once per statement.
  fmt::format_to(std::back_inserter(sql),
                 "SELECT DISTINCT ON ({0}) {1} FROM (SELECT s.seq, {2} FROM {3}{4}) AS u "
                 "ORDER BY {0}, seq DESC ON CONFLICT ({0}) DO UPDATE SET ",
                 key, p.columns, p.converted, source, filter);
  bool first = true;
  for (const auto& c : spec.columns) {
    bool in_key = false;
    for (auto k : spec.key) in_key = in_key || k == c.name;
    if (in_key) continue;
    if (!first) sql += ", ";
    first = false;
    fmt::format_to(std::back_inserter(sql), "{0} = EXCLUDED.{0}", c.name);
  }
  if (!spec.upsert_guard.empty()) {
    sql += ' ';
    sql += spec.upsert_guard;
  }
  return sql;
}

std::string insertAllSql(const TableSpec& spec, std::string_view source) {
  const SelectParts p = selectParts(spec);
  return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", spec.table, p.columns, p.converted,
                     source);
}

std::string insertNewRowsSql(const TableSpec& spec, std::string_view source) {
  const SelectParts p = selectParts(spec);
  std::string match;
  for (auto k : spec.key) {
    if (!match.empty()) match += " AND ";
    fmt::format_to(std::back_inserter(match), "x.{} = {}", k, selectExpr(column(spec, k)));
  }
  // OFFSET 0 keeps the subquery a per-row primary-key probe: without it the planner may turn
  // NOT EXISTS into a hash anti-join that reads the whole table.
  return fmt::format(
      "INSERT INTO {0} ({1}) SELECT {2} FROM {3} WHERE NOT EXISTS (SELECT 1 FROM {0} AS x WHERE "
      "{4} OFFSET 0)",
      spec.table, p.columns, p.converted, source, match);
}

}  // namespace cvagent::outputs::timescale

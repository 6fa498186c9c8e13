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
    appendTsvEscaped(value, buffer_);
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

namespace {

using K = ColumnKind;

std::vector<TableSpec> buildTables() {
  std::vector<TableSpec> tables;
  for (const contract::Kind& kind : contract::kinds()) {
    TableSpec spec{&kind,          kind.name,   kind.table,       {},
                   kind.table_key, kind.upsert, kind.upsert_guard};
    for (const contract::Member& m : kind.members) spec.columns.push_back({m.column, m.type});
    tables.push_back(std::move(spec));
  }
  return tables;
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
  // tables() follows contract::kinds(), index for index.
  const contract::Kind* kind = contract::kindOf(metric_name);
  return kind ? &tables()[static_cast<std::size_t>(kind - contract::kinds().data())] : nullptr;
}

std::string knownMetricNames() { return contract::kindNames(); }

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

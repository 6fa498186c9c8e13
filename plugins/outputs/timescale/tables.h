#pragma once
// The tables of the data contract (plugins/common/contract: each kind's table, columns, key and
// row), rendered for PostgreSQL, and the SQL that stores a batch of rows idempotently. Rows are
// rendered either as COPY text (one line per row) or as SQL VALUES tuples; both feed the same
// INSERT ... SELECT ... ON CONFLICT.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "contract/contract.h"
#include "contract/table_row.h"
#include "cvagent/metric.h"

namespace cvagent::outputs::timescale {

using ColumnKind = contract::ColumnType;

struct Column {
  std::string_view name;
  ColumnKind kind;
};

// How rows are rendered for the database.
enum class RowFormat {
  kCopyText,  // COPY ... FROM STDIN text format: tab-separated, \N for NULL
  kValues,    // "(lit, lit, ...)" tuples for INSERT ... VALUES
};

// Appends rows to a buffer. A row is begun with begin(), filled with one call per column in the
// table's column order, and ended with end(); abandon() drops a row begun by mistake.
class RowBuilder final : public contract::RowSink {
 public:
  explicit RowBuilder(RowFormat format) : format_(format) {}

  void begin(std::int64_t seq);
  void time(std::int64_t ns) override;
  void text(std::string_view value) override;
  void number(double value) override;
  void integer(std::int64_t value) override;
  void boolean(bool value) override;
  void null(ColumnKind kind) override;
  void end();
  void abandon();

  const std::string& buffer() const { return buffer_; }
  // Start offset of each ended row in buffer(), and one past the last.
  const std::vector<std::size_t>& rowOffsets() const { return offsets_; }
  std::size_t rows() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  void clear();

 private:
  void separator();
  RowFormat format_;
  std::string buffer_;
  std::vector<std::size_t> offsets_;
  std::size_t row_start_ = 0;
  bool first_column_ = true;
};

// A kind's table as the output writes it.
struct TableSpec {
  const contract::Kind* kind;
  std::string_view metric;  // "trade"
  std::string_view table;   // "trade_data"
  std::vector<Column> columns;
  std::vector<std::string_view> key;  // the primary key: ON CONFLICT target
  bool upsert = false;                // see contract::Kind::upsert
  std::string_view upsert_guard;      // extra "WHERE ..." of DO UPDATE, or empty

  // Writes one metric's columns into `row`; on bad input returns false with `error` set (the row
  // is then abandoned by the caller).
  bool fill(const Metric& m, RowBuilder& row, std::string& error) const {
    return contract::fillRow(*kind, m, row, error);
  }
};

// Every table the output writes, in a stable order (index = table id).
const std::vector<TableSpec>& tables();
// The table for a metric name, or nullptr.
const TableSpec* tableFor(std::string_view metric_name);
// The metric names that have a table, comma-separated (for error messages).
std::string knownMetricNames();

std::string stageTableName(const TableSpec& spec);
// CREATE TEMP TABLE for the COPY staging table of `spec`.
std::string stageTableDdl(const TableSpec& spec);

// FROM items naming the rows to store as `s` (a `seq` column, then the spec's columns in their
// staged form): the staging table, or rendered kValues tuples.
std::string stageSource(const TableSpec& spec);
std::string valuesSource(const TableSpec& spec, std::string_view tuples);

// INSERT INTO <table> ... SELECT ... FROM <source> [WHERE <where>] ON CONFLICT (<key>) DO NOTHING,
// or DO UPDATE for upsert tables (keeping the last row of each key). Correct whatever else writes
// the table at the same time.
std::string insertSql(const TableSpec& spec, std::string_view source, std::string_view where = {});
// Plain INSERT of every row, no conflict handling: the cheapest, and what succeeds for fresh data.
// Fails with a unique violation (23505) when a key is already stored.
std::string insertAllSql(const TableSpec& spec, std::string_view source);
// For first-copy-wins tables: INSERT of the rows whose key is not stored yet, through a
// primary-key probe per row. Cheaper than ON CONFLICT (no speculative insertion) but not safe
// against a concurrent writer of the same key or a key repeated in the batch: those fail with a
// unique violation (23505), after which the caller uses insertSql.
std::string insertNewRowsSql(const TableSpec& spec, std::string_view source);

using contract::isStorableText;

}  // namespace cvagent::outputs::timescale

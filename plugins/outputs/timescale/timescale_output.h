#pragma once
// outputs.timescale: stores metrics in TimescaleDB (or plain PostgreSQL) tables of the data
// contract, idempotently, through COPY into a staging table and INSERT ... ON CONFLICT.

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conninfo.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"
#include "migrations.h"
#include "tables.h"

namespace cvagent::outputs::timescale {

// One hypertable's policies; unset members keep the table's default (see defaultPolicies()).
struct TablePolicy {
  std::optional<std::chrono::seconds> chunk_interval;
  std::optional<std::chrono::seconds> compress_after;
  std::optional<std::chrono::seconds> retention;

  static void describe(Schema<TablePolicy>& s);
};

struct TimescaleOptions {
  Secret connection;
  std::string connection_file;
  bool create_schema = false;
  std::string timescaledb = "auto";
  // Set, they apply to every table over its default; `policies` then overrides per table.
  std::optional<std::chrono::seconds> retention;
  std::optional<std::chrono::seconds> compress_after;
  std::map<std::string, TablePolicy> policies;
  std::chrono::seconds connect_timeout{10};
  std::chrono::milliseconds statement_timeout{60000};
  std::string method = "copy";

  static void describe(Schema<TimescaleOptions>& s);
};

// The policies a TimescaleDB expert would pick for each table's volume, before options.
const std::vector<TablePolicySetting>& defaultPolicies();
// True for the tables the hourly continuous aggregates read (ticker_data, sentiment_data).
bool isHourlyAggregateSource(std::string_view table);
// Defaults, then `retention` / `compress_after`, then `policies`, per table.
std::vector<TablePolicySetting> effectivePolicies(const TimescaleOptions& options);

class NoticeLogger;

class TimescaleOutput final : public Output {
 public:
  TimescaleOutput(const TimescaleOptions& options, PluginContext& context);
  ~TimescaleOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;
  bool applySchema() override;

  const std::string& redactedConnection() const { return conninfo_.redacted; }

 private:
  struct Staged {
    const TableSpec* spec = nullptr;
    RowBuilder rows{RowFormat::kCopyText};
    std::vector<std::size_t> batch_index;  // seq -> index in the batch
  };

  void openConnection();
  void dropConnection();
  // Stores one table's rows inside `tx`; rows the database refuses are added to `result`.
  void storeTable(pqxx::work& tx, Staged& staged, WriteResult& result);
  void storeRowByRow(pqxx::work& tx, Staged& staged, WriteResult& result);
  void copyRows(pqxx::work& tx, const Staged& staged);
  // Rows older than the continuous aggregates' refresh window are never materialised by the
  // refresh policy: remember their range and refresh it (coalesced, see refreshLateBuckets).
  void noteLateRow(const TableSpec& spec, std::int64_t time_ns);
  void refreshLateBuckets(bool force);

  TimescaleOptions options_;
  PluginContext& context_;
  ConnInfo conninfo_;
  RowFormat format_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<NoticeLogger> notices_;  // registered with connection_; dropped before it
  bool schema_applied_ = false;
  std::uint64_t connections_opened_ = 0;
  std::vector<Staged> staged_;  // one per table, reused across batches
  bool has_timescale_ = false;  // the database has the extension (continuous aggregates)
  struct LateRange {
    std::int64_t min_ns = 0, max_ns = 0;
    bool pending = false;
  };
  std::vector<LateRange> late_;  // per hourly aggregate (kHourlyAggregates)
  std::vector<LateRange> late_in_batch_;
  std::chrono::steady_clock::time_point last_refresh_{};
  LogRateLimiter refresh_errors_;
  Counter& reconnects_;
  Counter& db_rejects_;
  Counter& late_refreshes_;
};

// True for SQLSTATEs that describe one row's data (classes 22 and 23): the batch is retried row by
// row and only the offending rows are rejected. Anything else is about the connection, the schema
// or the server, and the whole batch is kept and retried.
bool isRowDataError(const std::string& sqlstate);

}  // namespace cvagent::outputs::timescale

#pragma once
// outputs.timescale: stores metrics in TimescaleDB (or plain PostgreSQL) tables of the data
// contract, idempotently, through COPY into a staging table and INSERT ... ON CONFLICT.

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
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

struct TimescaleOptions {
  Secret connection;
  std::string connection_file;
  bool create_schema = false;
  std::string timescaledb = "auto";
  std::chrono::seconds retention{std::chrono::hours(24 * 90)};
  std::chrono::seconds compress_after{std::chrono::hours(24 * 7)};
  std::chrono::seconds connect_timeout{10};
  std::chrono::milliseconds statement_timeout{60000};
  std::string method = "copy";

  static void describe(Schema<TimescaleOptions>& s);
};

class NoticeLogger;

class TimescaleOutput final : public Output {
 public:
  TimescaleOutput(const TimescaleOptions& options, PluginContext& context);
  ~TimescaleOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;
  // From the core's watchdog thread: shuts the socket down, so a libpq call blocked on a hung
  // server fails at once; the write answers retry and the next attempt reconnects.
  void cancel() override;
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

  TimescaleOptions options_;
  PluginContext& context_;
  ConnInfo conninfo_;
  RowFormat format_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<NoticeLogger> notices_;  // registered with connection_; dropped before it
  // connection_'s socket for cancel(); -1 before the connection is closed, so cancel() never
  // touches a descriptor number the process has reused.
  std::mutex socket_mu_;
  int socket_ = -1;
  bool schema_applied_ = false;
  std::uint64_t connections_opened_ = 0;
  std::vector<Staged> staged_;  // one per table, reused across batches
  Counter& reconnects_;
  Counter& db_rejects_;
};

// True for SQLSTATEs that describe one row's data (classes 22 and 23): the batch is retried row by
// row and only the offending rows are rejected. Anything else is about the connection, the schema
// or the server, and the whole batch is kept and retried.
bool isRowDataError(const std::string& sqlstate);

}  // namespace cvagent::outputs::timescale

#include "timescale_output.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <pqxx/tablewriter>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "cvagent/time_util.h"

namespace cvagent::outputs::timescale {
namespace {

// libpq messages end with a newline and may carry DETAIL/HINT lines: keep the first line.
std::string firstLine(std::string_view message) {
  std::string_view line = message.substr(0, message.find('\n'));
  constexpr std::string_view kPrefix = "ERROR:  ";
  if (line.substr(0, kPrefix.size()) == kPrefix) line.remove_prefix(kPrefix.size());
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  return std::string(line);
}

// Errors that end the session: connection exceptions (08) and operator intervention (57:
// shutdown, cancel, statement timeout).
bool endsSession(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57", 0) == 0;
}

std::string resolveConnection(const TimescaleOptions& options) {
  if (options.connection_file.empty()) return options.connection.reveal();
  try {
    return Secret::fromFile(options.connection_file).reveal();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("connection_file: ") + e.what());
  }
}

using std::chrono::hours;
constexpr hours kDay{24};

// The continuous aggregates of 0003 and the tables they read. Their refresh policy covers
// [now - kRefreshWindow, now - 1h]; older rows are only materialised by an explicit refresh.
struct HourlyAggregate {
  std::string_view source_table;
  std::string_view view;
};
constexpr HourlyAggregate kHourlyAggregates[] = {{"ticker_data", "ticker_ohlc_hourly"},
                                                 {"sentiment_data", "sentiment_hourly"}};
constexpr std::int64_t kRefreshWindowNs = 3 * 24 * 3'600'000'000'000LL;
// The policy runs every 30 minutes: rows within an hour of the window's start may be passed by it.
constexpr std::int64_t kRefreshMarginNs = 3'600'000'000'000LL;
constexpr std::int64_t kHourNs = 3'600'000'000'000LL;
// A backfill writes many batches of late rows: refresh their range at most this often.
constexpr auto kLateRefreshEvery = std::chrono::seconds(10);

std::int64_t floorToHour(std::int64_t ns) {
  const std::int64_t r = ns % kHourNs;
  return r < 0 ? ns - r - kHourNs : ns - r;
}

}  // namespace

bool isHourlyAggregateSource(std::string_view table) {
  for (const auto& a : kHourlyAggregates) {
    if (a.source_table == table) return true;
  }
  return false;
}

// Chunk intervals keep a chunk's indexes in memory at the table's write rate; compression waits
// until a chunk is closed and past the usual late data (compressed chunks still accept upserts,
// at a cost); retention is short for the bulky order-book levels, long for the small derived and
// news tables, none for candles (the long-term history). Chunks are dropped whole, so a table
// keeps up to retention + one chunk interval.
const std::vector<TablePolicySetting>& defaultPolicies() {
  static const std::vector<TablePolicySetting> all = {
      {"ticker_data", kDay, 2 * kDay, 90 * kDay},
      {"trade_data", kDay, 2 * kDay, 90 * kDay},
      {"book_data", kDay, kDay, 30 * kDay},
      {"book_level_data", hours(6), hours(12), 7 * kDay},
      {"ohlc_data", 7 * kDay, 14 * kDay, std::chrono::seconds(0)},
      {"alert_data", 30 * kDay, 60 * kDay, 365 * kDay},
      {"sentiment_data", 30 * kDay, 60 * kDay, 365 * kDay},
      {"prediction_data", 7 * kDay, 14 * kDay, 90 * kDay},
      {"article_data", 7 * kDay, 30 * kDay, 365 * kDay},
  };
  return all;
}

std::vector<TablePolicySetting> effectivePolicies(const TimescaleOptions& options) {
  std::vector<TablePolicySetting> out = defaultPolicies();
  for (auto& p : out) {
    if (options.retention) p.retention = *options.retention;
    if (options.compress_after) p.compress_after = *options.compress_after;
    if (auto it = options.policies.find(p.table); it != options.policies.end()) {
      if (it->second.chunk_interval) p.chunk_interval = *it->second.chunk_interval;
      if (it->second.compress_after) p.compress_after = *it->second.compress_after;
      if (it->second.retention) p.retention = *it->second.retention;
    }
  }
  return out;
}

void TablePolicy::describe(Schema<TablePolicy>& s) {
  s.option("chunk_interval", &TablePolicy::chunk_interval,
           "Time range of one chunk (applies to chunks created from now on).");
  s.option("compress_after", &TablePolicy::compress_after,
           "Compress (columnstore) chunks whose range ended longer ago than this; 0: never.")
      .min(0);
  s.option("retention", &TablePolicy::retention,
           "Drop chunks whose range ended longer ago than this; 0: never.")
      .min(0);
}

void TimescaleOptions::describe(Schema<TimescaleOptions>& s) {
  s.option("connection", &TimescaleOptions::connection,
           "libpq connection string or URI, for example "
           "`postgresql://cvagent@db:5432/crypto_viz_ts?sslmode=verify-full` or `${DATABASE_URL}`. "
           "Every libpq option passes through. Empty: libpq's PG* environment variables. A server "
           "not on this machine is verified by default (sslmode=verify-full, system CAs).")
      .example("${DATABASE_URL}");
  s.option("connection_file", &TimescaleOptions::connection_file,
           "File holding the connection string (a mounted secret; a trailing newline is "
           "ignored). Instead of `connection`.");
  s.option("create_schema", &TimescaleOptions::create_schema,
           "Apply the schema migrations when connecting (as `cvagent schema apply` does).");
  s.option("timescaledb", &TimescaleOptions::timescaledb,
           "Schema flavour for a new database: `auto` uses TimescaleDB when the server has it "
           "loaded (shared_preload_libraries) and plain PostgreSQL otherwise, with a warning when "
           "it is installed but not loaded; `require` fails without it; `off` uses plain "
           "PostgreSQL.")
      .oneOf({"auto", "require", "off"});
  s.option("retention", &TimescaleOptions::retention,
           "TimescaleDB: drop raw rows older than this on every table, instead of each table's "
           "default (see Policies; continuous aggregates keep their rows). 0 removes the "
           "policies.")
      .min(0);
  s.option("compress_after", &TimescaleOptions::compress_after,
           "TimescaleDB: compress (columnstore) chunks older than this on every table, instead "
           "of each table's default (see Policies). 0 removes the policies.")
      .min(0);
  s.option("policies", &TimescaleOptions::policies,
           "TimescaleDB: per-table `chunk_interval`, `compress_after` and `retention`, over the "
           "defaults and the two options above, e.g. `{trade_data: {retention: 30d}}`.");
  s.option("connect_timeout", &TimescaleOptions::connect_timeout,
           "How long a connection attempt may take, unless the connection string sets "
           "connect_timeout. 0 waits forever.")
      .min(0);
  s.option("statement_timeout", &TimescaleOptions::statement_timeout,
           "Longest a batch's statement may run before the server cancels it (the batch is then "
           "retried). 0 disables.")
      .min(0);
  s.option("method", &TimescaleOptions::method,
           "How a batch reaches the server: `copy` (COPY into a staging table, then INSERT ... ON "
           "CONFLICT) or `insert` (one multi-row INSERT ... ON CONFLICT per table, for proxies "
           "that do not support COPY).")
      .oneOf({"copy", "insert"});
  s.check([](const TimescaleOptions& o, const SourceMark& where, Diagnostics& d) {
    if (!o.connection.empty() && !o.connection_file.empty()) {
      d.push_back({where, "set either `connection` or `connection_file`, not both"});
    }
    for (const auto& [table, policy] : o.policies) {
      const auto& known = defaultPolicies();
      if (std::none_of(known.begin(), known.end(),
                       [&name = table](const TablePolicySetting& p) { return p.table == name; })) {
        std::string names;
        for (const auto& p : known) names += (names.empty() ? "" : ", ") + p.table;
        d.push_back({where, fmt::format("policies: no table '{}' (tables: {})", table, names)});
      }
      if (policy.chunk_interval && policy.chunk_interval->count() <= 0) {
        d.push_back({where, fmt::format("policies.{}.chunk_interval must be positive", table)});
      }
    }
    // The hourly aggregates re-read the last 3 days of their raw rows at every refresh: raw rows
    // dropped inside that window would empty their buckets.
    std::string too_short;
    for (const auto& p : effectivePolicies(o)) {
      if (isHourlyAggregateSource(p.table) && p.retention.count() > 0 &&
          p.retention < std::chrono::hours(24 * 4)) {
        too_short += (too_short.empty() ? "" : ", ") + p.table;
      }
    }
    if (!too_short.empty()) {
      d.push_back({where, fmt::format("retention of {} must be 0 (no retention policy) or at "
                                      "least 4d: the hourly aggregates are refreshed from the "
                                      "last 3 days of their rows",
                                      too_short)});
    }
  });
}

bool isRowDataError(const std::string& sqlstate) {
  return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0;
}

// Routes server notices and warnings to the plugin's log instead of stderr.
class NoticeLogger final : public pqxx::errorhandler {
 public:
  NoticeLogger(pqxx::connection_base& connection, Logger& logger)
      : pqxx::errorhandler(connection), logger_(logger) {}
  bool operator()(const char message[]) noexcept override {
    try {
      logger_.warn("server: {}", firstLine(message));
    } catch (...) {
    }
    return false;
  }

 private:
  Logger& logger_;
};

TimescaleOutput::TimescaleOutput(const TimescaleOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      conninfo_(parseConnInfo(resolveConnection(options), {options.connect_timeout, "cvagent"})),
      format_(options.method == "insert" ? RowFormat::kValues : RowFormat::kCopyText),
      reconnects_(context.counter("reconnects_total", "Connections re-opened after a failure.")),
      db_rejects_(context.counter("rows_refused_total",
                                  "Rows the database refused (constraint or data errors).")),
      late_refreshes_(context.counter(
          "late_refreshes_total",
          "Refreshes of continuous aggregates for rows older than their refresh window.")) {
  if (!conninfo_.tls_warning.empty()) context_.logger().warn("{}", conninfo_.tls_warning);
  late_.resize(std::size(kHourlyAggregates));
  late_in_batch_.resize(std::size(kHourlyAggregates));
  staged_.resize(tables().size());
  for (std::size_t t = 0; t < tables().size(); ++t) {
    staged_[t].spec = &tables()[t];
    staged_[t].rows = RowBuilder(format_);
  }
}

TimescaleOutput::~TimescaleOutput() { dropConnection(); }

void TimescaleOutput::openConnection() {
  dropConnection();
  std::unique_ptr<pqxx::connection> connection;
  // cancel() reaches the socket as soon as it exists (the set-up below talks to the server too);
  // if opening fails half way the registration is withdrawn before `connection` closes it.
  struct SocketRegistration {
    TimescaleOutput& self;
    bool keep = false;
    ~SocketRegistration() {
      if (keep) return;
      std::lock_guard lock(self.socket_mu_);
      self.socket_ = -1;
    }
  } registration{*this};
  try {
    connection = std::make_unique<pqxx::connection>(conninfo_.effective);
    {
      std::lock_guard lock(socket_mu_);
      socket_ = connection->sock();
    }
    // set_variable: libpqxx re-applies these if it ever re-opens the session itself.
    connection->set_variable("client_min_messages", "warning");
    connection->set_variable("standard_conforming_strings", "on");
    connection->set_variable("statement_timeout",
                             std::to_string(options_.statement_timeout.count()));
    connection->set_client_encoding("UTF8");
    // Whether continuous aggregates may need a refresh for late rows. Here, before the notice
    // handler exists: a throw must leave nothing registered with the connection it destroys.
    pqxx::nontransaction tx(*connection);
    has_timescale_ =
        tx.exec1("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')")[0]
            .as<bool>();
  } catch (const std::exception& e) {
    // libpq's message names host and port, never the password.
    throw std::runtime_error(
        fmt::format("cannot connect to {}: {}", conninfo_.redacted, firstLine(e.what())));
  }
  // Registered last: it must never outlive the connection, which a throw above would destroy.
  notices_ = std::make_unique<NoticeLogger>(*connection, context_.logger());
  if (connections_opened_++ > 0) reconnects_.inc();
  const int version = connection->server_version();  // 150020 for 15.20
  context_.logger().info("connected to {} (PostgreSQL {}.{})", conninfo_.redacted, version / 10000,
                         version % 10000);
  connection_ = std::move(connection);
  registration.keep = true;
  context_.setHealth(HealthState::kOk, "connected");
}

void TimescaleOutput::dropConnection() {
  {
    std::lock_guard lock(socket_mu_);
    socket_ = -1;
  }
  notices_.reset();
  connection_.reset();
}

void TimescaleOutput::cancel() {
  // shutdown, not close: the worker thread still owns the descriptor and closes it when it drops
  // the connection.
  std::lock_guard lock(socket_mu_);
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

void TimescaleOutput::connect() {
  if (!connection_) openConnection();
  if (options_.create_schema && !schema_applied_) applySchema();
}

void TimescaleOutput::close() {
  refreshLateBuckets(true);
  dropConnection();
}

bool TimescaleOutput::applySchema() {
  if (!connection_) openConnection();
  SchemaSettings settings;
  settings.timescaledb = options_.timescaledb;
  settings.policies = effectivePolicies(options_);
  SchemaReport report;
  try {
    report = applyMigrations(*connection_, settings, context_.logger());
  } catch (const pqxx::broken_connection&) {
    dropConnection();
    throw;
  }
  schema_applied_ = true;
  // Created by this apply, maybe: the connection was opened before the extension existed.
  has_timescale_ = report.flavor == Flavor::kTimescale;
  context_.logger().info("schema at version {} ({}); {} migration(s) applied",
                         report.current_version, flavorName(report.flavor), report.applied);
  return true;
}

WriteResult TimescaleOutput::write(std::span<const Metric> batch) {
  // Rows refused before reaching the database: they stay refused whatever happens next.
  std::vector<WriteResult::Exception> refused;
  for (auto& staged : staged_) {
    staged.rows.clear();
    staged.batch_index.clear();
  }
  for (auto& l : late_in_batch_) l = {};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Metric& metric = batch[i];
    const TableSpec* spec = tableFor(metric.name());
    if (!spec) {
      refused.push_back({i, WriteStatus::kReject,
                         fmt::format("no table for metric '{}' (outputs.timescale stores: {})",
                                     metric.name(), knownMetricNames())});
      continue;
    }
    Staged& staged = staged_[static_cast<std::size_t>(spec - tables().data())];
    staged.rows.begin(static_cast<std::int64_t>(staged.batch_index.size()));
    std::string error;
    if (!spec->fill(metric, staged.rows, error)) {
      staged.rows.abandon();
      refused.push_back(
          {i, WriteStatus::kReject, fmt::format("{} {}: {}", metric.name(), spec->table, error)});
      continue;
    }
    staged.rows.end();
    staged.batch_index.push_back(i);
    if (has_timescale_) noteLateRow(*spec, metric.time());
  }

  auto withRefused = [&](WriteResult result) {
    for (auto& r : refused) result.set(r.index, r.status, r.reason);
    return result;
  };
  if (refused.size() == batch.size()) return withRefused(WriteResult::ok());

  // Reconnect after a lost connection, and retry a schema apply that failed at connect time.
  if (!connection_ || (options_.create_schema && !schema_applied_)) {
    try {
      connect();
    } catch (const std::exception& e) {
      context_.setHealth(HealthState::kDegraded, e.what());
      return withRefused(WriteResult::retry(e.what()));
    }
  }

  WriteResult result = WriteResult::ok();
  try {
    pqxx::work tx(*connection_, "cvagent_batch");
    for (auto& staged : staged_) {
      if (staged.rows.rows() > 0) storeTable(tx, staged, result);
    }
    tx.commit();
  } catch (const pqxx::in_doubt_error& e) {
    dropConnection();
    return withRefused(WriteResult::retry(
        fmt::format("connection lost during commit, outcome unknown (the retry is idempotent): {}",
                    firstLine(e.what()))));
  } catch (const pqxx::broken_connection& e) {
    dropConnection();
    const std::string reason = fmt::format("connection lost: {}", firstLine(e.what()));
    context_.setHealth(HealthState::kDegraded, reason);
    return withRefused(WriteResult::retry(reason));
  } catch (const pqxx::sql_error& e) {
    std::string reason = fmt::format("{} (SQLSTATE {})", firstLine(e.what()), e.sqlstate());
    if (e.sqlstate() == "42P01" || e.sqlstate() == "42703") {
      reason += "; apply the schema with `cvagent schema apply` or `create_schema: true`";
    }
    if (endsSession(e.sqlstate()) || !connection_->is_open()) dropConnection();
    context_.setHealth(HealthState::kDegraded, reason);
    return withRefused(WriteResult::retry(reason));
  } catch (const std::exception& e) {
    dropConnection();
    context_.setHealth(HealthState::kDegraded, e.what());
    return withRefused(WriteResult::retry(e.what()));
  }
  context_.setHealth(HealthState::kOk, "connected");
  // Committed: the late rows of this batch now need their aggregate buckets refreshed.
  for (std::size_t a = 0; a < late_.size(); ++a) {
    const LateRange& b = late_in_batch_[a];
    if (!b.pending) continue;
    LateRange& l = late_[a];
    l.min_ns = l.pending ? std::min(l.min_ns, b.min_ns) : b.min_ns;
    l.max_ns = l.pending ? std::max(l.max_ns, b.max_ns) : b.max_ns;
    l.pending = true;
  }
  refreshLateBuckets(false);
  for (auto& r : refused) result.set(r.index, r.status, r.reason);
  return result;
}

void TimescaleOutput::noteLateRow(const TableSpec& spec, std::int64_t time_ns) {
  const std::int64_t window_start = context_.clock().nowNanos() - kRefreshWindowNs;
  if (time_ns >= window_start + kRefreshMarginNs) return;
  for (std::size_t a = 0; a < std::size(kHourlyAggregates); ++a) {
    if (kHourlyAggregates[a].source_table != spec.table) continue;
    LateRange& l = late_in_batch_[a];
    l.min_ns = l.pending ? std::min(l.min_ns, time_ns) : time_ns;
    l.max_ns = l.pending ? std::max(l.max_ns, time_ns) : time_ns;
    l.pending = true;
  }
}

// Rows are stored and acknowledged before this runs: a failed refresh is logged and tried again
// with the next write (or at close), never a reason to retry the batch.
void TimescaleOutput::refreshLateBuckets(bool force) {
  if (!has_timescale_ || !connection_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_refresh_ < kLateRefreshEvery) return;
  for (std::size_t a = 0; a < late_.size(); ++a) {
    LateRange& l = late_[a];
    if (!l.pending) continue;
    last_refresh_ = now;
    const std::int64_t start_us = floorToHour(l.min_ns) / 1000;
    const std::int64_t end_us = (floorToHour(l.max_ns) + kHourNs) / 1000;
    try {
      // CALL refresh_continuous_aggregate cannot run inside a transaction block. The refresh
      // policy may be refreshing the same aggregate (55P03, "concurrent refresh"): it takes a
      // moment, so wait for it briefly rather than leave the range for the next write.
      const std::string call = fmt::format(
          "CALL refresh_continuous_aggregate({}::regclass, to_timestamp({}::float8 / 1e6), "
          "to_timestamp({}::float8 / 1e6))",
          connection_->quote(std::string(kHourlyAggregates[a].view)), start_us, end_us);
      for (int attempt = 0;; ++attempt) {
        try {
          pqxx::nontransaction tx(*connection_);
          tx.exec0(call);
          break;
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != "55P03" || attempt == 10) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
      l.pending = false;
      late_refreshes_.inc();
      context_.logger().info("refreshed {} for late rows from {} to {}", kHourlyAggregates[a].view,
                             formatRfc3339(start_us * 1000), formatRfc3339(end_us * 1000));
    } catch (const std::exception& e) {
      refresh_errors_.warn(context_.logger(),
                           "cannot refresh {} for late rows (tried again later): {}",
                           kHourlyAggregates[a].view, firstLine(e.what()));
    }
  }
}

void TimescaleOutput::copyRows(pqxx::work& tx, const Staged& staged) {
  std::vector<std::string> columns{"seq"};
  for (const auto& c : staged.spec->columns) columns.emplace_back(c.name);
  const std::string& buffer = staged.rows.buffer();
  // tablewriter::write_raw_line is libpqxx 6's only public way to send pre-rendered COPY text
  // (stream_to renders every value through to_string, several times slower). It is deprecated in
  // favour of stream_to, which gains write_raw_line only in libpqxx 7.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter writer(tx, stageTableName(*staged.spec), columns.begin(), columns.end());
  writer.write_raw_line(buffer.substr(0, buffer.size() - 1));  // without the last newline
  writer.complete();
#pragma GCC diagnostic pop
}

void TimescaleOutput::storeTable(pqxx::work& tx, Staged& staged, WriteResult& result) {
  const TableSpec& spec = *staged.spec;
  std::string source;
  if (format_ == RowFormat::kCopyText) {
    // Created in the transaction that uses it, so a re-opened session (or a pooler handing out
    // another one) always finds it; ON COMMIT DELETE ROWS empties it after each batch.
    tx.exec0(stageTableDdl(spec));
    copyRows(tx, staged);
    source = stageSource(spec);
  } else {
    source = valuesSource(spec, staged.rows.buffer());
  }
  // First-copy-wins tables go from the cheapest statement to the most general: a plain INSERT
  // (fresh data, the steady state), then an INSERT of the rows whose key is absent (a replay or a
  // retry), then ON CONFLICT DO NOTHING (a key stored meanwhile by another writer, or repeated in
  // the batch). Each step that meets a stored key fails with 23505 and is rolled back to its
  // savepoint; a row's bad data sends the batch row by row at once.
  if (!spec.upsert) {
    for (const std::string& sql : {insertAllSql(spec, source), insertNewRowsSql(spec, source)}) {
      try {
        pqxx::subtransaction attempt(tx, "cvagent_attempt");
        attempt.exec0(sql);
        attempt.commit();
        return;
      } catch (const pqxx::sql_error& e) {
        if (!isRowDataError(e.sqlstate())) throw;
        if (e.sqlstate() != "23505") {
          storeRowByRow(tx, staged, result);
          return;
        }
      }
    }
  }
  try {
    pqxx::subtransaction bulk(tx, "cvagent_bulk");
    bulk.exec0(insertSql(spec, source));
    bulk.commit();
  } catch (const pqxx::sql_error& e) {
    if (!isRowDataError(e.sqlstate())) throw;
    storeRowByRow(tx, staged, result);
  }
}

// The batch held a row the table refuses: store the rows one by one, each under a savepoint, and
// report the ones refused with the database's reason.
void TimescaleOutput::storeRowByRow(pqxx::work& tx, Staged& staged, WriteResult& result) {
  const TableSpec& spec = *staged.spec;
  const auto& offsets = staged.rows.rowOffsets();
  for (std::size_t seq = 0; seq < staged.batch_index.size(); ++seq) {
    std::string sql;
    if (format_ == RowFormat::kCopyText) {
      sql = insertSql(spec, stageSource(spec), fmt::format("s.seq = {}", seq));
    } else {
      std::string_view tuple(staged.rows.buffer());
      tuple = tuple.substr(offsets[seq], offsets[seq + 1] - offsets[seq]);
      if (!tuple.empty() && tuple.front() == ',') tuple.remove_prefix(1);
      sql = insertSql(spec, valuesSource(spec, tuple));
    }
    try {
      pqxx::subtransaction one(tx, "cvagent_row");
      one.exec0(sql);
      one.commit();
    } catch (const pqxx::sql_error& e) {
      if (!isRowDataError(e.sqlstate())) throw;
      // The core logs each rejected metric with this reason (rate-limited) and counts it.
      const std::string reason = fmt::format("{}: {}", spec.table, firstLine(e.what()));
      db_rejects_.inc();
      result.set(staged.batch_index[seq], WriteStatus::kReject, reason);
    }
  }
}

}  // namespace cvagent::outputs::timescale

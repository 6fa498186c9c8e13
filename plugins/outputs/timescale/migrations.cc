#include "migrations.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace cvagent::outputs::timescale {
namespace {

// pg_advisory_xact_lock key: "cvagent schema" as two int4 halves would do too; one constant is
// enough, it only has to differ from the keys other tools use.
constexpr long long kSchemaLockKey = 0x6376616765'6e74LL;  // "cvagent"

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS cvagent_schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " flavor text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

// In the largest whole unit, so the policies read naturally in timescaledb_information.jobs.
std::optional<std::string> intervalText(std::chrono::seconds s) {
  const auto n = s.count();
  if (n <= 0) return std::nullopt;
  if (n % 86400 == 0) return fmt::format("{} days", n / 86400);
  if (n % 3600 == 0) return fmt::format("{} hours", n / 3600);
  return fmt::format("{} seconds", n);
}

// TimescaleDB's background jobs each take a worker process while they run; the scheduler of each
// database takes one more, and parallel queries draw on the same pool. TimescaleDB's own tuning
// tool sizes max_worker_processes as below; with PostgreSQL's default of 8, jobs that fall due
// together fail with "failed to start job".
void checkWorkers(pqxx::transaction_base& tx, Logger& logger, std::vector<std::string>& warnings) {
  const auto row = tx.exec1(
      "SELECT current_setting('max_worker_processes')::int, "
      "       current_setting('timescaledb.max_background_workers')::int, "
      "       current_setting('max_parallel_workers')::int, "
      "       (SELECT count(*) FROM timescaledb_information.jobs WHERE scheduled)::int");
  const int workers = row[0].as<int>();
  const int background = row[1].as<int>();
  const int parallel = row[2].as<int>();
  const int jobs = row[3].as<int>();
  const int needed = background + parallel + 1;
  if (workers < needed) {
    warnings.push_back(fmt::format(
        "max_worker_processes is {} but TimescaleDB needs at least "
        "timescaledb.max_background_workers ({}) + max_parallel_workers ({}) + 1 = {}: policy "
        "jobs that fall due together will fail with \"failed to start job\"; raise "
        "max_worker_processes in postgresql.conf and restart the server",
        workers, background, parallel, needed));
  }
  if (jobs > background) {
    warnings.push_back(fmt::format(
        "{} TimescaleDB jobs are scheduled but timescaledb.max_background_workers is {}: jobs "
        "will wait for each other; raise it (and max_worker_processes) in postgresql.conf",
        jobs, background));
  }
  for (const auto& w : warnings) logger.warn("{}", w);
}

}  // namespace

TimescaleAvailability probeTimescale(pqxx::transaction_base& tx) {
  // timescaledb.max_background_workers is defined by the library's loader, which only a server
  // started with shared_preload_libraries=timescaledb has; pg_available_extensions lists the
  // extension as soon as its files are installed, loaded or not.
  const auto row = tx.exec1(
      "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'), "
      "       current_setting('timescaledb.max_background_workers', true) IS NOT NULL");
  return {row[0].as<bool>(), row[1].as<bool>()};
}

Flavor chooseFlavor(const std::string& timescaledb, const TimescaleAvailability& server,
                    Logger& logger) {
  if (timescaledb == "off") return Flavor::kPostgres;
  if (server.available && server.loaded) return Flavor::kTimescale;
  constexpr const char* kNotPreloaded =
      "TimescaleDB is installed on the server but not loaded: add timescaledb to "
      "shared_preload_libraries in postgresql.conf and restart the server";
  if (timescaledb == "require") {
    throw std::runtime_error(server.available
                                 ? fmt::format("timescaledb: require, but {}", kNotPreloaded)
                                 : "timescaledb: require, but the server has no timescaledb "
                                   "extension (pg_available_extensions)");
  }
  if (server.available) {
    logger.warn(
        "{}; using plain PostgreSQL for this new schema (the flavour is fixed when the schema is "
        "created: set `timescaledb: require` to refuse instead)",
        kNotPreloaded);
  }
  return Flavor::kPostgres;
}

std::string_view flavorName(Flavor flavor) {
  return flavor == Flavor::kTimescale ? "timescaledb" : "postgresql";
}

SchemaReport applyMigrations(pqxx::connection_base& connection, const SchemaSettings& settings,
                             Logger& logger) {
  pqxx::work tx(connection, "cvagent_schema");
  tx.exec(fmt::format("SELECT pg_advisory_xact_lock({})", kSchemaLockKey));
  tx.exec0("SET LOCAL client_min_messages = warning");
  tx.exec0(kCreateMigrationsTable);

  struct Applied {
    std::string flavor;
    std::string checksum;
  };
  std::map<int, Applied> applied;
  for (const auto& row :
       tx.exec("SELECT version, flavor, checksum FROM cvagent_schema_migrations")) {
    applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }

  SchemaReport report;
  if (!applied.empty()) {
    const std::string& recorded = applied.rbegin()->second.flavor;
    report.flavor =
        recorded == flavorName(Flavor::kTimescale) ? Flavor::kTimescale : Flavor::kPostgres;
    if (settings.timescaledb == "require" && report.flavor != Flavor::kTimescale) {
      throw std::runtime_error(
          "timescaledb: require, but this database's cvagent schema was created for plain "
          "PostgreSQL; converting it to hypertables is a manual migration");
    }
    if (report.flavor == Flavor::kTimescale && !probeTimescale(tx).loaded) {
      throw std::runtime_error(
          "this database's cvagent schema uses TimescaleDB, but the server has not loaded it: "
          "add timescaledb to shared_preload_libraries in postgresql.conf and restart the server");
    }
  } else if (settings.timescaledb == "off") {
    report.flavor = Flavor::kPostgres;
  } else {
    report.flavor = chooseFlavor(settings.timescaledb, probeTimescale(tx), logger);
  }

  std::vector<std::string> applied_now;
  for (const auto& m : embeddedMigrations()) {
    const std::string_view checksum =
        report.flavor == Flavor::kTimescale ? m.checksum_timescale : m.checksum_postgres;
    if (auto it = applied.find(m.version); it != applied.end()) {
      if (it->second.checksum != checksum) {
        logger.warn(
            "schema migration {:04d}_{} was applied with checksum {} but this agent has {}; it is "
            "not applied again (migrations must not change once released)",
            m.version, m.name, it->second.checksum, checksum);
      }
      report.current_version = m.version;
      continue;
    }
    std::string sql(m.common);
    sql += '\n';
    sql += report.flavor == Flavor::kTimescale ? m.timescale : m.postgres;
    try {
      tx.exec(sql);
    } catch (const pqxx::sql_error& e) {
      throw std::runtime_error(fmt::format("schema migration {:04d}_{} ({}) failed: {}", m.version,
                                           m.name, flavorName(report.flavor), e.what()));
    }
    tx.exec_params0(
        "INSERT INTO cvagent_schema_migrations (version, name, flavor, checksum) "
        "VALUES ($1, $2, $3, $4)",
        m.version, std::string(m.name), std::string(flavorName(report.flavor)),
        std::string(checksum));
    applied_now.push_back(fmt::format("{:04d}_{}", m.version, m.name));
    ++report.applied;
    report.current_version = m.version;
  }
  if (!applied.empty() && applied.rbegin()->first > report.current_version) {
    report.current_version = applied.rbegin()->first;
    logger.info("the database schema is at version {}, newer than this agent's {}",
                report.current_version, embeddedMigrations().back().version);
  }

  // Policies follow the options on every apply; the function changes only what differs.
  for (const auto& p : settings.policies) {
    tx.exec_params(
        "SELECT cvagent_apply_table_policy($1::regclass, $2::interval, $3::interval, "
        "$4::interval)",
        p.table, intervalText(p.chunk_interval), intervalText(p.compress_after),
        intervalText(p.retention));
  }
  if (report.flavor == Flavor::kTimescale) checkWorkers(tx, logger, report.warnings);
  tx.commit();
  // Only once committed: a migration that failed, or a commit the server refused, applied nothing.
  for (const auto& name : applied_now) {
    logger.info("applied schema migration {} ({})", name, flavorName(report.flavor));
  }
  return report;
}

}  // namespace cvagent::outputs::timescale

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

std::optional<std::string> intervalText(std::chrono::seconds s) {
  if (s.count() <= 0) return std::nullopt;
  return fmt::format("{} seconds", s.count());
}

}  // namespace

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
  } else if (settings.timescaledb == "off") {
    report.flavor = Flavor::kPostgres;
  } else {
    const bool available =
        tx.exec1(
              "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')")[0]
            .as<bool>();
    if (!available && settings.timescaledb == "require") {
      throw std::runtime_error(
          "timescaledb: require, but the server has no timescaledb extension "
          "(pg_available_extensions)");
    }
    report.flavor = available ? Flavor::kTimescale : Flavor::kPostgres;
  }

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
    logger.info("applied schema migration {:04d}_{} ({})", m.version, m.name,
                flavorName(report.flavor));
    ++report.applied;
    report.current_version = m.version;
  }
  if (!applied.empty() && applied.rbegin()->first > report.current_version) {
    report.current_version = applied.rbegin()->first;
    logger.info("the database schema is at version {}, newer than this agent's {}",
                report.current_version, embeddedMigrations().back().version);
  }

  // Policies follow the options on every apply; the function changes only what differs.
  tx.exec_params("SELECT cvagent_apply_policies($1::interval, $2::interval)",
                 intervalText(settings.retention), intervalText(settings.compress_after));
  tx.commit();
  return report;
}

}  // namespace cvagent::outputs::timescale

#pragma once
// The versioned schema of sql/migrations, embedded at build time, and the runner that applies it.

#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cvagent/logger.h"

namespace cvagent::outputs::timescale {

struct Migration {
  int version;
  std::string_view name;
  std::string_view common;     // run by both flavours, first
  std::string_view timescale;  // then this with TimescaleDB
  std::string_view postgres;   // or this without
  std::string_view checksum_timescale;
  std::string_view checksum_postgres;
};

// Ascending by version (generated from sql/migrations).
const std::vector<Migration>& embeddedMigrations();

enum class Flavor { kTimescale, kPostgres };
std::string_view flavorName(Flavor flavor);

// The policies of one hypertable (TimescaleDB; plain PostgreSQL ignores them). 0: no policy
// (a chunk interval of 0 leaves the table's chunk interval as it is).
struct TablePolicySetting {
  std::string table;
  std::chrono::seconds chunk_interval{0};
  std::chrono::seconds compress_after{0};
  std::chrono::seconds retention{0};
};

struct SchemaSettings {
  std::string timescaledb = "auto";  // auto | require | off
  std::vector<TablePolicySetting> policies;
};

// What the server offers: whether TimescaleDB is installed (pg_available_extensions) and whether
// it is loaded (shared_preload_libraries): installed but not preloaded, CREATE EXTENSION fails.
struct TimescaleAvailability {
  bool available = false;
  bool loaded = false;
};
TimescaleAvailability probeTimescale(pqxx::transaction_base& tx);

// The flavour a new schema gets, or the reason it cannot be had (`require`). Logs a warning when
// `auto` falls back to plain PostgreSQL although TimescaleDB is installed.
Flavor chooseFlavor(const std::string& timescaledb, const TimescaleAvailability& server,
                    Logger& logger);

struct SchemaReport {
  Flavor flavor = Flavor::kPostgres;
  int applied = 0;                    // migrations applied by this call
  int current_version = 0;            // the database's version afterwards
  std::vector<std::string> warnings;  // configuration the operator should fix (also logged)
};

// Applies the missing migrations and the policies in one transaction, under an advisory lock so
// agents starting together apply them once. Applying again changes nothing. The flavour is chosen
// once (TimescaleDB when the extension is available, unless settings say otherwise) and recorded
// in cvagent_schema_migrations; later runs keep it. Throws on failure (nothing is then changed).
SchemaReport applyMigrations(pqxx::connection_base& connection, const SchemaSettings& settings,
                             Logger& logger);

}  // namespace cvagent::outputs::timescale

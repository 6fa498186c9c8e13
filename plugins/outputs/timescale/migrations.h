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

struct SchemaSettings {
  std::string timescaledb = "auto";        // auto | require | off
  std::chrono::seconds retention{0};       // 0: no retention policy
  std::chrono::seconds compress_after{0};  // 0: no compression policy
};

struct SchemaReport {
  Flavor flavor = Flavor::kPostgres;
  int applied = 0;          // migrations applied by this call
  int current_version = 0;  // the database's version afterwards
};

// Applies the missing migrations and the policies in one transaction, under an advisory lock so
// agents starting together apply them once. Applying again changes nothing. The flavour is chosen
// once (TimescaleDB when the extension is available, unless settings say otherwise) and recorded
// in cvagent_schema_migrations; later runs keep it. Throws on failure (nothing is then changed).
SchemaReport applyMigrations(pqxx::connection_base& connection, const SchemaSettings& settings,
                             Logger& logger);

}  // namespace cvagent::outputs::timescale

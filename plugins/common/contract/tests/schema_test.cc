// The contract against sql/migrations (the one source of truth for the schema): applied to a fresh
// database on the test PostgreSQL (tests/services/postgres.sh), every kind's table and columns must
// exist with compatible types, its key must be the table's primary key, and every NOT NULL column
// without a default must be one the contract always fills.

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "contract/contract.h"
#include "service_env.h"

namespace cvagent::contract {
namespace {

struct CatalogColumn {
  std::string data_type;  // information_schema.columns.data_type
  std::string udt_name;
  bool not_null = false;
  bool has_default = false;
};

// What the catalog may call a column of each contract type.
bool compatible(ColumnType type, const CatalogColumn& c) {
  switch (type) {
    case ColumnType::kTime:
      return c.data_type == "timestamp with time zone";
    case ColumnType::kText:
      return c.data_type == "text" || c.data_type == "character varying" ||
             c.data_type == "character";
    case ColumnType::kDouble:
      return c.data_type == "double precision";
    case ColumnType::kInt:
      return c.data_type == "bigint";
    case ColumnType::kBool:
      return c.data_type == "boolean";
    case ColumnType::kIntText:
      return c.data_type == "integer" || c.data_type == "smallint" || c.data_type == "bigint";
    case ColumnType::kTextArray:
      return c.data_type == "ARRAY" && (c.udt_name == "_text" || c.udt_name == "_varchar");
  }
  return false;
}

// The migrations of the plain-PostgreSQL flavour, in the order the runner applies them: each
// version's common file, then its *.postgres.sql part.
std::vector<std::filesystem::path> postgresMigrations() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(CVAGENT_SQL_MIGRATIONS_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".sql") && !name.ends_with(".timescale.sql")) files.push_back(entry.path());
  }
  // "0002_x.postgres.sql" sorts after "0002_x.sql"? Compare by (version, is-flavour-file).
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    const std::string na = a.filename().string(), nb = b.filename().string();
    const std::string va = na.substr(0, 4), vb = nb.substr(0, 4);
    if (va != vb) return va < vb;
    return na.ends_with(".postgres.sql") < nb.ends_with(".postgres.sql");
  });
  return files;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ContractSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string server;
    CVAGENT_REQUIRE_SERVICE("CVAGENT_TEST_PG_URL", server);
    static std::atomic<int> counter{0};
    name_ = "cvagent_contract_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_ = server;
    url_ = server.substr(0, server.rfind('/') + 1) + name_;
    pqxx::connection c(admin_);
    pqxx::nontransaction tx(c);
    tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
    tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
  }
  void TearDown() override {
    if (name_.empty()) return;
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }

  std::string name_, admin_, url_;
};

TEST_F(ContractSchema, EveryKindMatchesItsTableInSqlMigrations) {
  pqxx::connection c(url_);
  const auto files = postgresMigrations();
  ASSERT_FALSE(files.empty()) << CVAGENT_SQL_MIGRATIONS_DIR;
  {
    pqxx::work tx(c);
    tx.exec0("SET LOCAL client_min_messages = warning");
    for (const auto& file : files) {
      SCOPED_TRACE(file.string());
      tx.exec(readFile(file));
    }
    tx.commit();
  }

  pqxx::nontransaction tx(c);
  for (const Kind& kind : kinds()) {
    SCOPED_TRACE(std::string(kind.name) + " -> " + std::string(kind.table));
    std::map<std::string, CatalogColumn> catalog;
    for (const auto& row : tx.exec_params(
             "SELECT column_name, data_type, udt_name, is_nullable = 'NO', column_default IS NOT "
             "NULL FROM information_schema.columns WHERE table_schema = 'public' AND "
             "table_name = $1",
             std::string(kind.table))) {
      catalog[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>(),
                                           row[3].as<bool>(), row[4].as<bool>()};
    }
    ASSERT_FALSE(catalog.empty()) << "no table " << kind.table << " in sql/migrations";

    std::map<std::string, const Member*> declared;
    for (const Member& m : kind.members) {
      declared[std::string(m.column)] = &m;
      const auto it = catalog.find(std::string(m.column));
      if (it == catalog.end()) {
        ADD_FAILURE() << "column " << m.column << " is not in " << kind.table;
        continue;
      }
      EXPECT_TRUE(compatible(m.type, it->second))
          << kind.table << "." << m.column << " is " << it->second.data_type << " ("
          << it->second.udt_name << "), the contract writes type " << static_cast<int>(m.type);
    }
    // A NOT NULL column without a default the contract may leave NULL would refuse rows.
    for (const auto& [column, info] : catalog) {
      if (!info.not_null || info.has_default) continue;
      const auto it = declared.find(column);
      if (it == declared.end()) {
        ADD_FAILURE() << kind.table << "." << column << " is NOT NULL and not in the contract";
        continue;
      }
      const Member& m = *it->second;
      const bool always = m.need != Need::kOptional || m.rule == Rule::kAlertType;
      EXPECT_TRUE(always) << kind.table << "." << column
                          << " is NOT NULL but the contract declares it optional";
    }

    std::vector<std::string> primary_key;
    for (const auto& row : tx.exec_params(
             "SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY "
             "AS k(attnum, n) ON true JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
             "a.attnum = k.attnum WHERE i.indrelid = $1::regclass AND i.indisprimary "
             "ORDER BY k.n",
             std::string(kind.table))) {
      primary_key.push_back(row[0].as<std::string>());
    }
    const std::vector<std::string> key(kind.table_key.begin(), kind.table_key.end());
    EXPECT_EQ(primary_key, key) << "the ON CONFLICT target must be the primary key";
  }
}

}  // namespace
}  // namespace cvagent::contract

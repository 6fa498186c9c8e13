#pragma once
// Test helpers for PostgreSQL: a private server (for tests that stop and restart it, and for the
// benchmark) and a fresh database per test on the shared server of tests/services/postgres.sh.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "free_port.h"

namespace cvagent::outputs::timescale::testing {

using cvagent::testing::freeLoopbackPort;

inline std::string pgBinDir() {
  const char* dir = std::getenv("CVAGENT_TEST_PG_BIN");
  return dir && *dir ? dir : "/usr/lib/postgresql/15/bin";
}

// A PostgreSQL cluster of its own in a temp dir, run as the `postgres` user when we are root (the
// server refuses to run as root). Stopped and removed on destruction.
class PgServer {
 public:
  explicit PgServer(std::string extra_settings = "") : settings_(std::move(extra_settings)) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("cvagent-pg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms::all);
    if (::geteuid() == 0) run("chown postgres: " + dir_.string());
    port_ = freeLoopbackPort();
    run(asPostgres(pgBinDir() + "/initdb -D " + data() + " -U postgres -A trust -E UTF8 " +
                   "--locale=C.UTF-8 >" + dir_.string() + "/initdb.log 2>&1"));
    start();
    run(asPostgres(pgBinDir() + "/psql -qAt -h 127.0.0.1 -p " + std::to_string(port_) +
                   " -U postgres -d postgres -c \"CREATE DATABASE cvagent\" >/dev/null"));
  }
  ~PgServer() {
    // Best effort in a destructor: a server that will not stop leaves only a temp dir behind.
    // (A void cast does not silence GCC's warn_unused_result, which _FORTIFY_SOURCE puts on it.)
    [[maybe_unused]] const int status = std::system(
        asPostgres(pgBinDir() + "/pg_ctl -D " + data() + " -m immediate -w stop >/dev/null 2>&1")
            .c_str());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  void start() {
    run(asPostgres(pgBinDir() + "/pg_ctl -D " + data() + " -l " + dir_.string() +
                   "/server.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p " +
                   std::to_string(port_) + " -k " + dir_.string() + " " + settings_ +
                   "\" start >/dev/null"));
  }
  // `mode`: fast (disconnects clients, like a restart) or immediate (like a crash).
  void stop(const std::string& mode = "fast") {
    run(asPostgres(pgBinDir() + "/pg_ctl -D " + data() + " -m " + mode + " -w stop >/dev/null"));
  }

  std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/cvagent";
  }
  int port() const { return port_; }

 private:
  std::string data() const { return dir_.string() + "/data"; }
  static std::string asPostgres(const std::string& command) {
    if (::geteuid() != 0) return command;
    return "runuser -u postgres -- sh -c '" + command + "'";
  }
  static void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }

  std::string settings_;
  std::filesystem::path dir_;
  int port_ = 0;
};

// A database of its own on the server at `server_url` (a postgresql:// URL ending in /dbname),
// dropped on destruction, so tests can run in parallel against one server.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(const std::string& server_url) {
    static std::atomic<int> counter{0};
    name_ = "cvagent_t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    base_ = server_url.substr(0, server_url.rfind('/') + 1);
    admin_ = server_url;
    pqxx::connection c(admin_);
    pqxx::nontransaction tx(c);
    tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
    tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
  }
  ~ScratchDatabase() {
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  std::string url() const { return base_ + name_; }

 private:
  std::string name_;
  std::string base_;
  std::string admin_;
};

}  // namespace cvagent::outputs::timescale::testing

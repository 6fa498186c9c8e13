#pragma once
// A redis-server of its own for tests and benchmarks: a temp dir, a free loopback port and a unix
// socket, append-only with fsync on every write so a SIGKILLed server keeps what it acknowledged.

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "free_port.h"

namespace cvagent::outputs::redis::testing {

inline std::string redisServerBinary() {
  const char* bin = std::getenv("CVAGENT_TEST_REDIS_SERVER");
  return bin && *bin ? bin : "/usr/bin/redis-server";
}

inline bool haveRedisServer() { return ::access(redisServerBinary().c_str(), X_OK) == 0; }

class RedisServer {
 public:
  // `durable`: appendonly with appendfsync always (for the restart tests); otherwise no
  // persistence at all (for the benchmark, like redis-benchmark's usual setup).
  explicit RedisServer(std::string password = "", bool durable = true)
      : password_(std::move(password)), durable_(durable) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("cvagent-redis-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = cvagent::testing::freeLoopbackPort();
    start();
  }
  ~RedisServer() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void start() {
    std::vector<std::string> args = {redisServerBinary(),
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.string(),
                                     "--unixsocket",
                                     socketPath(),
                                     "--unixsocketperm",
                                     "700",
                                     "--save",
                                     "",
                                     "--logfile",
                                     (dir_ / "redis.log").string(),
                                     "--appendonly",
                                     durable_ ? "yes" : "no",
                                     "--appendfsync",
                                     "always"};
    if (!password_.empty()) {
      args.insert(args.end(), {"--requirepass", password_});
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // Ready when it answers on its socket (AOF loaded).
    for (int i = 0; i < 500; ++i) {
      redisContext* c = redisConnectUnix(socketPath().c_str());
      if (c && !c->err) {
        auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
        const bool ready =
            reply &&
            (reply->type == REDIS_REPLY_STATUS ||
             (reply->type == REDIS_REPLY_ERROR && std::string(reply->str).rfind("NOAUTH", 0) == 0));
        if (reply) freeReplyObject(reply);
        redisFree(c);
        if (ready) return;
      } else if (c) {
        redisFree(c);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not start; see " + (dir_ / "redis.log").string());
  }

  // SIGKILL: a crash, no goodbye to clients.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string socketPath() const { return (dir_ / "redis.sock").string(); }
  std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  std::string logPath() const { return (dir_ / "redis.log").string(); }

  // A client for reading back (authenticated, database `db`).
  redisContext* client(int db = 0) const {
    redisContext* c = redisConnectUnix(socketPath().c_str());
    if (!c || c->err) throw std::runtime_error("cannot connect to the test redis-server");
    if (!password_.empty()) freeReplyObject(redisCommand(c, "AUTH %s", password_.c_str()));
    if (db != 0) freeReplyObject(redisCommand(c, "SELECT %d", db));
    return c;
  }

 private:
  std::filesystem::path dir_;
  std::string password_;
  bool durable_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cvagent::outputs::redis::testing

#pragma once
// A librdkafka mock cluster of our own for one test: runs tests/services/kafka_mock as a child
// process (3 brokers on loopback) and drives it through its stdin. The child exits when the pipe
// closes, so a crashed test leaves nothing behind.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace cvagent::testing {

class MockCluster {
 public:
  explicit MockCluster(int brokers = 3, const std::vector<std::string>& topics = {}) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    std::vector<std::string> args = {CVAGENT_KAFKA_MOCK_BIN, "--brokers", std::to_string(brokers)};
    for (const auto& t : topics) {
      args.push_back("--topic");
      args.push_back(t);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) throw std::runtime_error(std::string("cannot start ") + CVAGENT_KAFKA_MOCK_BIN);
    in_ = fdopen(to_child[1], "w");
    out_ = fdopen(from_child[0], "r");
    const std::string first = readLine();
    if (first.rfind("bootstrap ", 0) != 0) {
      throw std::runtime_error("kafka mock said '" + first + "' instead of its bootstrap servers");
    }
    bootstrap_ = first.substr(10);
  }
  ~MockCluster() {
    if (in_) fclose(in_);
    if (out_) fclose(out_);
    if (pid_ > 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  pid_t pid() const { return pid_; }

  // Sends one command (see kafka_mock.cc) and returns its answer, "ok" or "error ...".
  std::string command(const std::string& line) {
    fputs((line + "\n").c_str(), in_);
    fflush(in_);
    return readLine();
  }

 private:
  std::string readLine() {
    std::string line;
    int c;
    while ((c = fgetc(out_)) != EOF && c != '\n') line += static_cast<char>(c);
    return line;
  }

  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
  std::string bootstrap_;
};

}  // namespace cvagent::testing

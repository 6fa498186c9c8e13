#pragma once
// Starts tests/fakes/feed_server.py (Debian's /usr/bin/python3), serving tests/data, on a free
// loopback port for one test and stops it afterwards. For tests of plugins and plugins/common
// (the definitions come from cvagent_add_plugin's TESTS).

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace cvagent::test {

class FeedServer {
 public:
  FeedServer() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl("/usr/bin/python3", "python3", CVAGENT_TEST_FAKES "/feed_server.py",
              CVAGENT_SHARED_TEST_DATA, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[64] = {};
    if (out == nullptr || std::fgets(line, sizeof line, out) == nullptr ||
        std::sscanf(line, "PORT %d", &port_) != 1) {
      if (out) std::fclose(out);
      stop();
      throw std::runtime_error("feed_server.py did not start");
    }
    std::fclose(out);
  }
  ~FeedServer() { stop(); }
  FeedServer(const FeedServer&) = delete;
  FeedServer& operator=(const FeedServer&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // A plain GET to the server itself (to switch /dyn/ content, read /log).
  std::string get(const std::string& path) const {
    std::string body;
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url(path).c_str());
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
          static_cast<std::string*>(u)->append(d, s * n);
          return s * n;
        });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    return body;
  }

 private:
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cvagent::test

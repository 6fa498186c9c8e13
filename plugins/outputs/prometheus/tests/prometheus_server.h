#pragma once
// A real Prometheus (Debian's binary) on a free loopback port in a temp dir, for the tests and the
// bench. stop() and start() again keep the port and the TSDB, like a restart in production.

#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "free_port.h"

namespace cvagent::outputs::prometheus::testing {

inline int freePort() { return cvagent::testing::freeLoopbackPort(); }

// GET `url`; returns the HTTP status (0 on a transport error) and fills `body`.
inline long httpGet(const std::string& url, std::string& body) {
  CURL* curl = curl_easy_init();
  body.clear();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* user) {
        static_cast<std::string*>(user)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

inline std::string urlEncode(const std::string& text) {
  CURL* curl = curl_easy_init();
  char* out = curl_easy_escape(curl, text.c_str(), static_cast<int>(text.size()));
  std::string result(out);
  curl_free(out);
  curl_easy_cleanup(curl);
  return result;
}

class PrometheusServer {
 public:
  // `scrape_target`: host:port scraped every 1 s (empty: none). `receiver`: accept remote write.
  explicit PrometheusServer(bool receiver, std::string scrape_target = {})
      : port_(freePort()), receiver_(receiver) {
    char pattern[] = "/tmp/cvagent-prometheus-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::ofstream config(dir_ / "prometheus.yml");
    config << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n";
    if (!scrape_target.empty()) {
      config << "scrape_configs:\n  - job_name: cvagent\n    scrape_interval: 1s\n"
             << "    static_configs: [{targets: [\"" << scrape_target << "\"]}]\n";
    }
  }
  ~PrometheusServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static bool available() { return ::access(binary(), X_OK) == 0; }
  static const char* binary() {
    const char* env = std::getenv("PROMETHEUS");
    return env ? env : CVAGENT_PROMETHEUS_BIN;
  }

  void start() {
    std::vector<std::string> args = {
        binary(),
        "--config.file=" + (dir_ / "prometheus.yml").string(),
        "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
        "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--log.level=warn",
    };
    if (receiver_) args.emplace_back("--web.enable-remote-write-receiver");
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string log = (dir_ / "prometheus.log").string();
      std::FILE* out = std::freopen(log.c_str(), "a", stderr);
      (void)out;
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string body;
    while (httpGet(url() + "/-/ready", body) != 200) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("not ready");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string writeUrl() const { return url() + "/api/v1/write"; }

  // The JSON answer of an instant query at `time_s` (0: now).
  std::string query(const std::string& promql, double time_s = 0) const {
    std::string target = url() + "/api/v1/query?query=" + urlEncode(promql);
    if (time_s > 0) target += "&time=" + std::to_string(time_s);
    std::string body;
    if (httpGet(target, body) != 200) throw std::runtime_error("query failed: " + body);
    return body;
  }

 private:
  std::filesystem::path dir_;
  int port_;
  bool receiver_;
  pid_t pid_ = -1;
};

}  // namespace cvagent::outputs::prometheus::testing

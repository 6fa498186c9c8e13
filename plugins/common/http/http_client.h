#pragma once
// The one HTTP client of the plugins (plugins/common/http, library cvagent_common_http): GETs with
// libcurl's multi interface, hardened by default: timeouts, TLS verified, a body size limit,
// bounded redirects, http/https only (redirects too), gzip, a user agent, errors that say what
// went wrong. Concurrent requests with a politeness delay per host, conditional requests
// (ETag / Last-Modified), and an abort that works from another thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cvagent::common::http {

struct HttpRequest {
  std::string url;
  std::string etag;                            // sent as If-None-Match when set
  std::string last_modified;                   // sent as If-Modified-Since when set
  std::uint64_t max_bytes = kDefaultMaxBytes;  // larger bodies fail; 0: no limit
  static constexpr std::uint64_t kDefaultMaxBytes = 64 << 20;
};

struct HttpResponse {
  long status = 0;  // 0 when the transfer failed
  std::string body;
  std::string etag;
  std::string last_modified;
  std::string content_type;
  std::string effective_url;
  std::string error;  // set when the transfer failed (or the body was too large)
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // What went wrong, for a message: the transfer error, else "HTTP <status>"; "" when ok().
  std::string problem() const;
};

struct HttpSettings {
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds connect_timeout{5000};
  long max_redirects = 5;
  std::string user_agent = "cvagent";
  bool verify_tls = true;
  std::string ca_file;
  std::size_t max_concurrency = 4;
  // Minimum time between the end of one request to a host and the start of the next one; with
  // a non-zero delay a host also gets one request at a time.
  std::chrono::milliseconds per_host_delay{0};
  // Also aborts transfers in flight when it becomes true (an input's own stop flag); may be null.
  const std::atomic<bool>* cancelled = nullptr;
};

class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Fetches all; responses in request order. Returns early (unfinished ones with error
  // "aborted") once abort() is called.
  std::vector<HttpResponse> fetchAll(const std::vector<HttpRequest>& requests);
  HttpResponse get(const HttpRequest& request) { return std::move(fetchAll({request}).front()); }

  // Thread-safe; sticky.
  void abort();
  bool aborted() const { return aborted_.load(); }

  static std::string hostOf(const std::string& url);

 private:
  HttpSettings settings_;
  std::atomic<bool> aborted_{false};
  std::mutex mu_;
  void* multi_ = nullptr;  // the CURLM of the running fetchAll, for wake-ups
};

}  // namespace cvagent::common::http

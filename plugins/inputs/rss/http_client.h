#pragma once
// Concurrent HTTP GETs with libcurl's multi interface: bounded concurrency, a politeness delay
// per host, conditional requests, size limits, bounded redirects, gzip, http/https only, and an
// abort that works from another thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace cvagent::inputs::rss {

struct HttpRequest {
  std::string url;
  std::string etag;           // sent as If-None-Match when set
  std::string last_modified;  // sent as If-Modified-Since when set
  std::uint64_t max_bytes = 0;
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

}  // namespace cvagent::inputs::rss

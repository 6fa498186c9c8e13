#pragma once
// Prometheus remote write 1.0 sender: a WriteRequest (protobuf), snappy block compressed, POSTed
// with the spec's headers over one kept-alive libcurl handle.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "series_mapping.h"

namespace cvagent::outputs::prometheus {

namespace prompb {
class WriteRequest;
}

struct RemoteWriteOptions {
  std::string url;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::string bearer_token;  // empty: no Authorization header
  bool tls_verify = true;
};

struct PostResult {
  long status = 0;    // HTTP status; 0 when the request never got an answer
  std::string error;  // transport error (connection refused, timeout)
  std::string body;   // response body, for 4xx reasons
};

// Builds one request from samples added in any order: samples of a series are grouped and sorted
// by time, as the spec wants.
class WriteRequestBuilder {
 public:
  WriteRequestBuilder();
  ~WriteRequestBuilder();
  void add(const std::string& name, const std::vector<LabelPair>& labels, double value,
           std::int64_t timestamp_ms);
  std::size_t samples() const { return samples_; }
  void clear();
  // Serializes and snappy-compresses the request into `out`.
  void encode(std::string& out);

 private:
  std::unique_ptr<prompb::WriteRequest> request_;
  std::vector<std::pair<std::string, int>> index_;  // series key -> timeseries index (sorted)
  std::string key_;
  std::string raw_;
  std::size_t samples_ = 0;
};

class RemoteWriteClient {
 public:
  explicit RemoteWriteClient(RemoteWriteOptions options);
  ~RemoteWriteClient();
  RemoteWriteClient(const RemoteWriteClient&) = delete;
  RemoteWriteClient& operator=(const RemoteWriteClient&) = delete;

  PostResult post(const std::string& compressed_body);

 private:
  RemoteWriteOptions options_;
  void* curl_ = nullptr;     // CURL*
  void* headers_ = nullptr;  // curl_slist*
  std::string response_;
};

// Prometheus answers 400 when a sample is older than (or at the same time as, with another value)
// the newest one it holds for the series: no retry can store it.
bool isOutOfOrderAnswer(const PostResult& result);

}  // namespace cvagent::outputs::prometheus

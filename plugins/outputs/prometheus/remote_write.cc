#include "remote_write.h"

#include <curl/curl.h>
#include <snappy.h>

#include <algorithm>
#include <stdexcept>

#include "remote.pb.h"

namespace cvagent::outputs::prometheus {

namespace {

std::size_t appendBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  // A reason is enough: keep at most 4 KiB of an error page.
  const std::size_t room = body->size() < 4096 ? 4096 - body->size() : 0;
  body->append(data, std::min(room, size * count));
  return size * count;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

WriteRequestBuilder::WriteRequestBuilder() : request_(std::make_unique<prompb::WriteRequest>()) {}
WriteRequestBuilder::~WriteRequestBuilder() = default;

void WriteRequestBuilder::add(const std::string& name, const std::vector<LabelPair>& labels,
                              double value, std::int64_t timestamp_ms) {
  makeSeriesKey(key_, name, labels);
  // Most batches hold few series with many samples, or many series once: a sorted vector of
  // keys beats a hash map here and keeps no allocation per lookup.
  auto it =
      std::lower_bound(index_.begin(), index_.end(), key_,
                       [](const auto& entry, const std::string& k) { return entry.first < k; });
  prompb::TimeSeries* series;
  if (it != index_.end() && it->first == key_) {
    series = request_->mutable_timeseries(it->second);
  } else {
    index_.insert(it, {key_, request_->timeseries_size()});
    series = request_->add_timeseries();
    // Labels sorted by name: `__name__` sorts before any lowercase label name.
    bool name_done = false;
    auto add_name = [&] {
      auto* l = series->add_labels();
      l->set_name("__name__");
      l->set_value(name);
      name_done = true;
    };
    for (const LabelPair& label : labels) {
      if (!name_done && label.name > "__name__") add_name();
      auto* l = series->add_labels();
      l->set_name(label.name);
      l->set_value(label.value);
    }
    if (!name_done) add_name();
  }
  auto* sample = series->add_samples();
  sample->set_value(value);
  sample->set_timestamp(timestamp_ms);
  ++samples_;
}

void WriteRequestBuilder::clear() {
  request_->Clear();
  index_.clear();
  samples_ = 0;
}

void WriteRequestBuilder::encode(std::string& out) {
  for (auto& series : *request_->mutable_timeseries()) {
    auto* samples = series.mutable_samples();
    std::stable_sort(samples->begin(), samples->end(),
                     [](const prompb::Sample& a, const prompb::Sample& b) {
                       return a.timestamp() < b.timestamp();
                     });
  }
  raw_.clear();
  request_->SerializeToString(&raw_);
  out.clear();
  snappy::Compress(raw_.data(), raw_.size(), &out);
}

RemoteWriteClient::RemoteWriteClient(RemoteWriteOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_ = curl;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
  headers = curl_slist_append(headers, "Content-Encoding: snappy");
  headers = curl_slist_append(headers, "X-Prometheus-Remote-Write-Version: 0.1.0");
  headers = curl_slist_append(headers, "User-Agent: cvagent");
  if (!options_.bearer_token.empty()) {
    headers =
        curl_slist_append(headers, ("Authorization: Bearer " + options_.bearer_token).c_str());
  }
  headers_ = headers;
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(options_.timeout.count(), 5000)));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response_);
}

RemoteWriteClient::~RemoteWriteClient() {
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

PostResult RemoteWriteClient::post(const std::string& compressed_body) {
  CURL* curl = static_cast<CURL*>(curl_);
  response_.clear();
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, compressed_body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(compressed_body.size()));
  PostResult result;
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    return result;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  result.body = std::move(response_);
  while (!result.body.empty() && (result.body.back() == '\n' || result.body.back() == '\r')) {
    result.body.pop_back();
  }
  return result;
}

bool isOutOfOrderAnswer(const PostResult& result) {
  if (result.status != 400) return false;
  const std::string& body = result.body;
  return body.find("out of order") != std::string::npos ||
         body.find("duplicate sample") != std::string::npos ||
         body.find("out of bounds") != std::string::npos ||
         body.find("too old") != std::string::npos;
}

}  // namespace cvagent::outputs::prometheus

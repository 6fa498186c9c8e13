#include "http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>

namespace cvagent::common::http {
namespace {

using Clock = std::chrono::steady_clock;

void globalInit() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct Transfer {
  std::size_t index = 0;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string host;
  bool too_large = false;
  const std::atomic<bool>* aborted = nullptr;
  const std::atomic<bool>* cancelled = nullptr;
  char error[CURL_ERROR_SIZE] = {};
};

std::size_t onBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (t->request->max_bytes > 0 && t->response->body.size() + len > t->request->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, len);
  return len;
}

std::string_view trimHeader(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
    v.remove_suffix(1);
  }
  return v;
}

bool headerIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char a = line[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != name[i]) return false;
  }
  return true;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {  // a new response in a redirect chain
    t->response->etag.clear();
    t->response->last_modified.clear();
    t->response->content_type.clear();
  } else if (headerIs(line, "etag")) {
    t->response->etag = std::string(trimHeader(line.substr(5)));
  } else if (headerIs(line, "last-modified")) {
    t->response->last_modified = std::string(trimHeader(line.substr(14)));
  } else if (headerIs(line, "content-type")) {
    t->response->content_type = std::string(trimHeader(line.substr(13)));
  }
  return size * n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<Transfer*>(user);
  return t->aborted->load() || (t->cancelled != nullptr && t->cancelled->load()) ? 1 : 0;
}

}  // namespace

std::string HttpResponse::problem() const {
  if (!error.empty()) return error;
  if (ok()) return std::string();
  return "HTTP " + std::to_string(status);
}

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) { globalInit(); }

HttpClient::~HttpClient() = default;

void HttpClient::abort() {
  aborted_.store(true);
  std::lock_guard lock(mu_);
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

std::string HttpClient::hostOf(const std::string& url) {
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  std::string host = url.substr(start, end - start);
  const std::size_t at = host.rfind('@');
  if (at != std::string::npos) host.erase(0, at + 1);
  return host;
}

std::vector<HttpResponse> HttpClient::fetchAll(const std::vector<HttpRequest>& requests) {
  std::vector<HttpResponse> responses(requests.size());
  if (requests.empty()) return responses;
  CURLM* multi = curl_multi_init();
  {
    std::lock_guard lock(mu_);
    multi_ = multi;
  }
  std::vector<std::unique_ptr<Transfer>> transfers;
  std::deque<Transfer*> pending;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto t = std::make_unique<Transfer>();
    t->index = i;
    t->request = &requests[i];
    t->response = &responses[i];
    t->host = hostOf(requests[i].url);
    t->aborted = &aborted_;
    t->cancelled = settings_.cancelled;
    pending.push_back(t.get());
    transfers.push_back(std::move(t));
  }
  std::map<std::string, Clock::time_point> host_ready;
  std::map<std::string, int> host_active;
  std::size_t active = 0;
  const bool polite = settings_.per_host_delay.count() > 0;

  auto start = [&](Transfer* t) {
    CURL* e = curl_easy_init();
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->request->url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, settings_.max_redirects);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl supports (gzip...)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, settings_.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, settings_.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, settings_.verify_tls ? 2L : 0L);
    if (!settings_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, settings_.ca_file.c_str());
    if (t->request->max_bytes > 0) {
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(t->request->max_bytes));
    }
    if (!t->request->etag.empty()) {
      t->headers = curl_slist_append(t->headers, ("If-None-Match: " + t->request->etag).c_str());
    }
    if (!t->request->last_modified.empty()) {
      t->headers = curl_slist_append(t->headers,
                                     ("If-Modified-Since: " + t->request->last_modified).c_str());
    }
    if (t->headers != nullptr) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_multi_add_handle(multi, e);
    ++active;
    ++host_active[t->host];
  };

  auto finish = [&](Transfer* t, CURLcode code) {
    HttpResponse& r = *t->response;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
    char* eff = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) {
      r.effective_url = eff;
    }
    if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
      r.error = "response larger than " + std::to_string(t->request->max_bytes) + " bytes";
    } else if (code == CURLE_ABORTED_BY_CALLBACK) {
      r.error = "aborted";
    } else if (code == CURLE_TOO_MANY_REDIRECTS) {
      r.error = "more than " + std::to_string(settings_.max_redirects) + " redirects";
    } else if (code != CURLE_OK) {
      r.error = t->error[0] != '\0' ? std::string(t->error) : curl_easy_strerror(code);
    }
    curl_multi_remove_handle(multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    t->easy = nullptr;
    t->headers = nullptr;
    --active;
    --host_active[t->host];
    host_ready[t->host] = Clock::now() + settings_.per_host_delay;
  };

  const auto stopping = [&] {
    return aborted_.load() || (settings_.cancelled != nullptr && settings_.cancelled->load());
  };
  while ((!pending.empty() || active > 0) && !stopping()) {
    const auto now = Clock::now();
    auto next_ready = Clock::time_point::max();
    for (auto it = pending.begin(); it != pending.end() && active < settings_.max_concurrency;) {
      Transfer* t = *it;
      const auto ready = host_ready.count(t->host) ? host_ready[t->host] : now;
      if (polite && (host_active[t->host] > 0 || ready > now)) {
        if (host_active[t->host] == 0) next_ready = std::min(next_ready, ready);
        ++it;
        continue;
      }
      start(t);
      it = pending.erase(it);
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    bool finished_any = false;
    while (CURLMsg* msg = curl_multi_info_read(multi, &running)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      finish(t, msg->data.result);
      finished_any = true;
    }
    if (pending.empty() && active == 0) break;
    if (finished_any) continue;  // a slot or a host may be free now: schedule before waiting
    int wait_ms = 200;
    if (next_ready != Clock::time_point::max() && active == 0) {
      wait_ms = static_cast<int>(std::clamp<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(next_ready - Clock::now()).count(),
          0, 200));
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  // Aborted: whatever is still running or waiting ends here.
  for (auto& t : transfers) {
    if (t->easy != nullptr) {
      curl_multi_remove_handle(multi, t->easy);
      curl_easy_cleanup(t->easy);
      curl_slist_free_all(t->headers);
      t->easy = nullptr;
      t->response->error = "aborted";
    }
  }
  for (Transfer* t : pending) t->response->error = "aborted";
  {
    std::lock_guard lock(mu_);
    multi_ = nullptr;
  }
  curl_multi_cleanup(multi);
  return responses;
}

}  // namespace cvagent::common::http

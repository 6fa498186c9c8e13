// The shared HTTP client against a real server on loopback (tests/fakes/feed_server.py).
#include "http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "feed_server.h"

namespace cvagent::common::http {
namespace {

using namespace std::chrono_literals;

class HttpClientTest : public ::testing::Test {
 protected:
  HttpRequest request(const std::string& path) const {
    HttpRequest r;
    r.url = server_.url(path);
    return r;
  }
  cvagent::test::FeedServer server_;
};

TEST_F(HttpClientTest, GzipBodiesAreDecoded) {
  HttpClient client(HttpSettings{});
  const HttpResponse plain = client.get(request("/plain/crypto/decrypt.rss"));
  const HttpResponse gzipped = client.get(request("/gzip/crypto/decrypt.rss"));
  ASSERT_TRUE(plain.ok()) << plain.problem();
  ASSERT_TRUE(gzipped.ok()) << gzipped.problem();
  EXPECT_FALSE(plain.body.empty());
  EXPECT_EQ(gzipped.body, plain.body);
}

TEST_F(HttpClientTest, BodiesOverTheLimitFail) {
  HttpClient client(HttpSettings{});
  HttpRequest huge = request("/huge");
  huge.max_bytes = 1 << 20;
  const HttpResponse r = client.get(huge);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.problem(), "response larger than 1048576 bytes");
}

TEST_F(HttpClientTest, RedirectsAreBounded) {
  HttpSettings settings;
  settings.max_redirects = 3;
  HttpClient client(settings);
  EXPECT_EQ(client.get(request("/loop")).problem(), "more than 3 redirects");
  const HttpResponse followed = client.get(request("/redirect/crypto/decrypt.rss"));
  EXPECT_TRUE(followed.ok()) << followed.problem();
  EXPECT_EQ(followed.effective_url, server_.url("/feeds/crypto/decrypt.rss"));
}

TEST_F(HttpClientTest, StatusAndTransportErrorsSayWhat) {
  HttpClient client(HttpSettings{});
  const HttpResponse unavailable = client.get(request("/status/503"));
  EXPECT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.problem(), "HTTP 503");
  // Only http and https: no file:// reads through a configured URL.
  HttpRequest file;
  file.url = "file:///etc/hostname";
  EXPECT_FALSE(client.get(file).problem().empty());
}

TEST_F(HttpClientTest, SlowServersTimeOut) {
  HttpSettings settings;
  settings.timeout = 500ms;
  HttpClient client(settings);
  const auto start = std::chrono::steady_clock::now();
  const HttpResponse r = client.get(request("/slow/10"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.problem().find("timed out"), std::string::npos) << r.problem();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(HttpClientTest, ACancelFlagAbortsATransferInFlight) {
  std::atomic<bool> cancelled{false};
  HttpSettings settings;
  settings.cancelled = &cancelled;
  HttpClient client(settings);
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancelled = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const HttpResponse r = client.get(request("/slow/10"));
  canceller.join();
  EXPECT_EQ(r.problem(), "aborted");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace cvagent::common::http

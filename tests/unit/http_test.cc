// /health and /metrics over real HTTP.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "observability/http_server.h"
#include "observability/telemetry.h"

namespace cvagent::observability {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

http::response<http::string_body> get(unsigned short port, const std::string& target) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

TEST(HttpServerTest, HealthFollowsPluginStates) {
  Telemetry telemetry;
  SystemClock clock;
  HttpServer server(telemetry);
  server.start("127.0.0.1:0");
  ASSERT_NE(server.port(), 0);

  auto res = get(server.port(), "/health");
  EXPECT_EQ(res.result_int(), 503) << "not running yet";

  InstanceContext kraken("inputs.kraken", "input", telemetry, clock, "/tmp");
  telemetry.setAgentState("running");
  kraken.setHealth(HealthState::kOk, "");
  res = get(server.port(), "/health");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_NE(res.body().find(R"("id":"inputs.kraken","kind":"input","state":"ok")"),
            std::string::npos)
      << res.body();

  kraken.setHealth(HealthState::kDegraded, "reconnecting");
  EXPECT_EQ(get(server.port(), "/health").result_int(), 200) << "degraded is still up";
  kraken.setHealth(HealthState::kFailed, "subscription refused");
  res = get(server.port(), "/health");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_NE(res.body().find("subscription refused"), std::string::npos);
  EXPECT_EQ(get(server.port(), "/nope").result_int(), 404);
  server.stop();
}

TEST(HttpServerTest, MetricsInPrometheusTextFormat) {
  Telemetry telemetry;
  SystemClock clock;
  InstanceContext ctx("inputs.kraken", "input", telemetry, clock, "/tmp");
  ctx.counter("reconnects_total", "Reconnections").inc(3);
  ctx.gauge("lag_seconds", "Lag").set(1.5);
  HttpServer server(telemetry);
  server.start("127.0.0.1:0");
  auto res = get(server.port(), "/metrics");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("# TYPE cvagent_reconnects_total counter"), std::string::npos);
  EXPECT_NE(res.body().find("cvagent_reconnects_total{plugin=\"inputs.kraken\"} 3"),
            std::string::npos)
      << res.body();
  EXPECT_NE(res.body().find("cvagent_lag_seconds{plugin=\"inputs.kraken\"} 1.5"),
            std::string::npos);
  EXPECT_NE(res.body().find("cvagent_build_info{version=\""), std::string::npos);
}

TEST(HttpServerTest, BadAddressesAreClearErrors) {
  Telemetry telemetry;
  HttpServer a(telemetry);
  EXPECT_THROW(a.start("nonsense"), std::runtime_error);
  HttpServer b(telemetry);
  b.start("127.0.0.1:0");
  HttpServer c(telemetry);
  try {
    c.start("127.0.0.1:" + std::to_string(b.port()));
    FAIL() << "the port is taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:"), std::string::npos);
  }
}

}  // namespace
}  // namespace cvagent::observability

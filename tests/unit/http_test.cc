// /health and /metrics over real HTTP.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "observability/http_server.h"
#include "observability/service_manager.h"
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

// Liveness and readiness differ: an output that retries keeps /health at 200 (a restart would not
// fix a remote outage) but makes /ready 503 until it is connected again.
TEST(HttpServerTest, ReadyWaitsForEveryOutputToConnect) {
  Telemetry telemetry;
  SystemClock clock;
  HttpServer server(telemetry);
  server.start("127.0.0.1:0");
  InstanceContext kraken("inputs.kraken", "input", telemetry, clock, "/tmp");
  InstanceContext kafka("outputs.kafka", "output", telemetry, clock, "/tmp");
  InstanceContext pg("outputs.timescale", "output", telemetry, clock, "/tmp");
  telemetry.setAgentState("starting");
  EXPECT_EQ(get(server.port(), "/ready").result_int(), 503) << "not running yet";

  telemetry.setAgentState("running");
  kraken.setHealth(HealthState::kDegraded, "connection refused; reconnecting in 500 ms");
  telemetry.setConnected("outputs.kafka", true);
  pg.setHealth(HealthState::kDegraded, "connect failed: connection refused");
  auto res = get(server.port(), "/ready");
  EXPECT_EQ(res.result_int(), 503) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_NE(res.body().find(R"("status":"not ready")"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find(R"("id":"outputs.timescale")"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("connect failed: connection refused"), std::string::npos);
  EXPECT_EQ(res.body().find(R"("id":"outputs.kafka")"), std::string::npos) << "kafka is connected";
  EXPECT_EQ(res.body().find("inputs.kraken"), std::string::npos) << "inputs do not gate readiness";
  EXPECT_EQ(get(server.port(), "/health").result_int(), 200) << "alive while it retries";

  telemetry.setConnected("outputs.timescale", true);
  res = get(server.port(), "/readyz");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find(R"("status":"ready","agent":"running","waiting_for":[])"),
            std::string::npos)
      << res.body();

  telemetry.setConnected("outputs.kafka", false);  // a write failed
  EXPECT_EQ(get(server.port(), "/ready").result_int(), 503);
  telemetry.setConnected("outputs.kafka", true);
  kraken.setHealth(HealthState::kFailed, "cannot open replay file x");
  EXPECT_EQ(get(server.port(), "/ready").result_int(), 503) << "a failed plugin is never ready";
  kraken.setHealth(HealthState::kOk, "");
  telemetry.setAgentState("stopping");
  EXPECT_EQ(get(server.port(), "/ready").result_int(), 503) << "draining: take it out of rotation";
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

  // Health as a metric, for dashboards: 2 is degraded.
  ctx.setHealth(HealthState::kDegraded, "reconnecting");
  res = get(server.port(), "/metrics");
  EXPECT_NE(res.body().find(R"(cvagent_plugin_state{kind="input",plugin="inputs.kraken"} 2)"),
            std::string::npos)
      << res.body();
  // The process's own figures under the standard names, with plausible values.
  auto value = [&](const std::string& name) {
    const auto at = res.body().find("\n" + name + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(res.body().substr(at + name.size() + 2));
  };
  EXPECT_GT(value("process_resident_memory_bytes"), 1e6) << res.body();
  EXPECT_GE(value("process_virtual_memory_bytes"), value("process_resident_memory_bytes"));
  EXPECT_GE(value("process_cpu_seconds_total"), 0.0);
  EXPECT_GE(value("process_open_fds"), 3.0);
  const double started = value("process_start_time_seconds");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(started, now - 3600) << "started within the last hour";
  EXPECT_LE(started, now + 1);
}

TEST(HttpServerTest, LastDataTimestampPerOutput) {
  Telemetry telemetry;
  SystemClock clock;
  InstanceContext ctx("outputs.file", "output", telemetry, clock, "/tmp");
  telemetry.markData("outputs.file", 1'700'000'000'500'000'000);
  EXPECT_NE(telemetry.scrape().find(
                R"(cvagent_last_data_timestamp_seconds{plugin="outputs.file"} 1700000000.5)"),
            std::string::npos)
      << telemetry.scrape();
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
    // Names the address, says it is taken and what to do.
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(b.port())), std::string::npos) << what;
    EXPECT_NE(what.find("already in use"), std::string::npos) << what;
    EXPECT_NE(what.find("set agent.http"), std::string::npos) << what;
  }
}

// systemd's Type=notify: the agent's lines reach the socket $NOTIFY_SOCKET names, one datagram
// each; without the variable nothing is sent.
TEST(ServiceManagerTest, ReadyReloadingAndStoppingReachTheNotifySocket) {
  char dir_template[] = "/tmp/cvagent-notify.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/notify";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  auto receive = [&] {
    char buffer[512];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    return n < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(n));
  };

  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(notifyReady("running"));
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_TRUE(notifyReady("running: 1 inputs"));
  EXPECT_EQ(receive(), "READY=1\nSTATUS=running: 1 inputs");
  EXPECT_TRUE(notifyReloading());
  const std::string reloading = receive();
  EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
  EXPECT_TRUE(notifyStopping());
  EXPECT_EQ(receive(), "STOPPING=1");
  ::unsetenv("NOTIFY_SOCKET");
  ::close(fd);
  std::filesystem::remove_all(dir_template);
}

}  // namespace
}  // namespace cvagent::observability

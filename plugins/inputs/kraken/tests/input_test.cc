// KrakenInput against a fake exchange on loopback (fake_exchange.py: WebSocket v2, plain or TLS,
// plus a REST stand-in), started by each test on port 0.
#include "kraken_input.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/test_context.h"
#include "recording.h"
#include "rest_client.h"

namespace cvagent::inputs::kraken {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::TestContext;
using namespace std::chrono_literals;

const std::string kData = CVAGENT_TEST_DATA;
const std::string kSession = std::string(CVAGENT_SHARED_TEST_DATA) + "/kraken/ws_v2_session.jsonl";

class FakeExchange {
 public:
  explicit FakeExchange(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/python3", CVAGENT_PLUGIN_DIR "/tests/fake_exchange.py",
                               "--recording", kSession});
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[256] = {};
    if (!std::fgets(line, sizeof line, out_) ||
        std::sscanf(line, R"({"ws_port": %d, "http_port": %d})", &ws_port_, &http_port_) != 2) {
      throw std::runtime_error(std::string("fake exchange did not start: ") + line);
    }
  }
  ~FakeExchange() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    std::fclose(out_);
  }
  std::string wsUrl(const char* host = "127.0.0.1", bool tls = false) const {
    return fmt::format("{}://{}:{}/v2", tls ? "wss" : "ws", host, ws_port_);
  }
  std::string restUrl(const char* host = "127.0.0.1", bool tls = false) const {
    return fmt::format("{}://{}:{}", tls ? "https" : "http", host, http_port_);
  }
  int stat(const std::string& name) const {
    std::atomic<bool> never{false};
    const std::string body = RestClient(restUrl(), "", 5s, never).get("/_stats");
    std::smatch m;
    if (!std::regex_search(body, m, std::regex("\"" + name + "\": (\\d+)"))) return -1;
    return std::stoi(m[1]);
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int ws_port_ = 0;
  int http_port_ = 0;
};

// (pair, trade id) of every trade in the recording, read with a regex, not with the decoder.
std::multiset<std::pair<std::string, std::int64_t>> recordedTrades(
    const std::set<std::string>& pairs) {
  std::ifstream in(kSession);
  std::multiset<std::pair<std::string, std::int64_t>> out;
  const std::regex entry(R"re("symbol":"([A-Z]+/[A-Z]+)","side":"[a-z]+".*?"trade_id":(\d+))re");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(R"({"channel":"trade")", 0) != 0) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), entry), end; it != end; ++it) {
      if (pairs.count((*it)[1])) out.insert({(*it)[1], std::stoll((*it)[2])});
    }
  }
  return out;
}

std::multiset<std::pair<std::string, std::int64_t>> tradesOf(const std::vector<Metric>& metrics) {
  std::multiset<std::pair<std::string, std::int64_t>> out;
  for (const auto& m : metrics) {
    if (m.name() == "trade") {
      out.insert({*m.tag("pair"), std::get<std::int64_t>(*m.field("trade_id"))});
    }
  }
  return out;
}

// A deadline for things that happen asynchronously, not a speed assertion.
bool waitFor(const std::function<bool()>& done, std::chrono::seconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

KrakenOptions optionsFor(const FakeExchange& fx, std::vector<std::string> pairs) {
  KrakenOptions o;
  o.url = fx.wsUrl();
  o.rest_url = fx.restUrl();
  o.pairs = std::move(pairs);
  o.channels = {"ticker", "trade"};
  o.reconnect_initial = 50ms;
  o.reconnect_max = 500ms;
  o.connect_timeout = 5s;
  return o;
}

const std::vector<std::string> kAllPairs = {"BTC/USD", "ETH/USD", "SOL/USD"};

TEST(KrakenInput, StreamsEveryTradeExactlyOnceAcrossADroppedConnection) {
  // Drop after 150 data frames; 60 frames happen while the client is away; a resubscribe's
  // snapshot holds only 5 trades per pair, so the rest must come from REST.
  FakeExchange fx({"--drop-after", "150", "--gap", "60", "--snapshot-size", "5"});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenInput input(optionsFor(fx, kAllPairs), ctx);
  ASSERT_TRUE(input.isStreaming());
  input.start(out);
  const auto expected = recordedTrades({kAllPairs.begin(), kAllPairs.end()});
  ASSERT_GT(expected.size(), 300u);
  EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
  std::this_thread::sleep_for(200ms);  // anything extra (a duplicate) would show up now
  input.stop();
  EXPECT_EQ(tradesOf(out.snapshot()), expected);
  EXPECT_GE(ctx.counterValue("reconnects_total"), 1);
  EXPECT_GT(ctx.counterValue("backfilled_trades_total"), 0);
  // Issue 16: what the dedup skipped is counted and said, not silently dropped: the resubscribe's
  // snapshot and the REST page both start with trades the stream had delivered.
  EXPECT_GT(ctx.counterValue("duplicate_trades_total"), 0);
  EXPECT_EQ(ctx.counterValue("out_of_order_trades_total"), 0);
  EXPECT_TRUE(ctx.logger().contains("rows skipped as already delivered by the stream"));
  EXPECT_GE(fx.stat("rest_requests"), 1);
  EXPECT_EQ(ctx.counterValue("malformed_frames_total"), 0);
  for (const auto& m : out.snapshot()) {
    ASSERT_GT(m.time(), 1'700'000'000'000'000'000);  // the exchange's time, not zero
  }
}

TEST(KrakenInput, StalledConnectionIsDetectedAndReconnected) {
  FakeExchange fx({"--stall-after", "100"});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  auto options = optionsFor(fx, kAllPairs);
  options.stall_timeout = 300ms;
  KrakenInput input(options, ctx);
  input.start(out);
  const auto expected = recordedTrades({kAllPairs.begin(), kAllPairs.end()});
  EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
  input.stop();
  EXPECT_EQ(tradesOf(out.snapshot()), expected);
  EXPECT_GE(ctx.counterValue("stalls_total"), 1);
  EXPECT_GE(ctx.counterValue("reconnects_total"), 1);
  EXPECT_GE(fx.stat("connections"), 2);
  EXPECT_TRUE(ctx.logger().contains("stalled", LogLevel::kWarn));
}

TEST(KrakenInput, UnknownPairIsAClearErrorWhileTheOtherPairsFlow) {
  FakeExchange fx({"--reject-pair", "XBT/USD"});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenInput input(optionsFor(fx, {"BTC/USD", "XBT/USD"}), ctx);
  input.start(out);
  const auto expected = recordedTrades({"BTC/USD"});
  EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
  input.stop();
  EXPECT_EQ(tradesOf(out.snapshot()), expected);
  EXPECT_TRUE(ctx.logger().contains("pair XBT/USD refused by Kraken: Currency pair not supported",
                                    LogLevel::kError));
  EXPECT_EQ(ctx.counterValue("subscription_errors_total"), 2);  // ticker and trade
  EXPECT_EQ(ctx.health(), HealthState::kDegraded);
  EXPECT_NE(ctx.healthDetail().find("XBT/USD"), std::string::npos);
}

TEST(KrakenInput, MalformedFramesAreCountedAndTheStreamGoesOn) {
  // Every line of ws_v2_malformed.jsonl first (the invalid UTF-8 one as a binary frame), then the
  // session. BTC/USD is left out: line 36 is a valid BTC/USD trade with an id from the future.
  FakeExchange fx({"--garbage", kData + "/ws_v2_malformed.jsonl"});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenInput input(optionsFor(fx, {"ETH/USD", "SOL/USD"}), ctx);
  input.start(out);
  const auto expected = recordedTrades({"ETH/USD", "SOL/USD"});
  EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
  input.stop();
  EXPECT_EQ(tradesOf(out.snapshot()), expected);
  EXPECT_GE(ctx.counterValue("malformed_frames_total"), 15);
  EXPECT_GE(ctx.counterValue("foreign_records_total"), 6991);  // the 1 MiB XRP/USD frame
  EXPECT_EQ(ctx.counterValue("reconnects_total"), 0);
  EXPECT_TRUE(ctx.logger().contains("malformed frame", LogLevel::kWarn));
  // Rate-limited: about 30 bad frames arrive within a second, at most 5 lines are written.
  std::size_t malformed_lines = 0;
  for (const auto& line : ctx.logger().lines()) {
    if (line.message.find("malformed frame") != std::string::npos) ++malformed_lines;
  }
  EXPECT_LE(malformed_lines, 5u);
  for (const auto& m : out.snapshot()) {
    for (const auto& f : m.fields()) {
      if (const auto* d = std::get_if<double>(&f.value)) {
        ASSERT_TRUE(std::isfinite(*d));
      }
    }
  }
}

TEST(KrakenInput, PingsTheServer) {
  FakeExchange fx({});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  auto options = optionsFor(fx, kAllPairs);
  options.ping_interval = 100ms;
  KrakenInput input(options, ctx);
  input.start(out);
  EXPECT_TRUE(waitFor([&] { return fx.stat("pings") >= 2; }));
  input.stop();
}

TEST(KrakenInput, BookChecksumMismatchResubscribesAndRecovers) {
  // The real BTC/USD depth-10 capture; the 5th update's checksum is corrupted on the wire.
  const std::string capture = kData + "/kraken_btcusd_d10_20260816.head.ndjson";
  FakeExchange fx({"--recording", capture, "--corrupt-checksum", "5"});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  auto options = optionsFor(fx, {"BTC/USD"});
  options.channels = {"book"};
  KrakenInput input(options, ctx);
  input.start(out);
  // The checksum of the capture's last update: the book the resubscribe's snapshot must give.
  std::int64_t last_checksum = -1;
  {
    std::ifstream in(capture);
    std::string line;
    const std::regex checksum(R"("checksum":(\d+))");
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, checksum)) last_checksum = std::stoll(m[1]);
    }
  }
  const auto lastBookChecksum = [&] {
    const auto metrics = out.snapshot();
    for (auto it = metrics.rbegin(); it != metrics.rend(); ++it) {
      if (it->name() == "book") return std::get<std::int64_t>(*it->field("checksum"));
    }
    return std::int64_t{-1};
  };
  EXPECT_TRUE(waitFor([&] { return fx.stat("book_subscribes") >= 2; }));
  EXPECT_TRUE(waitFor([&] { return lastBookChecksum() == last_checksum; }));
  input.stop();
  EXPECT_EQ(ctx.counterValue("book_resyncs_total"), 1);  // once, not once per later update
  EXPECT_EQ(fx.stat("book_subscribes"), 2);
  EXPECT_EQ(ctx.counterValue("reconnects_total"), 0);
  EXPECT_TRUE(ctx.logger().contains("book checksum mismatch for BTC/USD", LogLevel::kWarn));
}

// A TCP port that was free a moment ago and that nobody listens on.
void freePort(int& port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  close(fd);
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "kraken-test-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A self-signed certificate for localhost, made with the openssl CLI at test time.
void makeCertificate(const TempDir& dir) {
  const std::string cmd = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null",
      dir.file("key.pem"), dir.file("cert.pem"));
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST(KrakenInput, TlsWithATrustedCaStreams) {
  TempDir dir;
  makeCertificate(dir);
  FakeExchange fx({"--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  auto options = optionsFor(fx, kAllPairs);
  options.url = fx.wsUrl("localhost", true);
  options.tls_ca_file = dir.file("cert.pem");
  KrakenInput input(options, ctx);
  input.start(out);
  const auto expected = recordedTrades({kAllPairs.begin(), kAllPairs.end()});
  EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
  input.stop();
  EXPECT_EQ(tradesOf(out.snapshot()), expected);
  EXPECT_EQ(ctx.counterValue("reconnects_total"), 0);
}

TEST(KrakenInput, TlsRefusesAnUntrustedCertificateByDefault) {
  TempDir dir;
  makeCertificate(dir);
  FakeExchange fx({"--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")});
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  auto options = optionsFor(fx, kAllPairs);
  options.url = fx.wsUrl("localhost", true);  // no tls_ca_file: the system store
  KrakenInput input(options, ctx);
  input.start(out);
  EXPECT_TRUE(waitFor([&] { return ctx.counterValue("reconnects_total") >= 2; }));
  input.stop();
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(ctx.health(), HealthState::kDegraded) << "reconnecting is not failed";
  EXPECT_TRUE(ctx.logger().contains("certificate verify failed", LogLevel::kWarn));
}

TEST(RestClient, HttpsIsVerifiedAgainstTheNamedCaOrTheSystemStore) {
  TempDir dir;
  makeCertificate(dir);
  FakeExchange fx(
      {"--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem"), "--rest-tls"});
  std::atomic<bool> never{false};
  const std::string body =
      RestClient(fx.restUrl("localhost", true), dir.file("cert.pem"), 5s, never).get("/_stats");
  EXPECT_NE(body.find("rest_requests"), std::string::npos) << body;
  try {
    RestClient(fx.restUrl("localhost", true), "", 5s, never).get("/_stats");
    ADD_FAILURE() << "a self-signed certificate passed the system store";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("/_stats"), std::string::npos) << "names the URL";
  }
}

// A server that accepts connections (the kernel's backlog) and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(fd_); }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(RestClient, ATimeoutOrAStopEndsARequestThatGetsNoAnswer) {
  SilentServer server;
  std::atomic<bool> stopping{false};
  try {
    RestClient(server.url(), "", 300ms, stopping).get("/0/public/Trades");
    ADD_FAILURE() << "a silent server answered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("timed out after 300 ms"), std::string::npos) << e.what();
  }
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stopping = true;
  });
  try {
    RestClient(server.url(), "", 60s, stopping).get("/0/public/Trades");
    ADD_FAILURE() << "a silent server answered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
  }
  stopper.join();
}

TEST(RestClient, AnHttpErrorOrABadUrlIsNamed) {
  FakeExchange fx({});
  std::atomic<bool> never{false};
  try {
    RestClient(fx.restUrl(), "", 5s, never).get("/no/such/path");
    ADD_FAILURE() << "no error for a missing path";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RestClient("ftp://example.com", "", 5s, never), std::invalid_argument);
  EXPECT_THROW(RestClient("https://:443", "", 5s, never), std::invalid_argument);
}

TEST(KrakenInput, RecordingReplaysToTheSameMetrics) {
  TempDir dir;
  std::vector<Metric> live;
  {
    FakeExchange fx({});
    TestContext ctx("inputs.kraken");
    CapturingEmitter out;
    auto options = optionsFor(fx, kAllPairs);
    options.record = dir.file("session.rec");
    KrakenInput input(options, ctx);
    input.start(out);
    const auto expected = recordedTrades({kAllPairs.begin(), kAllPairs.end()});
    EXPECT_TRUE(waitFor([&] { return tradesOf(out.snapshot()).size() >= expected.size(); }));
    input.stop();
    live = out.take();
  }
  ASSERT_GT(live.size(), 500u);
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenOptions options;
  options.pairs = kAllPairs;
  options.replay = dir.file("session.rec");
  options.replay_speed = 0;
  KrakenInput input(options, ctx);
  input.start(out);
  EXPECT_TRUE(waitFor([&] { return ctx.healthDetail() == "replay finished"; }));
  input.stop();
  const auto replayed = out.take();
  ASSERT_EQ(replayed.size(), live.size());
  for (std::size_t i = 0; i < live.size(); ++i) ASSERT_EQ(replayed[i], live[i]) << i;
}

TEST(KrakenInput, ReplayKeepsTheRecordedPaceAndStopsPromptly) {
  TempDir dir;
  {
    std::ofstream rec(dir.file("paced.rec"));
    const std::string trade =
        R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1.5,"qty":2.0,"ord_type":"limit","trade_id":%ID%,"timestamp":"2026-11-24T14:30:00Z"}]})";
    // Two trades an hour apart (receive times), at recorded speed.
    for (const auto& [rx, id] : {std::pair{1'000'000'000'000'000'000LL, "1"},
                                 std::pair{1'000'003'600'000'000'000LL, "2"}}) {
      std::string line, frame = std::regex_replace(trade, std::regex("%ID%"), id);
      appendRecordLine(rx, frame, line);
      rec << line << "\n";
    }
  }
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenOptions options;
  options.pairs = {"BTC/USD"};
  options.replay = dir.file("paced.rec");
  options.replay_speed = 1;
  KrakenInput input(options, ctx);
  input.start(out);
  EXPECT_TRUE(waitFor([&] { return out.size() >= 1; }));
  input.stop();  // returns without waiting out the hour
  const auto metrics = out.take();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(*metrics[0].field("trade_id")), 1);
  EXPECT_EQ(std::get<std::int64_t>(*metrics[0].field("receive_time")), 1'000'000'000'000'000'000LL);
}

TEST(KrakenInput, ReconnectsWithExponentialBackoffAndJitter) {
  // A port nobody listens on: every attempt is refused at once.
  int closed_port = 0;
  freePort(closed_port);
  TestContext ctx("inputs.kraken");
  CapturingEmitter out;
  KrakenOptions options;
  options.url = fmt::format("ws://127.0.0.1:{}/v2", closed_port);
  options.pairs = {"BTC/USD"};
  options.reconnect_initial = 20ms;
  options.reconnect_max = 80ms;
  KrakenInput input(options, ctx);
  input.start(out);
  EXPECT_TRUE(waitFor([&] { return ctx.counterValue("reconnects_total") >= 6; }));
  input.stop();
  EXPECT_EQ(ctx.health(), HealthState::kDegraded) << "reconnecting is not failed";
  // "reconnecting in N ms": uniformly within [backoff/2, backoff], backoff 20, 40, 80, 80... ms.
  std::vector<int> delays;
  const std::regex delay("reconnecting in (\\d+) ms");
  for (const auto& line : ctx.logger().lines()) {
    std::smatch m;
    if (std::regex_search(line.message, m, delay)) delays.push_back(std::stoi(m[1]));
  }
  ASSERT_GE(delays.size(), 6u);
  int backoff = 20;
  for (int d : delays) {
    EXPECT_GE(d, backoff / 2);
    EXPECT_LE(d, backoff);
    backoff = std::min(backoff * 2, 80);
  }
  EXPECT_TRUE(ctx.logger().contains("Connection refused", LogLevel::kWarn));
}

TEST(KrakenInput, EndpointParsing) {
  Endpoint ep;
  std::string error;
  ASSERT_TRUE(parseEndpoint("wss://ws.kraken.com/v2", ep, error));
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.host, "ws.kraken.com");
  EXPECT_EQ(ep.port, "443");
  EXPECT_EQ(ep.target, "/v2");
  ASSERT_TRUE(parseEndpoint("ws://127.0.0.1:8080", ep, error));
  EXPECT_FALSE(ep.tls);
  EXPECT_EQ(ep.port, "8080");
  EXPECT_EQ(ep.target, "/");
  EXPECT_FALSE(parseEndpoint("https://ws.kraken.com", ep, error));
  EXPECT_NE(error.find("ws://"), std::string::npos);
  EXPECT_FALSE(parseEndpoint("ws://host:port/", ep, error));
}

}  // namespace
}  // namespace cvagent::inputs::kraken

// outputs.prometheus against a real Prometheus (Debian's binary, started here on free ports):
// remote write read back through the query API, a restart mid-stream, out-of-order answers, and a
// Prometheus scraping the `listen` endpoint.

#include "prometheus_output.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <tuple>

#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "prometheus_server.h"
#include "service_env.h"

namespace cvagent::outputs::prometheus {
namespace {

using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;
using testing::httpGet;
using testing::PrometheusServer;

#define REQUIRE_PROMETHEUS()                                                               \
  do {                                                                                     \
    if (!PrometheusServer::available()) {                                                  \
      if (::cvagent::testing::servicesRequired()) FAIL() << "prometheus is not installed"; \
      GTEST_SKIP() << "prometheus is not installed (scripts/install-deps.sh --test)";      \
    }                                                                                      \
  } while (0)

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Metric ticker(std::string_view pair, double last, std::int64_t time_ms,
              std::string_view exchange = "kraken") {
  return MetricBuilder("ticker")
      .tag("exchange", exchange)
      .tag("pair", pair)
      .field("last", last)
      .field("bid", last - 0.5)
      .field("trade_id", std::int64_t{42})
      .field("note", "text")
      .time(time_ms * 1'000'000);
}

bool waitFor(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Raw samples (ms -> value) of the series `selector` in the hour before `at_ms`.
std::map<std::int64_t, double> samplesOf(const PrometheusServer& server,
                                         const std::string& selector, std::int64_t at_ms) {
  const std::string json =
      server.query(selector + "[1h]", static_cast<double>(at_ms) / 1000.0 + 0.001);
  simdjson::dom::parser parser;
  std::map<std::int64_t, double> out;
  for (simdjson::dom::element series : parser.parse(json)["data"]["result"].get_array()) {
    for (simdjson::dom::element point : series["values"].get_array()) {
      const double seconds = point.at(0).get_double();
      const std::string_view value = point.at(1).get_string();
      out[std::llround(seconds * 1000)] = std::stod(std::string(value));
    }
  }
  return out;
}

// Results of an instant query at now: labels of each series and its value.
std::vector<std::pair<std::map<std::string, std::string>, double>> instant(
    const PrometheusServer& server, const std::string& promql) {
  const std::string json = server.query(promql);
  simdjson::dom::parser parser;
  std::vector<std::pair<std::map<std::string, std::string>, double>> out;
  for (simdjson::dom::element series : parser.parse(json)["data"]["result"].get_array()) {
    std::map<std::string, std::string> labels;
    for (auto [key, value] : series["metric"].get_object()) {
      labels[std::string(key)] = std::string(value.get_string().value());
    }
    out.emplace_back(labels, std::stod(std::string(series["value"].at(1).get_string().value())));
  }
  return out;
}

// A Prometheus on a free port and an output remote-writing to it.
struct RemoteWriteSetup {
  explicit RemoteWriteSetup(bool receiver,
                            const std::function<void(PrometheusOutputOptions&)>& tune = {})
      : server(receiver) {
    server.start();
    PrometheusOutputOptions options;
    options.remote_write = server.writeUrl();
    if (tune) tune(options);
    output = std::make_unique<PrometheusOutput>(options, ctx);
    output->connect();
  }
  std::tuple<PrometheusServer&, TestContext&, PrometheusOutput&> parts() {
    return {server, ctx, *output};
  }
  PrometheusServer server;
  TestContext ctx;
  std::unique_ptr<PrometheusOutput> output;
};

TEST(SeriesMapping, NamesLabelsFieldsAndRenames) {
  MappingOptions options;
  options.drop_fields = {"trade_id"};
  options.prefix = "cv_";
  options.label_renames = {{"pair", "symbol"}};
  SeriesMapping mapping(options);
  Metric metric = MetricBuilder("ticker")
                      .tag("exchange", "kraken")
                      .tag("pair", "BTC/USD")
                      .tag("bad-key", "x")
                      .field("last", 1.5)
                      .field("trade_id", std::int64_t{7})
                      .field("partial", true)
                      .field("note", "skipped")
                      .time(1);
  std::vector<std::pair<std::string, double>> series;
  mapping.forEachSeries(
      metric, [&](const std::string& name, const std::vector<LabelPair>& labels, double value) {
        ASSERT_EQ(labels.size(), 3u);
        EXPECT_EQ(labels[0], (LabelPair{"bad_key", "x"}));
        EXPECT_EQ(labels[1], (LabelPair{"exchange", "kraken"}));
        EXPECT_EQ(labels[2], (LabelPair{"symbol", "BTC/USD"}));
        series.emplace_back(name, value);
      });
  EXPECT_EQ(series, (std::vector<std::pair<std::string, double>>{{"cv_ticker_last", 1.5},
                                                                 {"cv_ticker_partial", 1.0}}));
  EXPECT_EQ(sanitizeName("9a.b:c", true), "_9a_b:c");
  EXPECT_EQ(sanitizeName("a:b", false), "a_b");

  options.metrics = {"sentiment"};
  SeriesMapping only_sentiment(options);
  int calls = 0;
  only_sentiment.forEachSeries(metric, [&](auto&&...) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(SeriesStore, CapExpiryAndOlderEvents) {
  SeriesStore store(std::chrono::milliseconds(1000), 2);
  const auto t0 = SeriesStore::SteadyClock::now();
  const std::vector<LabelPair> a{{"pair", "A"}}, b{{"pair", "B"}}, c{{"pair", "C"}};
  EXPECT_EQ(store.update("x", a, 1, 10, t0), SeriesStore::Update::kStored);
  EXPECT_EQ(store.update("x", b, 2, 10, t0), SeriesStore::Update::kStored);
  EXPECT_EQ(store.update("x", c, 3, 10, t0), SeriesStore::Update::kOverCap);
  EXPECT_EQ(store.update("x", a, 9, 5, t0), SeriesStore::Update::kStale);  // older event
  EXPECT_EQ(store.update("x", a, 4, 11, t0 + std::chrono::milliseconds(600)),
            SeriesStore::Update::kStored);
  EXPECT_EQ(store.expire(t0 + std::chrono::milliseconds(1100)), 1u);  // B expired
  auto families = store.Collect();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].gauge.value, 4);
  EXPECT_EQ(store.update("x", c, 3, 10, t0), SeriesStore::Update::kStored);  // room again
}

TEST(PrometheusOutput, ConfigNeedsListenOrRemoteWrite) {
  TestContext ctx;
  EXPECT_THROW(PrometheusOutput(PrometheusOutputOptions{}, ctx), std::invalid_argument);
}

TEST(PrometheusListen, ServesEscapedGaugesOverHttp) {
  TestContext ctx("outputs.prometheus");
  PrometheusOutputOptions options;
  options.listen = "127.0.0.1:0";
  PrometheusOutput output(options, ctx);
  output.connect();
  ASSERT_GT(output.listeningPort(), 0);
  const std::vector<Metric> batch{ticker("BTC/USD", 95000.5, nowMs()),
                                  ticker("ESC", 1, nowMs(), "a\"b\\c\nd")};
  ASSERT_EQ(output.write(batch).status(), WriteStatus::kOk);
  std::string body;
  ASSERT_EQ(
      httpGet("http://127.0.0.1:" + std::to_string(output.listeningPort()) + "/metrics", body),
      200);
  EXPECT_NE(body.find("# TYPE ticker_last gauge"), std::string::npos) << body;
  EXPECT_NE(body.find("ticker_last{exchange=\"kraken\",pair=\"BTC/USD\"} 95000.5"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("ticker_bid{exchange=\"a\\\"b\\\\c\\nd\",pair=\"ESC\"} 0.5"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("trade_id"), std::string::npos) << body;
  EXPECT_EQ(body.find("note"), std::string::npos) << body;
  EXPECT_EQ(ctx.gaugeValue("prometheus_series"), 4);
  output.close();
}

TEST(PrometheusRemoteWrite, OtherClientErrorsAreRejectedWithTheBody) {
  REQUIRE_PROMETHEUS();
  RemoteWriteSetup setup(/*receiver=*/false);  // answers 404 to remote write
  auto [server, ctx, output] = setup.parts();
  const std::vector<Metric> batch{ticker("BTC/USD", 1, nowMs())};
  const WriteResult result = output.write(batch);
  EXPECT_EQ(result.status(), WriteStatus::kReject);
  EXPECT_NE(result.reason().find("HTTP 404"), std::string::npos) << result.reason();
  EXPECT_NE(result.reason().find("remote-write-receiver"), std::string::npos) << result.reason();
}

TEST(PrometheusRemoteWrite, SamplesReadBackWithTheirEventTimes) {
  REQUIRE_PROMETHEUS();
  RemoteWriteSetup setup(/*receiver=*/true);
  auto [server, ctx, output] = setup.parts();

  const std::int64_t base = nowMs() - 10 * 60 * 1000;
  std::map<std::int64_t, double> sent_btc, sent_eth;
  for (int b = 0; b < 5; ++b) {
    std::vector<Metric> batch;
    for (int i = 0; i < 20; ++i) {
      const std::int64_t t = base + (b * 20 + i) * 1000 + 7;
      // Out of time order inside the batch: the builder sorts each series' samples.
      const std::int64_t t2 = base + (b * 20 + (19 - i)) * 1000 + 3;
      sent_btc[t] = 95000 + b * 20 + i + 0.25;
      sent_eth[t2] = 3000 - i - b * 0.5;
      batch.push_back(ticker("BTC/USD", sent_btc[t], t));
      batch.push_back(ticker("ETH/USD", sent_eth[t2], t2));
    }
    ASSERT_EQ(output.write(batch).status(), WriteStatus::kOk) << "batch " << b;
  }
  const std::int64_t at = base + 100 * 1000;
  EXPECT_EQ(samplesOf(server, R"(ticker_last{exchange="kraken",pair="BTC/USD"})", at), sent_btc);
  EXPECT_EQ(samplesOf(server, R"(ticker_last{exchange="kraken",pair="ETH/USD"})", at), sent_eth);
  EXPECT_EQ(samplesOf(server, R"(ticker_bid{pair="BTC/USD"})", at).size(), 100u);
  EXPECT_TRUE(samplesOf(server, "ticker_trade_id", at).empty());
}

TEST(PrometheusRemoteWrite, RestartMidStreamRetriesAndLosesNothing) {
  REQUIRE_PROMETHEUS();
  RemoteWriteSetup setup(/*receiver=*/true,
                         [](PrometheusOutputOptions& o) { o.timeout = std::chrono::seconds(2); });
  auto [server, ctx, output] = setup.parts();

  const std::int64_t base = nowMs() - 10 * 60 * 1000;
  std::map<std::int64_t, double> sent;
  int retries = 0;
  for (int b = 0; b < 12; ++b) {
    std::vector<Metric> batch;
    for (int i = 0; i < 50; ++i) {
      const std::int64_t t = base + (b * 50 + i) * 100;
      sent[t] = b * 1000 + i;
      batch.push_back(ticker("BTC/USD", sent[t], t));
    }
    if (b == 4) server.stop();
    // The core's loop: the same batch again until it is stored.
    for (int attempt = 0;; ++attempt) {
      const WriteResult result = output.write(batch);
      if (result.status() == WriteStatus::kOk) break;
      ASSERT_EQ(result.status(), WriteStatus::kRetry) << result.reason();
      ++retries;
      if (attempt == 2) server.start();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_GE(retries, 3);
  EXPECT_EQ(samplesOf(server, R"(ticker_last{pair="BTC/USD"})", base + 12 * 50 * 100), sent);
}

TEST(PrometheusRemoteWrite, OutOfOrderCountsAsStoredAndTheRestIsWritten) {
  REQUIRE_PROMETHEUS();
  RemoteWriteSetup setup(/*receiver=*/true,
                         [](PrometheusOutputOptions& o) { o.fields = {"last"}; });
  auto [server, ctx, output] = setup.parts();
  const std::int64_t t = nowMs() - 60 * 1000;
  ASSERT_EQ(output.write(std::vector<Metric>{ticker("BTC/USD", 2, t)}).status(), WriteStatus::kOk);
  // A retry of an older sample beside a new series: Prometheus refuses the whole request with
  // 400, the output resends metric by metric.
  const WriteResult result =
      output.write(std::vector<Metric>{ticker("BTC/USD", 1, t - 1000), ticker("ETH/USD", 5, t)});
  EXPECT_EQ(result.status(), WriteStatus::kOk);
  EXPECT_TRUE(result.exceptions().empty());
  EXPECT_EQ(ctx.counterValue("prometheus_samples_out_of_order_total"), 1);
  EXPECT_TRUE(ctx.logger().contains("out of order"));
  EXPECT_EQ(samplesOf(server, R"(ticker_last{pair="ETH/USD"})", t),
            (std::map<std::int64_t, double>{{t, 5}}));
  EXPECT_EQ(samplesOf(server, R"(ticker_last{pair="BTC/USD"})", t),
            (std::map<std::int64_t, double>{{t, 2}}));
  // An exact replay of the newest sample is accepted by Prometheus as a duplicate.
  EXPECT_EQ(output.write(std::vector<Metric>{ticker("BTC/USD", 2, t)}).status(), WriteStatus::kOk);
}

TEST(PrometheusListen, RealScrapeSeesLastValuesEscapingExpiryAndCap) {
  REQUIRE_PROMETHEUS();
  TestContext ctx("outputs.prometheus");
  PrometheusOutputOptions options;
  const int listen_port = testing::freePort();
  options.listen = "127.0.0.1:" + std::to_string(listen_port);
  options.fields = {"last"};
  options.expire_after = std::chrono::milliseconds(1500);
  options.max_series = 4;
  PrometheusOutput output(options, ctx);
  output.connect();
  PrometheusServer server(/*receiver=*/false, options.listen);
  server.start();

  const std::string tricky = "a\"b\\c\nd";
  auto write_all = [&] {
    ASSERT_EQ(output
                  .write(std::vector<Metric>{ticker("BTC/USD", 95000.5, nowMs()),
                                             ticker("ESC", 7, nowMs(), tricky)})
                  .status(),
              WriteStatus::kOk);
    ASSERT_EQ(output
                  .write(std::vector<Metric>{ticker("BTC/USD", 95100.25, nowMs()),
                                             ticker("P0", 1, nowMs()), ticker("P1", 1, nowMs()),
                                             ticker("P2", 1, nowMs()), ticker("P3", 1, nowMs())})
                  .status(),
              WriteStatus::kOk);
  };
  write_all();
  EXPECT_EQ(ctx.counterValue("prometheus_series_over_cap_total"), 2);
  EXPECT_TRUE(ctx.logger().contains("max_series (4) reached"));

  // Written again on every poll so that nothing expires before the first scrapes.
  ASSERT_TRUE(waitFor(
      std::chrono::seconds(20),
      [&] {
        write_all();
        return instant(server, "count(ticker_last)") == decltype(instant(server, "")){{{}, 4.0}};
      }))
      << server.query("ticker_last") << server.query("up");
  const auto btc = instant(server, R"(ticker_last{pair="BTC/USD"})");
  ASSERT_EQ(btc.size(), 1u);
  EXPECT_EQ(btc[0].second, 95100.25);  // the last written
  const auto esc = instant(server, R"(ticker_last{pair="ESC"})");
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].first.at("exchange"), tricky);
  EXPECT_EQ(esc[0].second, 7);

  // Only BTC keeps being written: the others expire and Prometheus marks them stale.
  ASSERT_TRUE(waitFor(std::chrono::seconds(20), [&] {
    output.write(std::vector<Metric>{ticker("BTC/USD", 95200, nowMs())});
    return instant(server, "count(ticker_last)") == decltype(instant(server, "")){{{}, 1.0}};
  })) << server.query("ticker_last");
  EXPECT_EQ(output.seriesStore()->size(), 1u);
  EXPECT_EQ(instant(server, "ticker_last")[0].first.at("pair"), "BTC/USD");
  output.close();
}

}  // namespace
}  // namespace cvagent::outputs::prometheus

// Figures for docs/performance.md: a scrape of the `listen` endpoint holding N series, and remote
// write into a real local Prometheus (started here, like the tests do).
//   bench_prometheus [series=10000] [samples=2000000] [metrics_per_batch=1000]

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "prometheus_output.h"
#include "prometheus_server.h"

namespace pm = cvagent::outputs::prometheus;
using cvagent::Metric;
using cvagent::testing::MetricBuilder;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void benchScrape(int series) {
  cvagent::testing::TestContext ctx("outputs.prometheus");
  pm::PrometheusOutputOptions options;
  options.listen = "127.0.0.1:0";
  options.max_series = series;
  pm::PrometheusOutput output(options, ctx);
  output.connect();
  std::vector<Metric> batch;
  for (int i = 0; i < series; ++i) {
    batch.push_back(MetricBuilder("ticker")
                        .tag("exchange", "kraken")
                        .tag("pair", fmt::format("C{}/USD", i))
                        .field("last", 1000.0 + i * 0.25)
                        .time(1));
  }
  const auto write_start = Clock::now();
  output.write(batch);
  const double write_ms = msSince(write_start);
  const std::string url = fmt::format("http://127.0.0.1:{}/metrics", output.listeningPort());
  std::vector<double> times;
  std::string body;
  for (int i = 0; i < 30; ++i) {
    const auto start = Clock::now();
    if (pm::testing::httpGet(url, body) != 200) throw std::runtime_error("scrape failed");
    times.push_back(msSince(start));
  }
  std::sort(times.begin(), times.end());
  fmt::print(
      "scrape: {} series, {} bytes: GET /metrics min {:.1f} ms, median {:.1f} ms, max {:.1f} ms "
      "(30 GETs); write() of the {} metrics {:.1f} ms\n",
      series, body.size(), times.front(), times[times.size() / 2], times.back(), series, write_ms);
  std::fflush(stdout);
  output.close();
}

void benchRemoteWrite(long samples, int metrics_per_batch) {
  pm::testing::PrometheusServer server(/*receiver=*/true);
  server.start();
  cvagent::testing::TestContext ctx("outputs.prometheus");
  pm::PrometheusOutputOptions options;
  options.remote_write = server.writeUrl();
  pm::PrometheusOutput output(options, ctx);
  output.connect();
  // Tickers of 100 pairs, 5 numeric fields each: 5 samples per metric.
  constexpr int kPairs = 100, kFields = 5;
  const long metrics = samples / kFields;
  const std::int64_t base_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count() -
                               30 * 60 * 1000;
  std::vector<std::vector<Metric>> batches;
  for (long m = 0; m < metrics;) {
    std::vector<Metric> batch;
    for (int i = 0; i < metrics_per_batch && m < metrics; ++i, ++m) {
      const std::int64_t t = base_ms + m / kPairs;  // 1 ms apart per pair
      batch.push_back(MetricBuilder("ticker")
                          .tag("exchange", "kraken")
                          .tag("pair", fmt::format("C{}/USD", m % kPairs))
                          .field("last", 1000.0 + static_cast<double>(m % 977))
                          .field("bid", 999.5)
                          .field("ask", 1000.5)
                          .field("volume_24h", 12345.0 + static_cast<double>(m))
                          .field("vwap", 1000.1)
                          .time(t * 1'000'000));
    }
    batches.push_back(std::move(batch));
  }
  const auto start = Clock::now();
  for (const auto& batch : batches) {
    const auto result = output.write(batch);
    if (result.status() != cvagent::WriteStatus::kOk) {
      throw std::runtime_error("remote write failed: " + result.reason());
    }
  }
  const double seconds = msSince(start) / 1000.0;
  // Read the count back, so the figure only counts what Prometheus stored.
  const std::string count = server.query(
      "sum(count_over_time(ticker_last[2h])) + sum(count_over_time(ticker_bid[2h])) + "
      "sum(count_over_time(ticker_ask[2h])) + sum(count_over_time(ticker_volume_24h[2h])) + "
      "sum(count_over_time(ticker_vwap[2h]))",
      static_cast<double>(base_ms) / 1000.0 + 3600);
  fmt::print(
      "remote_write: {} samples in {} requests of {} metrics ({} samples): {:.2f} s = {:.0f} "
      "samples/s; Prometheus counts: {}\n",
      metrics * kFields, batches.size(), metrics_per_batch, metrics_per_batch * kFields, seconds,
      static_cast<double>(metrics * kFields) / seconds, count);
}

}  // namespace

int main(int argc, char** argv) {
  const int series = argc > 1 ? std::atoi(argv[1]) : 10000;
  const long samples = argc > 2 ? std::atol(argv[2]) : 2'000'000;
  const int per_batch = argc > 3 ? std::atoi(argv[3]) : 1000;
  benchScrape(series);
  if (pm::testing::PrometheusServer::available()) {
    benchRemoteWrite(samples, per_batch);
  } else {
    fmt::print("remote_write: skipped, prometheus not installed\n");
  }
}

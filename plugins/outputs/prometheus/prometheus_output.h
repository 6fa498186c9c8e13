#pragma once
// outputs.prometheus: exposes metrics as gauges on a scrape endpoint of its own (`listen`) and/or
// sends them to a Prometheus remote write URL (`remote_write`).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"
#include "remote_write.h"
#include "series_mapping.h"
#include "series_store.h"

namespace prometheus {
class Exposer;
}

namespace cvagent::outputs::prometheus {

struct PrometheusOutputOptions {
  std::string listen;
  std::string remote_write;
  std::vector<std::string> metrics;
  std::vector<std::string> fields;
  std::vector<std::string> drop_fields{"trade_id", "id", "receive_time"};
  std::string prefix;
  std::map<std::string, std::string> label_renames;
  std::chrono::milliseconds expire_after{std::chrono::minutes(5)};
  std::int64_t max_series = 100000;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  Secret bearer_token;
  bool tls_verify = true;

  static void describe(Schema<PrometheusOutputOptions>& s);
};

class PrometheusOutput final : public Output {
 public:
  PrometheusOutput(const PrometheusOutputOptions& options, PluginContext& context);
  ~PrometheusOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;

  // The bound port of the `listen` endpoint (useful with port 0); 0 when not listening.
  int listeningPort() const;
  const SeriesStore* seriesStore() const { return store_.get(); }

 private:
  void updateGauges(std::span<const Metric> batch);
  WriteResult remoteWrite(std::span<const Metric> batch);
  // After a 400 "out of order": Prometheus rolled the whole request back, so each metric is sent
  // alone to store what can still be stored.
  WriteResult remoteWriteOneByOne(std::span<const Metric> batch);
  void addSamples(const Metric& metric);

  PrometheusOutputOptions options_;
  PluginContext& context_;
  SeriesMapping mapping_;
  std::shared_ptr<SeriesStore> store_;
  std::unique_ptr<::prometheus::Exposer> exposer_;
  std::unique_ptr<RemoteWriteClient> client_;
  WriteRequestBuilder request_;
  std::string body_;
  Counter& over_cap_;
  Counter& superseded_;
  Gauge& series_gauge_;
  LogRateLimiter over_cap_log_;
  LogRateLimiter superseded_log_;
};

}  // namespace cvagent::outputs::prometheus

#include "prometheus_output.h"

#include <fmt/format.h>
#include <prometheus/exposer.h>

#include <stdexcept>

namespace cvagent::outputs::prometheus {

void PrometheusOutputOptions::describe(Schema<PrometheusOutputOptions>& s) {
  s.option("listen", &PrometheusOutputOptions::listen,
           "Address (host:port) of a scrape endpoint of this output's own, serving the last value "
           "of each series on /metrics. Empty: no endpoint.")
      .example("0.0.0.0:9274");
  s.option("remote_write", &PrometheusOutputOptions::remote_write,
           "Prometheus remote write 1.0 URL the metrics are sent to (protobuf + snappy), one "
           "request per batch, sample time = event time. Empty: no remote write.")
      .example("http://prometheus:9090/api/v1/write");
  s.option("metrics", &PrometheusOutputOptions::metrics,
           "Metric names exported. Empty: every metric.")
      .example("[ticker, sentiment]");
  s.option("fields", &PrometheusOutputOptions::fields,
           "Field names exported as series `<prefix><metric>_<field>`. Empty: every numeric or "
           "boolean field (booleans as 0/1; strings are never exported).");
  s.option("drop_fields", &PrometheusOutputOptions::drop_fields,
           "Fields never exported: identifiers and receive times, not values.");
  s.option("prefix", &PrometheusOutputOptions::prefix, "Prepended to every series name.")
      .example("cv_");
  s.option("label_renames", &PrometheusOutputOptions::label_renames,
           "Tag key -> label name. Other tags become labels of the same name (characters "
           "Prometheus does not allow become `_`).")
      .example("{pair: symbol}");
  s.option("expire_after", &PrometheusOutputOptions::expire_after,
           "`listen`: a series not updated for this long is removed from the endpoint.")
      .min(1);
  s.option("max_series", &PrometheusOutputOptions::max_series,
           "`listen`: most series served; new series beyond it are dropped, counted "
           "(cvagent_prometheus_series_over_cap_total) and logged.")
      .min(1);
  s.option("timeout", &PrometheusOutputOptions::timeout,
           "`remote_write`: time limit of one request, connection included.")
      .min(1);
  s.option("bearer_token", &PrometheusOutputOptions::bearer_token,
           "`remote_write`: sent as `Authorization: Bearer`; never logged.");
  s.option("tls_verify", &PrometheusOutputOptions::tls_verify,
           "`remote_write`: verify the server's TLS certificate and host name.");
  s.check([](const PrometheusOutputOptions& o, const SourceMark& where, Diagnostics& d) {
    if (o.listen.empty() && o.remote_write.empty()) {
      d.push_back({where, "outputs.prometheus: set `listen`, `remote_write` or both"});
    }
  });
}

namespace {

MappingOptions mappingOf(const PrometheusOutputOptions& o) {
  return MappingOptions{o.metrics, o.fields, o.drop_fields, o.prefix, o.label_renames};
}

bool isSuccess(const PostResult& r) { return r.error.empty() && r.status >= 200 && r.status < 300; }

bool isTransient(const PostResult& r) {
  return !r.error.empty() || r.status >= 500 || r.status == 429;
}

std::string describe(const std::string& url, const PostResult& r) {
  if (!r.error.empty()) return fmt::format("remote write to {}: {}", url, r.error);
  return fmt::format("remote write to {}: HTTP {}: {}", url, r.status, r.body);
}

}  // namespace

PrometheusOutput::PrometheusOutput(const PrometheusOutputOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      mapping_(mappingOf(options)),
      over_cap_(context.counter("prometheus_series_over_cap_total",
                                "New series not served because max_series was reached.")),
      superseded_(context.counter(
          "prometheus_samples_out_of_order_total",
          "Metrics Prometheus refused as out of order or duplicate (it holds a newer sample).")),
      series_gauge_(context.gauge("prometheus_series", "Series served on the listen endpoint.")) {
  if (options_.listen.empty() && options_.remote_write.empty()) {
    throw std::invalid_argument("outputs.prometheus: set `listen`, `remote_write` or both");
  }
  if (!options_.listen.empty()) {
    store_ = std::make_shared<SeriesStore>(options_.expire_after,
                                           static_cast<std::size_t>(options_.max_series));
  }
}

PrometheusOutput::~PrometheusOutput() = default;

void PrometheusOutput::connect() {
  if (store_ && !exposer_) {
    // civetweb throws when the address cannot be bound: the core retries connect with backoff.
    exposer_ = std::make_unique<::prometheus::Exposer>(options_.listen, 2);
    exposer_->RegisterCollectable(store_, "/metrics");
    context_.logger().info("serving {} series on http://{}/metrics", store_->size(),
                           options_.listen);
  }
  if (!options_.remote_write.empty() && !client_) {
    client_ = std::make_unique<RemoteWriteClient>(
        RemoteWriteOptions{options_.remote_write, options_.timeout, options_.bearer_token.reveal(),
                           options_.tls_verify});
  }
}

void PrometheusOutput::close() {
  exposer_.reset();
  client_.reset();
}

int PrometheusOutput::listeningPort() const {
  if (!exposer_) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

WriteResult PrometheusOutput::write(std::span<const Metric> batch) {
  if (store_) updateGauges(batch);
  if (client_) return remoteWrite(batch);
  return WriteResult::ok();
}

void PrometheusOutput::updateGauges(std::span<const Metric> batch) {
  const auto now = SeriesStore::SteadyClock::now();
  std::uint64_t over_cap = 0;
  for (const Metric& metric : batch) {
    mapping_.forEachSeries(
        metric, [&](const std::string& name, const std::vector<LabelPair>& labels, double value) {
          if (store_->update(name, labels, value, metric.time(), now) ==
              SeriesStore::Update::kOverCap) {
            ++over_cap;
          }
        });
  }
  store_->expire(now);
  series_gauge_.set(static_cast<double>(store_->size()));
  if (over_cap == 0) return;
  over_cap_.inc(static_cast<double>(over_cap));
  over_cap_log_.warn(context_.logger(), "max_series ({}) reached: {} new series not served",
                     options_.max_series, over_cap);
}

void PrometheusOutput::addSamples(const Metric& metric) {
  const std::int64_t timestamp_ms = metric.time() / 1'000'000;
  mapping_.forEachSeries(
      metric, [&](const std::string& name, const std::vector<LabelPair>& labels, double value) {
        request_.add(name, labels, value, timestamp_ms);
      });
}

WriteResult PrometheusOutput::remoteWrite(std::span<const Metric> batch) {
  request_.clear();
  for (const Metric& metric : batch) addSamples(metric);
  if (request_.samples() == 0) return WriteResult::ok();
  request_.encode(body_);
  const PostResult result = client_->post(body_);
  if (isSuccess(result)) return WriteResult::ok();
  if (isTransient(result)) return WriteResult::retry(describe(options_.remote_write, result));
  if (isOutOfOrderAnswer(result)) return remoteWriteOneByOne(batch);
  return WriteResult::reject(describe(options_.remote_write, result));
}

WriteResult PrometheusOutput::remoteWriteOneByOne(std::span<const Metric> batch) {
  // Prometheus appends a request atomically and rolls it all back on the first sample older than
  // its newest: resending metric by metric stores the rest. A metric still refused that way can
  // never be stored (Prometheus keeps no out-of-order window by default); the usual cause is a
  // retry of a batch Prometheus had already committed, so it counts as stored, and is counted.
  WriteResult answer = WriteResult::ok();
  std::uint64_t refused = 0;
  std::string last_refusal;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    request_.clear();
    addSamples(batch[i]);
    if (request_.samples() == 0) continue;
    request_.encode(body_);
    const PostResult result = client_->post(body_);
    if (isSuccess(result)) continue;
    if (isOutOfOrderAnswer(result)) {
      ++refused;
      last_refusal = result.body;
    } else if (isTransient(result)) {
      answer.set(i, WriteStatus::kRetry, describe(options_.remote_write, result));
    } else {
      answer.set(i, WriteStatus::kReject, describe(options_.remote_write, result));
    }
  }
  if (refused > 0) {
    superseded_.inc(static_cast<double>(refused));
    superseded_log_.warn(context_.logger(),
                         "{} metrics refused by Prometheus as out of order or duplicate (already "
                         "stored or older than its newest sample): {}",
                         refused, last_refusal);
  }
  return answer;
}

}  // namespace cvagent::outputs::prometheus

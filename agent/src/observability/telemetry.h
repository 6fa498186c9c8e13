#pragma once
// The agent's own metrics (prometheus-cpp, served on /metrics) and the health of every plugin
// instance (served on /health).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cvagent/plugin_context.h"
#include "observability/logging.h"

namespace cvagent::observability {

struct PluginHealth {
  std::string id;
  std::string kind;
  HealthState state = HealthState::kStarting;
  std::string detail;
  std::int64_t last_data_ns = 0;
  // Outputs only: whether the last connect or write worked (the readiness view, /ready).
  bool connected = false;
  prometheus::Gauge* state_gauge = nullptr;      // cvagent_plugin_state
  prometheus::Gauge* last_data_gauge = nullptr;  // cvagent_last_data_timestamp_seconds
};

// The process's own figures in the names every Prometheus client library uses
// (process_cpu_seconds_total, process_resident_memory_bytes...), read from /proc at scrape time.
// Appended to `families`; nothing is added where /proc cannot be read.
void appendProcessMetrics(std::vector<prometheus::MetricFamily>& families);

class Telemetry {
 public:
  Telemetry();

  prometheus::Registry& registry() { return *registry_; }

  // cvagent_<name>{plugin="<id>", extra labels...}; created on first use.
  prometheus::Counter& counter(const std::string& name, const std::string& help,
                               const std::map<std::string, std::string>& labels);
  prometheus::Gauge& gauge(const std::string& name, const std::string& help,
                           const std::map<std::string, std::string>& labels);
  prometheus::Histogram& histogram(const std::string& name, const std::string& help,
                                   const std::map<std::string, std::string>& labels,
                                   const std::vector<double>& buckets);

  // Prometheus text exposition format.
  std::string scrape();

  // Health.
  void registerPlugin(const std::string& id, const std::string& kind);
  void setHealth(const std::string& id, HealthState state, std::string detail);
  void markData(const std::string& id, std::int64_t ns);
  void setAgentState(std::string state);  // starting, running, reloading, stopping
  bool healthy() const;
  std::string healthJson() const;

  // Readiness (/ready): the agent runs, nothing has failed and every output is connected (its
  // last connect or write worked). Liveness is healthy(): an output that retries is degraded but
  // alive; it is only not ready.
  void setConnected(const std::string& id, bool connected);
  bool ready() const;
  std::string readyJson() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges_;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms_;
  mutable std::mutex health_mu_;
  std::map<std::string, PluginHealth> health_;
  std::vector<std::string> health_order_;
  bool readyLocked() const;
  bool healthyLocked() const;
  std::string agent_state_ = "starting";
  std::int64_t started_ns_;
};

// The context handed to each plugin instance.
class InstanceContext final : public PluginContext {
 public:
  InstanceContext(std::string id, std::string kind, Telemetry& telemetry, const Clock& clock,
                  std::string state_root);

  const std::string& id() const override { return id_; }
  Logger& logger() override { return logger_; }
  const Clock& clock() const override { return clock_; }
  Counter& counter(std::string_view name, std::string_view help) override;
  Gauge& gauge(std::string_view name, std::string_view help) override;
  void setHealth(HealthState state, std::string_view detail) override;
  std::string stateDir() override;
  std::string_view agentVersion() const override;

  Telemetry& telemetry() { return telemetry_; }

 private:
  struct CounterAdapter final : Counter {
    prometheus::Counter* c;
    void inc(double v) override { c->Increment(v); }
  };
  struct GaugeAdapter final : Gauge {
    prometheus::Gauge* g;
    void set(double v) override { g->Set(v); }
  };

  std::string id_;
  std::string kind_;
  Telemetry& telemetry_;
  const Clock& clock_;
  std::string state_root_;
  SourceLogger logger_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterAdapter>> counters_;
  std::map<std::string, std::unique_ptr<GaugeAdapter>> gauges_;
};

}  // namespace cvagent::observability

#include "observability/telemetry.h"

#include <prometheus/text_serializer.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "cvagent/codec.h"
#include "cvagent/time_util.h"
#include "cvagent/version.h"

namespace cvagent::observability {

namespace {
std::int64_t wallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* stateName(HealthState s) {
  switch (s) {
    case HealthState::kStarting:
      return "starting";
    case HealthState::kOk:
      return "ok";
    case HealthState::kDegraded:
      return "degraded";
    case HealthState::kFailed:
      return "failed";
  }
  return "unknown";
}
// {"id","kind","state","detail","last_data"} of /health; /ready (full = false) leaves out the kind
// and the last data time.
void appendPluginJson(const PluginHealth& h, bool full, std::string& out) {
  out += "{\"id\":";
  codec::appendJsonString(h.id, out);
  if (full) {
    out += ",\"kind\":";
    codec::appendJsonString(h.kind, out);
  }
  out += ",\"state\":";
  codec::appendJsonString(stateName(h.state), out);
  if (!h.detail.empty()) {
    out += ",\"detail\":";
    codec::appendJsonString(h.detail, out);
  }
  if (full && h.last_data_ns) {
    out += ",\"last_data\":";
    codec::appendJsonString(formatRfc3339(h.last_data_ns, 3), out);
  }
  out += '}';
}
}  // namespace

Telemetry::Telemetry()
    : registry_(std::make_shared<prometheus::Registry>()), started_ns_(wallNanos()) {
  gauge("build_info", "cvagent build information", {{"version", CVAGENT_VERSION}}).Set(1);
}

prometheus::Counter& Telemetry::counter(const std::string& name, const std::string& help,
                                        const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mu_);
  auto& family = counters_[name];
  if (!family) {
    family = &prometheus::BuildCounter().Name("cvagent_" + name).Help(help).Register(*registry_);
  }
  return family->Add(labels);
}

prometheus::Gauge& Telemetry::gauge(const std::string& name, const std::string& help,
                                    const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mu_);
  auto& family = gauges_[name];
  if (!family) {
    family = &prometheus::BuildGauge().Name("cvagent_" + name).Help(help).Register(*registry_);
  }
  return family->Add(labels);
}

prometheus::Histogram& Telemetry::histogram(const std::string& name, const std::string& help,
                                            const std::map<std::string, std::string>& labels,
                                            const std::vector<double>& buckets) {
  std::lock_guard lock(mu_);
  auto& family = histograms_[name];
  if (!family) {
    family = &prometheus::BuildHistogram().Name("cvagent_" + name).Help(help).Register(*registry_);
  }
  return family->Add(labels, buckets);
}

std::string Telemetry::scrape() {
  auto families = registry_->Collect();
  appendProcessMetrics(families);
  return prometheus::TextSerializer().Serialize(families);
}

namespace {
prometheus::MetricFamily processFamily(const char* name, const char* help,
                                       prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}
}  // namespace

void appendProcessMetrics(std::vector<prometheus::MetricFamily>& families) {
  // /proc/self/stat: fields after the parenthesised command (which may hold spaces): state is
  // field 3, utime 14, stime 15, starttime 22, vsize 23, rss 24 (pages).
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::vector<std::string> f{"", "", ""};  // fields 1 and 2 are before the cut
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 25) return;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double cpu = (std::stod(f[14]) + std::stod(f[15])) / ticks;
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string key; proc_stat >> key;) {
    if (key == "btime") {
      proc_stat >> boot_time;
      break;
    }
    proc_stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  std::error_code ec;
  double open_fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open_fds;
  }
  using prometheus::MetricType;
  families.push_back(processFamily("process_cpu_seconds_total",
                                   "Total user and system CPU time spent in seconds.",
                                   MetricType::Counter, cpu));
  families.push_back(processFamily("process_resident_memory_bytes",
                                   "Resident memory size in bytes.", MetricType::Gauge,
                                   std::stod(f[24]) * page));
  families.push_back(processFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                   MetricType::Gauge, std::stod(f[23])));
  families.push_back(processFamily("process_open_fds", "Number of open file descriptors.",
                                   MetricType::Gauge, open_fds));
  if (boot_time > 0) {
    families.push_back(processFamily("process_start_time_seconds",
                                     "Start time of the process since unix epoch in seconds.",
                                     MetricType::Gauge, boot_time + std::stod(f[22]) / ticks));
  }
}

static_assert(static_cast<int>(HealthState::kStarting) == 0 &&
                  static_cast<int>(HealthState::kFailed) == 3,
              "cvagent_plugin_state's documented values");

void Telemetry::registerPlugin(const std::string& id, const std::string& kind) {
  std::lock_guard lock(health_mu_);
  if (health_.find(id) == health_.end()) health_order_.push_back(id);
  auto& h = health_[id];
  h.id = id;
  h.kind = kind;
  h.state_gauge = &gauge("plugin_state",
                         "Health of each plugin instance: 0 starting, 1 ok, 2 degraded, 3 failed",
                         {{"plugin", id}, {"kind", kind}});
  h.state_gauge->Set(static_cast<double>(h.state));
}

void Telemetry::setHealth(const std::string& id, HealthState state, std::string detail) {
  std::lock_guard lock(health_mu_);
  auto& h = health_[id];
  h.state = state;
  h.detail = std::move(detail);
  if (h.state_gauge) h.state_gauge->Set(static_cast<double>(state));
}

void Telemetry::markData(const std::string& id, std::int64_t ns) {
  std::lock_guard lock(health_mu_);
  auto it = health_.find(id);
  if (it == health_.end()) return;
  it->second.last_data_ns = ns;
  if (!it->second.last_data_gauge) {
    it->second.last_data_gauge =
        &gauge("last_data_timestamp_seconds",
               "When the instance last stored data (outputs), Unix seconds: the data's freshness",
               {{"plugin", id}});
  }
  it->second.last_data_gauge->Set(static_cast<double>(ns) / 1e9);
}

void Telemetry::setAgentState(std::string state) {
  std::lock_guard lock(health_mu_);
  agent_state_ = std::move(state);
}

bool Telemetry::healthy() const {
  std::lock_guard lock(health_mu_);
  return healthyLocked();
}

bool Telemetry::healthyLocked() const {
  if (agent_state_ != "running" && agent_state_ != "reloading") return false;
  for (const auto& [id, h] : health_) {
    if (h.state == HealthState::kFailed) return false;
  }
  return true;
}

void Telemetry::setConnected(const std::string& id, bool connected) {
  std::lock_guard lock(health_mu_);
  auto it = health_.find(id);
  if (it != health_.end()) it->second.connected = connected;
}

bool Telemetry::ready() const {
  std::lock_guard lock(health_mu_);
  return readyLocked();
}

bool Telemetry::readyLocked() const {
  if (agent_state_ != "running" || !healthyLocked()) return false;
  for (const auto& [id, h] : health_) {
    if (h.kind == "output" && !h.connected) return false;
  }
  return true;
}

std::string Telemetry::readyJson() const {
  std::lock_guard lock(health_mu_);
  const bool ok = readyLocked();
  std::string out = "{\"status\":";
  codec::appendJsonString(ok ? "ready" : "not ready", out);
  out += ",\"agent\":";
  codec::appendJsonString(agent_state_, out);
  // What readiness waits for: every output not yet connected, and any failed plugin.
  out += ",\"waiting_for\":[";
  bool first = true;
  for (const auto& id : health_order_) {
    const auto& h = health_.at(id);
    const bool waiting = h.state == HealthState::kFailed || (h.kind == "output" && !h.connected);
    if (!waiting) continue;
    if (!first) out += ',';
    first = false;
    appendPluginJson(h, /*full=*/false, out);
  }
  out += "]}";
  return out;
}

std::string Telemetry::healthJson() const {
  std::lock_guard lock(health_mu_);
  const bool ok = healthyLocked();
  std::string out = "{\"status\":";
  codec::appendJsonString(ok ? "healthy" : "unhealthy", out);
  out += ",\"agent\":";
  codec::appendJsonString(agent_state_, out);
  out += ",\"version\":";
  codec::appendJsonString(CVAGENT_VERSION, out);
  out += ",\"uptime_seconds\":" + std::to_string((wallNanos() - started_ns_) / 1'000'000'000);
  out += ",\"plugins\":[";
  bool first = true;
  for (const auto& id : health_order_) {
    const auto& h = health_.at(id);
    if (!first) out += ',';
    first = false;
    appendPluginJson(h, /*full=*/true, out);
  }
  out += "]}";
  return out;
}

InstanceContext::InstanceContext(std::string id, std::string kind, Telemetry& telemetry,
                                 const Clock& clock, std::string state_root)
    : id_(std::move(id)),
      kind_(std::move(kind)),
      telemetry_(telemetry),
      clock_(clock),
      state_root_(std::move(state_root)),
      logger_(id_) {
  telemetry_.registerPlugin(id_, kind_);
}

Counter& InstanceContext::counter(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  auto& slot = counters_[std::string(name)];
  if (!slot) {
    slot = std::make_unique<CounterAdapter>();
    slot->c = &telemetry_.counter(std::string(name), std::string(help), {{"plugin", id_}});
  }
  return *slot;
}

Gauge& InstanceContext::gauge(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  auto& slot = gauges_[std::string(name)];
  if (!slot) {
    slot = std::make_unique<GaugeAdapter>();
    slot->g = &telemetry_.gauge(std::string(name), std::string(help), {{"plugin", id_}});
  }
  return *slot;
}

void InstanceContext::setHealth(HealthState state, std::string_view detail) {
  telemetry_.setHealth(id_, state, std::string(detail));
}

std::string InstanceContext::stateDir() {
  std::filesystem::path dir = std::filesystem::path(state_root_) / id_;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    logger_.warn("cannot create state directory {}: {}", dir.string(), ec.message());
  }
  return dir.string();
}

std::string_view InstanceContext::agentVersion() const { return CVAGENT_VERSION; }

}  // namespace cvagent::observability

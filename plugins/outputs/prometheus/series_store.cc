#include "series_store.h"

#include <map>

namespace cvagent::outputs::prometheus {

SeriesStore::Update SeriesStore::update(const std::string& name,
                                        const std::vector<LabelPair>& labels, double value,
                                        std::int64_t event_ns, SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  makeSeriesKey(key_, name, labels);
  auto it = series_.find(key_);
  if (it == series_.end()) {
    if (series_.size() >= max_series_) return Update::kOverCap;
    series_.emplace(key_, Series{name, labels, value, event_ns, now});
    return Update::kStored;
  }
  Series& series = it->second;
  series.updated = now;  // a late event still proves the series is alive
  if (event_ns < series.event_ns) return Update::kStale;
  series.value = value;
  series.event_ns = event_ns;
  return Update::kStored;
}

std::size_t SeriesStore::expire(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  return std::erase_if(
      series_, [&](const auto& entry) { return now - entry.second.updated >= expire_after_; });
}

std::size_t SeriesStore::size() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

std::vector<::prometheus::MetricFamily> SeriesStore::Collect() const {
  // Expiry also runs here, so a series disappears even when no more writes come.
  const auto now = SteadyClock::now();
  std::map<std::string, ::prometheus::MetricFamily> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, series] : series_) {
      if (now - series.updated >= expire_after_) continue;
      auto& family = families[series.name];
      ::prometheus::ClientMetric metric;
      metric.label.reserve(series.labels.size());
      for (const LabelPair& label : series.labels)
        metric.label.push_back({label.name, label.value});
      metric.gauge.value = series.value;
      family.metric.push_back(std::move(metric));
    }
  }
  std::vector<::prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (auto& [name, family] : families) {
    family.name = name;
    family.help = "cvagent metric field " + name;
    family.type = ::prometheus::MetricType::Gauge;
    out.push_back(std::move(family));
  }
  return out;
}

}  // namespace cvagent::outputs::prometheus

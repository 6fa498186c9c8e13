#pragma once
// The gauges the `listen` endpoint serves: the last value of each series, dropped when not updated
// for `expire_after`, capped at `max_series`. Written by the output's worker, read by scrapes.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "series_mapping.h"

namespace cvagent::outputs::prometheus {

class SeriesStore final : public ::prometheus::Collectable {
 public:
  using SteadyClock = std::chrono::steady_clock;

  SeriesStore(std::chrono::milliseconds expire_after, std::size_t max_series)
      : expire_after_(expire_after), max_series_(max_series) {}

  enum class Update { kStored, kStale, kOverCap };

  // Sets the series to `value` unless it already holds a newer event (`event_ns`).
  Update update(const std::string& name, const std::vector<LabelPair>& labels, double value,
                std::int64_t event_ns, SteadyClock::time_point now);

  // Removes series not updated since `now - expire_after`; returns how many.
  std::size_t expire(SteadyClock::time_point now);

  std::size_t size() const;

  // Called by the exposer on every scrape.
  std::vector<::prometheus::MetricFamily> Collect() const override;

 private:
  struct Series {
    std::string name;
    std::vector<LabelPair> labels;
    double value = 0;
    std::int64_t event_ns = 0;
    SteadyClock::time_point updated;
  };

  std::chrono::milliseconds expire_after_;
  std::size_t max_series_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Series> series_;  // by name + labels
  std::string key_;                                 // scratch, guarded by mu_
};

}  // namespace cvagent::outputs::prometheus

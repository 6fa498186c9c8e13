#pragma once

#include <string>
#include <utility>

#include "cvagent/metric.h"

namespace cvagent::testing {

// MetricBuilder("trade").tag("pair", "BTC/USD").field("price", 95863.2).time(ns).build()
class MetricBuilder {
 public:
  explicit MetricBuilder(std::string name) : metric_(std::move(name), 0) {}
  MetricBuilder& tag(std::string_view key, std::string_view value) {
    metric_.setTag(key, value);
    return *this;
  }
  MetricBuilder& field(std::string_view key, FieldValue value) {
    metric_.setField(key, std::move(value));
    return *this;
  }
  MetricBuilder& field(std::string_view key, const char* value) {
    metric_.setField(key, std::string(value));
    return *this;
  }
  MetricBuilder& field(std::string_view key, int value) {
    metric_.setField(key, static_cast<std::int64_t>(value));
    return *this;
  }
  MetricBuilder& time(std::int64_t ns) {
    metric_.setTime(ns);
    return *this;
  }
  Metric build() const { return metric_; }
  operator Metric() const { return metric_; }

 private:
  Metric metric_;
};

}  // namespace cvagent::testing

#pragma once

#include <string>
#include <type_traits>
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
  // Signed integers become int64 fields, unsigned ones uint64.
  template <typename I>
  requires(std::is_integral_v<I> &&
           !std::is_same_v<I, bool>) MetricBuilder& field(std::string_view key, I value) {
    if constexpr (std::is_signed_v<I>) {
      metric_.setField(key, static_cast<std::int64_t>(value));
    } else {
      metric_.setField(key, static_cast<std::uint64_t>(value));
    }
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

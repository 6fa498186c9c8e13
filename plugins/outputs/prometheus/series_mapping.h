#pragma once
// How a cvagent metric becomes Prometheus series: one series per exported numeric field, named
// `<prefix><metric>_<field>`, labelled by the metric's tags (renamed as configured).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::outputs::prometheus {

struct LabelPair {
  std::string name;
  std::string value;
  friend bool operator==(const LabelPair&, const LabelPair&) = default;
};

struct MappingOptions {
  std::vector<std::string> metrics;                  // empty: every metric
  std::vector<std::string> fields;                   // empty: every numeric field
  std::vector<std::string> drop_fields;              // never exported (identifiers, not values)
  std::string prefix;                                // prepended to every series name
  std::map<std::string, std::string> label_renames;  // tag key -> label name
};

// Replaces every character Prometheus does not allow in a metric (`allow_colon`) or label name by
// `_`, and prefixes `_` when the name would start with a digit.
std::string sanitizeName(std::string_view name, bool allow_colon);

// `key` = a string identifying the series (name and labels): '\xff' cannot occur in valid UTF-8,
// so the key is unambiguous.
inline void makeSeriesKey(std::string& key, const std::string& name,
                          const std::vector<LabelPair>& labels) {
  key = name;
  for (const LabelPair& label : labels) {
    key += '\xff';
    key += label.name;
    key += '\xff';
    key += label.value;
  }
}

class SeriesMapping {
 public:
  explicit SeriesMapping(const MappingOptions& options);

  bool exportsMetric(std::string_view name) const {
    return metrics_.empty() || metrics_.contains(std::string(name));
  }

  // Calls `emit(series_name, labels, value)` for each exported field of `metric`. Labels are sorted
  // by name (what remote write wants and what makes a stable series key). Booleans export as 0/1;
  // strings are skipped.
  template <typename Emit>
  void forEachSeries(const Metric& metric, Emit&& emit) const {
    if (!exportsMetric(metric.name())) return;
    labels_.clear();
    for (const Tag& tag : metric.tags()) {
      if (tag.value.empty()) continue;  // to Prometheus an empty label is an absent one
      auto rename = renames_.find(tag.key);
      labels_.push_back(
          {rename != renames_.end() ? rename->second : sanitizeName(tag.key, false), tag.value});
    }
    sortLabels(labels_);  // renames and sanitizing may change the order
    for (const Field& field : metric.fields()) {
      double value = 0;
      if (!numberOf(field.value, value) || !exportsField(field.key)) continue;
      name_ = prefix_;
      name_ += sanitizeName(metric.name(), true);
      name_ += '_';
      name_ += sanitizeName(field.key, true);
      emit(std::as_const(name_), std::as_const(labels_), value);
    }
  }

 private:
  bool exportsField(const std::string& key) const {
    return (fields_.empty() || fields_.contains(key)) && !drop_fields_.contains(key);
  }
  static bool numberOf(const FieldValue& value, double& out);
  static void sortLabels(std::vector<LabelPair>& labels);

  std::set<std::string, std::less<>> metrics_;
  std::set<std::string, std::less<>> fields_;
  std::set<std::string, std::less<>> drop_fields_;
  std::string prefix_;
  std::map<std::string, std::string, std::less<>> renames_;
  // Scratch space reused across calls: write() runs on one worker thread.
  mutable std::vector<LabelPair> labels_;
  mutable std::string name_;
};

}  // namespace cvagent::outputs::prometheus

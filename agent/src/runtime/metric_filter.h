#pragma once
// namepass/namedrop/tagpass/tagdrop and extra tags: the selection every plugin instance has.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/pipeline_config.h"
#include "cvagent/metric.h"
#include "cvagent/text.h"

namespace cvagent::runtime {

using cvagent::globMatch;  // cvagent/text.h

class MetricFilter {
 public:
  MetricFilter() = default;
  explicit MetricFilter(const config::CommonOptions& options);

  bool empty() const { return empty_; }
  bool accepts(const Metric& metric) const;
  // Adds the instance's extra tags (existing tags of the same key are overwritten).
  void decorate(Metric& metric) const;
  bool decorates() const { return !tags_.empty(); }

 private:
  std::vector<std::string> namepass_, namedrop_;
  std::map<std::string, std::vector<std::string>> tagpass_, tagdrop_;
  std::map<std::string, std::string> tags_;
  bool empty_ = true;
};

}  // namespace cvagent::runtime

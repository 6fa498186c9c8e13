#include "runtime/metric_filter.h"

namespace cvagent::runtime {

MetricFilter::MetricFilter(const config::CommonOptions& o)
    : namepass_(o.namepass),
      namedrop_(o.namedrop),
      tagpass_(o.tagpass),
      tagdrop_(o.tagdrop),
      tags_(o.tags) {
  empty_ = namepass_.empty() && namedrop_.empty() && tagpass_.empty() && tagdrop_.empty();
}

namespace {
bool anyMatch(const std::vector<std::string>& globs, std::string_view text) {
  for (const auto& g : globs) {
    if (globMatch(g, text)) return true;
  }
  return false;
}

bool tagsMatch(const std::map<std::string, std::vector<std::string>>& rules, const Metric& m) {
  for (const auto& [key, globs] : rules) {
    const std::string* value = m.tag(key);
    if (value && anyMatch(globs, *value)) return true;
  }
  return false;
}
}  // namespace

bool MetricFilter::accepts(const Metric& m) const {
  if (empty_) return true;
  if (!namepass_.empty() && !anyMatch(namepass_, m.name())) return false;
  if (!namedrop_.empty() && anyMatch(namedrop_, m.name())) return false;
  if (!tagpass_.empty() && !tagsMatch(tagpass_, m)) return false;
  if (!tagdrop_.empty() && tagsMatch(tagdrop_, m)) return false;
  return true;
}

void MetricFilter::decorate(Metric& m) const {
  for (const auto& [k, v] : tags_) m.setTag(k, v);
}

}  // namespace cvagent::runtime

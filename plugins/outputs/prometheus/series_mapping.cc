#include "series_mapping.h"

#include <algorithm>
#include <cmath>

namespace cvagent::outputs::prometheus {

std::string sanitizeName(std::string_view name, bool allow_colon) {
  std::string out;
  out.reserve(name.size() + 1);
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) out += '_';
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (allow_colon && c == ':');
    out += ok ? c : '_';
  }
  return out;
}

SeriesMapping::SeriesMapping(const MappingOptions& options)
    : metrics_(options.metrics.begin(), options.metrics.end()),
      fields_(options.fields.begin(), options.fields.end()),
      drop_fields_(options.drop_fields.begin(), options.drop_fields.end()),
      prefix_(sanitizeName(options.prefix, true)) {
  if (options.prefix.empty()) prefix_.clear();
  for (const auto& [tag, label] : options.label_renames) renames_[tag] = sanitizeName(label, false);
}

bool SeriesMapping::numberOf(const FieldValue& value, double& out) {
  if (const auto* d = std::get_if<double>(&value)) {
    out = *d;
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    out = static_cast<double>(*i);
  } else if (const auto* u = std::get_if<std::uint64_t>(&value)) {
    out = static_cast<double>(*u);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out = *b ? 1.0 : 0.0;
  } else {
    return false;
  }
  return true;
}

void SeriesMapping::sortLabels(std::vector<LabelPair>& labels) {
  std::sort(labels.begin(), labels.end(),
            [](const LabelPair& a, const LabelPair& b) { return a.name < b.name; });
}

}  // namespace cvagent::outputs::prometheus

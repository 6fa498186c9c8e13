#include "cvagent/metric.h"

#include <algorithm>

namespace cvagent {

namespace {

template <typename Vec>
auto findByKey(Vec& items, std::string_view key) {
  return std::find_if(items.begin(), items.end(),
                      [&](const auto& item) { return item.key == key; });
}

}  // namespace

const std::string* Metric::tag(std::string_view key) const {
  auto it = std::lower_bound(tags_.begin(), tags_.end(), key,
                             [](const Tag& t, std::string_view k) { return t.key < k; });
  return it != tags_.end() && it->key == key ? &it->value : nullptr;
}

void Metric::setTag(std::string_view key, std::string_view value) {
  auto it = std::lower_bound(tags_.begin(), tags_.end(), key,
                             [](const Tag& t, std::string_view k) { return t.key < k; });
  if (it != tags_.end() && it->key == key) {
    it->value.assign(value);
  } else {
    tags_.insert(it, Tag{std::string(key), std::string(value)});
  }
}

bool Metric::removeTag(std::string_view key) {
  auto it = std::lower_bound(tags_.begin(), tags_.end(), key,
                             [](const Tag& t, std::string_view k) { return t.key < k; });
  if (it == tags_.end() || it->key != key) return false;
  tags_.erase(it);
  return true;
}

const FieldValue* Metric::field(std::string_view key) const {
  auto it = findByKey(fields_, key);
  return it == fields_.end() ? nullptr : &it->value;
}

FieldValue* Metric::field(std::string_view key) {
  auto it = findByKey(fields_, key);
  return it == fields_.end() ? nullptr : &it->value;
}

void Metric::setField(std::string_view key, FieldValue value) {
  auto it = findByKey(fields_, key);
  if (it != fields_.end()) {
    it->value = std::move(value);
  } else {
    fields_.push_back(Field{std::string(key), std::move(value)});
  }
}

bool Metric::removeField(std::string_view key) {
  auto it = findByKey(fields_, key);
  if (it == fields_.end()) return false;
  fields_.erase(it);
  return true;
}

const std::string* Metric::stringField(std::string_view key) const {
  const FieldValue* v = field(key);
  return v ? std::get_if<std::string>(v) : nullptr;
}

bool Metric::numberField(std::string_view key, double& out) const {
  const FieldValue* v = field(key);
  if (!v) return false;
  if (auto d = std::get_if<double>(v)) {
    out = *d;
  } else if (auto i = std::get_if<std::int64_t>(v)) {
    out = static_cast<double>(*i);
  } else if (auto u = std::get_if<std::uint64_t>(v)) {
    out = static_cast<double>(*u);
  } else {
    return false;
  }
  return true;
}

}  // namespace cvagent

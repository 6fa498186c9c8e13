#include "cvagent/config_node.h"

#include <algorithm>

namespace cvagent {

std::string SourceMark::str() const {
  std::string out = file.empty() ? std::string("<config>") : file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::str() const { return mark.str() + ": " + message; }

ConfigNode ConfigNode::scalar(std::string value, SourceMark mark) {
  ConfigNode node;
  node.type_ = Type::kScalar;
  node.text_ = std::move(value);
  node.mark_ = std::move(mark);
  return node;
}

ConfigNode ConfigNode::sequence(SourceMark mark) {
  ConfigNode node;
  node.type_ = Type::kSequence;
  node.mark_ = std::move(mark);
  return node;
}

ConfigNode ConfigNode::map(SourceMark mark) {
  ConfigNode node;
  node.type_ = Type::kMap;
  node.mark_ = std::move(mark);
  return node;
}

const std::vector<MapEntry>& ConfigNode::entries() const { return entries_; }

const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

void ConfigNode::append(ConfigNode item) { items_.push_back(std::move(item)); }

void ConfigNode::insert(std::string key, SourceMark key_mark, ConfigNode value) {
  for (auto& e : entries_) {
    if (e.key == key) {
      e.key_mark = std::move(key_mark);
      e.value = std::move(value);
      return;
    }
  }
  entries_.push_back(MapEntry{std::move(key), std::move(key_mark), std::move(value)});
}

bool ConfigNode::erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const MapEntry& e) { return e.key == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

const char* ConfigNode::typeName() const {
  switch (type_) {
    case Type::kNull:
      return "null";
    case Type::kScalar:
      return "scalar";
    case Type::kSequence:
      return "list";
    case Type::kMap:
      return "map";
  }
  return "?";
}

}  // namespace cvagent

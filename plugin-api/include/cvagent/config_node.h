#pragma once
// A plugin's options as the core read them: a small YAML-shaped tree whose every node remembers the
// file, line and column it came from, so any error can point at the exact place. The core builds it
// (from yaml-cpp); plugins only read it, through their options schema.

#include <string>
#include <string_view>
#include <vector>

namespace cvagent {

struct SourceMark {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  std::string str() const;  // "file:line:column"
};

struct MapEntry;

class ConfigNode {
 public:
  enum class Type { kNull, kScalar, kSequence, kMap };

  ConfigNode() = default;
  static ConfigNode scalar(std::string value, SourceMark mark = {});
  static ConfigNode sequence(SourceMark mark = {});
  static ConfigNode map(SourceMark mark = {});

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isScalar() const { return type_ == Type::kScalar; }
  bool isSequence() const { return type_ == Type::kSequence; }
  bool isMap() const { return type_ == Type::kMap; }
  const SourceMark& mark() const { return mark_; }

  // Scalar text, exactly as written (after ${VAR} substitution).
  const std::string& text() const { return text_; }
  // True when the scalar was quoted in the source ("123" is a string, 123 may be a number).
  bool quoted() const { return quoted_; }
  void setQuoted(bool quoted) { quoted_ = quoted; }

  const std::vector<ConfigNode>& items() const { return items_; }
  const std::vector<MapEntry>& entries() const;
  const ConfigNode* find(std::string_view key) const;

  void append(ConfigNode item);
  void insert(std::string key, SourceMark key_mark, ConfigNode value);
  // Removes and returns nothing if absent; used by the core to split its own keys from a plugin's.
  bool erase(std::string_view key);

  const char* typeName() const;

 private:
  Type type_ = Type::kNull;
  SourceMark mark_;
  std::string text_;
  bool quoted_ = false;
  std::vector<ConfigNode> items_;
  std::vector<MapEntry> entries_;
};

struct MapEntry {
  std::string key;
  SourceMark key_mark;
  ConfigNode value;
};

// One problem found in a configuration, reported as "file:line:column: message".
struct Diagnostic {
  SourceMark mark;
  std::string message;

  std::string str() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace cvagent

#include "cvagent/yaml_node.h"

#include <yaml-cpp/yaml.h>

#include <utility>

namespace cvagent {
namespace {

SourceMark markOf(const YAML::Node& node, const std::string& file) {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return SourceMark{file, 0, 0};
  return SourceMark{file, m.line + 1, m.column + 1};
}

// Thrown out of convert() when the document expands past kMaxYamlNodes: yaml-cpp keeps an alias
// as a shared node, the tree built here copies it, so a few hundred bytes of nested aliases would
// otherwise become billions of nodes.
struct TooManyNodes {
  SourceMark mark;
};

struct ConvertState {
  const std::string& file;
  const ScalarFilter& filter;
  Diagnostics& diags;
  std::size_t nodes = 0;
};

ConfigNode convert(const YAML::Node& node, ConvertState& state) {
  const std::string& file = state.file;
  const ScalarFilter& filter = state.filter;
  Diagnostics& diags = state.diags;
  const SourceMark mark = markOf(node, file);
  if (++state.nodes > kMaxYamlNodes) throw TooManyNodes{mark};
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string value = node.Scalar();
      if (filter) {
        std::string error;
        if (!filter(node.Scalar(), value, error)) {
          diags.push_back({mark, error});
          value = node.Scalar();
        }
      }
      ConfigNode out = ConfigNode::scalar(std::move(value), mark);
      // yaml-cpp tags a quoted scalar "!" and a plain one "?".
      out.setQuoted(node.Tag() == "!");
      return out;
    }
    case YAML::NodeType::Sequence: {
      ConfigNode out = ConfigNode::sequence(mark);
      for (const auto& item : node) out.append(convert(item, state));
      return out;
    }
    case YAML::NodeType::Map: {
      ConfigNode out = ConfigNode::map(mark);
      for (const auto& kv : node) {
        const SourceMark key_mark = markOf(kv.first, file);
        if (!kv.first.IsScalar()) {
          diags.push_back({key_mark, "map keys must be plain strings"});
          continue;
        }
        const std::string key = kv.first.Scalar();
        if (out.find(key)) {
          diags.push_back({key_mark, "duplicate key '" + key + "'"});
          continue;
        }
        out.insert(key, key_mark, convert(kv.second, state));
      }
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return ConfigNode();
}

}  // namespace

std::optional<ConfigNode> parseYamlNode(const std::string& text, const std::string& file_name,
                                        Diagnostics& diags, const ScalarFilter& filter) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diags.push_back({SourceMark{file_name, e.mark.is_null() ? 0 : e.mark.line + 1,
                                e.mark.is_null() ? 0 : e.mark.column + 1},
                     "invalid YAML: " + e.msg});
    return std::nullopt;
  }
  ConvertState state{file_name, filter, diags};
  try {
    return convert(root, state);
  } catch (const TooManyNodes& e) {
    diags.push_back({e.mark, "the document expands to more than " + std::to_string(kMaxYamlNodes) +
                                 " nodes (aliases are expanded); refused"});
    return std::nullopt;
  }
}

}  // namespace cvagent

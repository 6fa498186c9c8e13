#pragma once
// Options for a plugin test, bound from YAML through the plugin's schema exactly as the agent binds
// a pipeline file: unknown keys, types, constraints and the schema's checks all apply, so a test
// cannot build options the agent would refuse, and a plugin needs no validation of its own.
//
//   auto options = cvagent::testing::bindOptions<OhlcOptions>("intervals: [1m, 5m]\ngrace: 2s");
//
// Link cvagent::yaml (cvagent_add_plugin's TESTS do).

#include <stdexcept>
#include <string>
#include <string_view>

#include "cvagent/options.h"
#include "cvagent/yaml_node.h"

namespace cvagent::testing {

// Throws std::invalid_argument with every diagnostic ("options.yaml:2:8: option 'grace' ...").
template <typename T>
T bindOptions(const std::string& yaml, std::string_view context = "plugin") {
  Diagnostics diags;
  std::optional<ConfigNode> node = parseYamlNode(yaml, "options.yaml", diags);
  T options{};
  if (node && node->isNull()) node = ConfigNode::map(SourceMark{"options.yaml", 1, 1});
  if (node && !node->isMap()) {
    diags.push_back({node->mark(), "options must be a map"});
  } else if (node) {
    schemaOf<T>().bind(&options, *node, context, diags);
  }
  if (!diags.empty()) {
    std::string message;
    for (const auto& d : diags) message += (message.empty() ? "" : "\n") + d.str();
    throw std::invalid_argument(message);
  }
  return options;
}

}  // namespace cvagent::testing

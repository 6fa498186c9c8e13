#pragma once
// YAML text to a ConfigNode tree, every node marked with the file, line and column it came from.
// The agent reads pipeline files with it; the testing kit binds options from YAML with it
// (cvagent/testing/bind_options.h). Library: cvagent::yaml (links yaml-cpp).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "cvagent/config_node.h"

namespace cvagent {

// Rewrites a scalar as read (the agent substitutes ${VAR} here). Returning false with `error` set
// reports the scalar, which is then kept as written.
using ScalarFilter =
    std::function<bool(const std::string& in, std::string& out, std::string& error)>;

// Most nodes a document may expand to, aliases counted at every use: a real pipeline has a few
// hundred; an alias bomb (a few hundred bytes naming each level nine times) has billions.
inline constexpr std::size_t kMaxYamlNodes = 100'000;

// Parses one YAML document. Syntax errors, non-string keys and duplicate keys become diagnostics;
// nullopt on a syntax error or a document over kMaxYamlNodes. An empty document is a null node.
std::optional<ConfigNode> parseYamlNode(const std::string& text, const std::string& file_name,
                                        Diagnostics& diags, const ScalarFilter& filter = {});

}  // namespace cvagent

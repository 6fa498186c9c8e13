#pragma once
// Reads pipeline files into one ConfigNode tree: YAML via yaml-cpp, every node marked with its
// file:line:column, ${VAR} and ${VAR:-default} substituted from the environment, several files
// (-c repeated, --config-dir) merged.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cvagent/config_node.h"

namespace cvagent::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
EnvLookup processEnv();

// Expands ${VAR}, ${VAR:-default} and $$ in `text`. Unset variables without a default are errors.
bool substitute(const std::string& text, const EnvLookup& env, std::string& out,
                std::string& error);

// Parses one YAML document. Syntax errors become diagnostics with the position yaml-cpp reports.
std::optional<ConfigNode> parseYaml(const std::string& text, const std::string& file_name,
                                    const EnvLookup& env, Diagnostics& diags);

std::optional<ConfigNode> loadFile(const std::string& path, const EnvLookup& env,
                                   Diagnostics& diags);

// Loads `files` then every *.yaml / *.yml of each directory in `dirs` (sorted by name) and merges
// them: the plugin lists are concatenated in order, `agent` keys of later files win.
std::optional<ConfigNode> loadAll(const std::vector<std::string>& files,
                                  const std::vector<std::string>& dirs, const EnvLookup& env,
                                  Diagnostics& diags);

}  // namespace cvagent::config

#pragma once
// Reads pipeline files into one ConfigNode tree: YAML via yaml-cpp, every node marked with its
// file:line:column, ${VAR} and ${VAR:-default} substituted from the environment, several files
// (-c repeated, --config-dir) merged.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_config.h"
#include "cvagent/config_node.h"

namespace cvagent::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Largest pipeline file read; a real one is a few KiB.
inline constexpr std::size_t kMaxConfigFileBytes = 4 * 1024 * 1024;

// The process environment.
EnvLookup processEnv();

// Expands ${VAR}, ${VAR:-default} and $$ in `text`. Unset variables without a default are errors.
bool substitute(const std::string& text, const EnvLookup& env, std::string& out,
                std::string& error);

// Parses one YAML document. Syntax errors become diagnostics with the position yaml-cpp reports.
std::optional<ConfigNode> parseYaml(const std::string& text, const std::string& file_name,
                                    const EnvLookup& env, Diagnostics& diags);

// Reads one pipeline file: a directory or a file over kMaxConfigFileBytes is refused.
std::optional<ConfigNode> loadFile(const std::string& path, const EnvLookup& env,
                                   Diagnostics& diags);

// Loads `files` then every *.yaml / *.yml of each directory in `dirs` (sorted by name) and merges
// them: the plugin lists are concatenated in order, `agent` keys of later files win.
std::optional<ConfigNode> loadAll(const std::vector<std::string>& files,
                                  const std::vector<std::string>& dirs, const EnvLookup& env,
                                  Diagnostics& diags);

// A pipeline without inputs or without outputs does nothing: refused, pointing at `where`.
void requireInputsAndOutputs(const PipelineConfig& config, const SourceMark& where,
                             Diagnostics& diags);

}  // namespace cvagent::config

#include "config/config_loader.h"

#include "cvagent/yaml_node.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cvagent::config {

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

bool substitute(const std::string& text, const EnvLookup& env, std::string& out,
                std::string& error) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {  // $$ is a literal $
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      error = "unterminated '${' in '" + text + "'";
      return false;
    }
    std::string expr = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (const auto sep = expr.find(":-"); sep != std::string::npos) {
      fallback = expr.substr(sep + 2);
      expr.resize(sep);
    }
    const bool valid_name = !expr.empty() && std::all_of(expr.begin(), expr.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    });
    if (!valid_name) {
      error = "bad variable name '" + expr + "' in '${...}'";
      return false;
    }
    std::optional<std::string> value = env(expr);
    if (fallback && (!value || value->empty())) value = fallback;
    if (!value) {
      error = "environment variable '" + expr + "' is not set (use ${" + expr +
              ":-default} for a default)";
      return false;
    }
    out += *value;
    i = close;
  }
  return true;
}

std::optional<ConfigNode> parseYaml(const std::string& text, const std::string& file_name,
                                    const EnvLookup& env, Diagnostics& diags) {
  auto root = parseYamlNode(text, file_name, diags,
                            [&env](const std::string& in, std::string& out, std::string& error) {
                              return substitute(in, env, out, error);
                            });
  if (!root) return std::nullopt;
  if (root->isNull()) return ConfigNode::map(SourceMark{file_name, 1, 1});
  if (!root->isMap()) {
    diags.push_back(
        {root->mark(), "a pipeline file must be a map with agent, inputs, processors, outputs"});
    return std::nullopt;
  }
  return root;
}

std::optional<ConfigNode> loadFile(const std::string& path, const EnvLookup& env,
                                   Diagnostics& diags) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::is_directory(status)) {
    diags.push_back({SourceMark{path, 0, 0},
                     "is a directory, not a pipeline file (use --config-dir for a directory)"});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.push_back({SourceMark{path, 0, 0}, "cannot read configuration file"});
    return std::nullopt;
  }
  // Read one byte past the limit to tell "at the limit" from "over it" without trusting st_size
  // (a FIFO or /proc file has none).
  std::string text(kMaxConfigFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigFileBytes) {
    diags.push_back({SourceMark{path, 0, 0},
                     "configuration file is larger than " +
                         std::to_string(kMaxConfigFileBytes / (1024 * 1024)) + " MiB; refused"});
    return std::nullopt;
  }
  if (in.bad()) {
    diags.push_back({SourceMark{path, 0, 0}, "cannot read configuration file"});
    return std::nullopt;
  }
  return parseYaml(text, path, env, diags);
}

namespace {

void mergeInto(ConfigNode& target, const ConfigNode& source) {
  for (const auto& entry : source.entries()) {
    const ConfigNode* existing = target.find(entry.key);
    if (existing && existing->isSequence() && entry.value.isSequence()) {
      ConfigNode merged = *existing;
      for (const auto& item : entry.value.items()) merged.append(item);
      target.insert(entry.key, entry.key_mark, std::move(merged));
    } else if (existing && existing->isMap() && entry.value.isMap()) {
      ConfigNode merged = *existing;
      mergeInto(merged, entry.value);
      target.insert(entry.key, entry.key_mark, std::move(merged));
    } else {
      target.insert(entry.key, entry.key_mark, entry.value);
    }
  }
}

}  // namespace

std::optional<ConfigNode> loadAll(const std::vector<std::string>& files,
                                  const std::vector<std::string>& dirs, const EnvLookup& env,
                                  Diagnostics& diags) {
  std::vector<std::string> paths = files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
        found.push_back(entry.path().string());
    }
    if (ec) {
      diags.push_back(
          {SourceMark{dir, 0, 0}, "cannot read configuration directory: " + ec.message()});
      continue;
    }
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  if (paths.empty()) {
    diags.push_back({SourceMark{}, "no configuration given (use -c FILE or --config-dir DIR)"});
    return std::nullopt;
  }
  std::optional<ConfigNode> merged;
  for (const auto& path : paths) {
    auto node = loadFile(path, env, diags);
    if (!node) continue;
    if (!merged) {
      merged = std::move(node);
    } else {
      mergeInto(*merged, *node);
    }
  }
  return merged;
}

void requireInputsAndOutputs(const PipelineConfig& config, const SourceMark& where,
                             Diagnostics& diags) {
  // An empty or truncated file would otherwise validate, and a reload would swap the running
  // pipeline for one that does nothing.
  if (config.inputs.empty())
    diags.push_back({where, "the pipeline has no inputs (an empty or truncated file?)"});
  if (config.outputs.empty())
    diags.push_back({where, "the pipeline has no outputs (an empty or truncated file?)"});
}

}  // namespace cvagent::config

#pragma once
// Finds plugin libraries in the configured directories only, loads them with Boost.DLL, checks
// that they were built for this agent (ABI version, descriptor size, build fingerprint) and keeps
// each library loaded for as long as anything made from it lives.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cvagent/descriptor.h"

namespace boost::dll {
class shared_library;
}

namespace cvagent::plugins {

class LoadedPlugin {
 public:
  LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
               const PluginDescriptor* descriptor, std::string path);
  ~LoadedPlugin();
  const PluginDescriptor& descriptor() const { return *descriptor_; }
  const std::string& path() const { return path_; }  // "" for a built-in plugin
  std::string fullName() const;                      // "outputs.stdout"

 private:
  std::shared_ptr<boost::dll::shared_library> library_;
  const PluginDescriptor* descriptor_;
  std::string path_;
};

using PluginHandle = std::shared_ptr<const LoadedPlugin>;

// "libcvagent_output_stdout.so" for (kOutput, "stdout").
std::string pluginFileName(PluginKind kind, const std::string& name);

// Loads one plugin file, or says why not: unreadable, not a shared library, missing symbols,
// not a cvagent plugin, built for another ABI or standard library.
PluginHandle loadPluginFile(const std::string& path, std::string& error);

// The search path: --plugin-dir values, then CVAGENT_PLUGIN_PATH (colon-separated), then the
// pipeline's agent.plugin_dirs, then the packaged directory next to the executable
// (<prefix>/bin/../lib/cvagent/plugins).
std::vector<std::string> pluginSearchPath(const std::vector<std::string>& cli_dirs,
                                          const std::vector<std::string>& config_dirs);
std::string packagedPluginDir();

class PluginRegistry {
 public:
  explicit PluginRegistry(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  // A plugin linked into the agent (tests, benchmarks). Takes precedence over files.
  void addBuiltin(const PluginDescriptor* descriptor);

  // The plugin <kind>s.<name>: nullptr with `error` set when absent or refused.
  PluginHandle find(PluginKind kind, const std::string& name, std::string& error);

  // Every plugin in the search path (first of each name wins); refusals go to `errors`.
  std::vector<PluginHandle> loadAll(std::vector<std::string>& errors);

  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;
  std::map<std::string, PluginHandle> loaded_;  // by full name
};

}  // namespace cvagent::plugins

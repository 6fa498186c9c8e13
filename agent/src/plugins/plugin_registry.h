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

// What a plugin file and its directory must be before the agent maps or runs any of it.
struct LoadPolicy {
  // Development only (--allow-insecure-plugins): load files and directories that are group- or
  // world-writable or owned by another user, each logged as a warning.
  bool allow_insecure = false;
};

// The checks run before dlopen, reading the file with read(2) only (no mapping, none of its code):
// - the file and its directory are owned by root or the agent's user and not group- or
//   world-writable (unless `policy.allow_insecure`);
// - the file is a complete ELF shared library for this machine: every loaded segment and the
//   section headers lie inside the file (a truncated file would otherwise be mapped and die with
//   SIGBUS on the first touch);
// - its dynamic symbol table defines the entry symbol as a pointer-sized object (what
//   CVAGENT_PLUGIN exports); a function of that name would be called as if it were the pointer.
// Empty when the file may be loaded, else the reason (without the path).
std::string checkPluginFile(const std::string& path, const LoadPolicy& policy);

// "libcvagent_output_stdout.so" for (kOutput, "stdout").
std::string pluginFileName(PluginKind kind, const std::string& name);

// Loads one plugin file, or says why not: refused by checkPluginFile, not a shared library,
// missing symbols, not a cvagent plugin, built for another ABI or standard library.
PluginHandle loadPluginFile(const std::string& path, std::string& error,
                            const LoadPolicy& policy = {});

// The search path: --plugin-dir values, then CVAGENT_PLUGIN_PATH (colon-separated), then the
// pipeline's agent.plugin_dirs, then the packaged directory next to the executable
// (<prefix>/bin/../lib/cvagent/plugins). Relative --plugin-dir and CVAGENT_PLUGIN_PATH entries are
// made absolute against the working directory; `config_dirs` come resolved against their file's
// folder (config::parsePipeline).
std::vector<std::string> pluginSearchPath(const std::vector<std::string>& cli_dirs,
                                          const std::vector<std::string>& config_dirs);
std::string packagedPluginDir();

class PluginRegistry {
 public:
  explicit PluginRegistry(std::vector<std::string> dirs, LoadPolicy policy = {})
      : dirs_(std::move(dirs)), policy_(policy) {}

  // A plugin linked into the agent (tests, benchmarks). Takes precedence over files.
  void addBuiltin(const PluginDescriptor* descriptor);

  // The plugin <kind>s.<name>: nullptr with `error` set when absent or refused.
  PluginHandle find(PluginKind kind, const std::string& name, std::string& error);

  // Every plugin in the search path (first of each name wins); refusals go to `errors`.
  std::vector<PluginHandle> loadAll(std::vector<std::string>& errors);

  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;
  LoadPolicy policy_;
  std::map<std::string, PluginHandle> loaded_;  // by full name
};

}  // namespace cvagent::plugins

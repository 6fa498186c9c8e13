#include "plugins/plugin_registry.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace cvagent::plugins {

namespace fs = std::filesystem;

LoadedPlugin::LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
                           const PluginDescriptor* descriptor, std::string path)
    : library_(std::move(library)), descriptor_(descriptor), path_(std::move(path)) {}

LoadedPlugin::~LoadedPlugin() = default;

std::string LoadedPlugin::fullName() const {
  return std::string(kindSection(descriptor_->kind)) + "." + descriptor_->name;
}

std::string pluginFileName(PluginKind kind, const std::string& name) {
  return std::string("libcvagent_") + kindName(kind) + "_" + name + ".so";
}

PluginHandle loadPluginFile(const std::string& path, std::string& error) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      error = fmt::format("plugin {}: cannot read the file: {}", path, std::strerror(errno));
      return nullptr;
    }
  }
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  // rtld_now: a missing symbol is found here, with a message, not later as a crash.
  library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* why = dlerror();
    error = fmt::format("plugin {}: cannot load it: {}", path, why ? why : ec.message());
    return nullptr;
  }
  if (!library->has(kPluginEntrySymbol)) {
    error =
        fmt::format("plugin {}: not a cvagent plugin (no symbol '{}')", path, kPluginEntrySymbol);
    return nullptr;
  }
  using Entry = const PluginDescriptor*();
  const PluginDescriptor* descriptor = library->get_alias<Entry>(kPluginEntrySymbol)();
  if (!descriptor) {
    error = fmt::format("plugin {}: its entry point returned no descriptor", path);
    return nullptr;
  }
  // Only the first two fields are read before the version is known to match.
  if (descriptor->abi_version != kPluginAbiVersion) {
    error = fmt::format(
        "plugin {}: built for plugin ABI version {}, but this agent (cvagent {}) has plugin ABI "
        "version {}; rebuild the plugin against this agent's SDK",
        path, descriptor->abi_version, CVAGENT_VERSION, kPluginAbiVersion);
    return nullptr;
  }
  if (descriptor->descriptor_size < sizeof(PluginDescriptor)) {
    error = fmt::format(
        "plugin {}: its descriptor has {} bytes, this agent needs {}; rebuild the plugin against "
        "this agent's SDK",
        path, descriptor->descriptor_size, sizeof(PluginDescriptor));
    return nullptr;
  }
  if (!descriptor->build_fingerprint ||
      std::strcmp(descriptor->build_fingerprint, kBuildFingerprint) != 0) {
    error = fmt::format(
        "plugin {}: built with standard library '{}', this agent uses '{}'; C++ types cross the "
        "plugin boundary, so rebuild the plugin with the agent's toolchain",
        path, descriptor->build_fingerprint ? descriptor->build_fingerprint : "(none)",
        kBuildFingerprint);
    return nullptr;
  }
  const bool factory_ok =
      (descriptor->kind == PluginKind::kInput && descriptor->create_input) ||
      (descriptor->kind == PluginKind::kProcessor && descriptor->create_processor) ||
      (descriptor->kind == PluginKind::kOutput && descriptor->create_output);
  if (!descriptor->name || !*descriptor->name || !descriptor->options || !factory_ok) {
    error =
        fmt::format("plugin {}: incomplete descriptor (name, options or factory missing)", path);
    return nullptr;
  }
  return std::make_shared<LoadedPlugin>(std::move(library), descriptor, path);
}

std::string packagedPluginDir() {
  boost::dll::fs::error_code ec;
  const auto exe = boost::dll::program_location(ec);
  if (ec) return {};
  return (fs::path(exe.string()).parent_path().parent_path() / "lib" / "cvagent" / "plugins")
      .lexically_normal()
      .string();
}

std::vector<std::string> pluginSearchPath(const std::vector<std::string>& cli_dirs,
                                          const std::vector<std::string>& config_dirs) {
  std::vector<std::string> dirs = cli_dirs;
  if (const char* env = std::getenv("CVAGENT_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.insert(dirs.end(), config_dirs.begin(), config_dirs.end());
  if (auto packaged = packagedPluginDir(); !packaged.empty()) dirs.push_back(packaged);
  return dirs;
}

void PluginRegistry::addBuiltin(const PluginDescriptor* descriptor) {
  auto handle = std::make_shared<LoadedPlugin>(nullptr, descriptor, "");
  loaded_[handle->fullName()] = handle;
}

PluginHandle PluginRegistry::find(PluginKind kind, const std::string& name, std::string& error) {
  const std::string full = std::string(kindSection(kind)) + "." + name;
  if (auto it = loaded_.find(full); it != loaded_.end()) return it->second;
  const std::string file = pluginFileName(kind, name);
  for (const auto& dir : dirs_) {
    const fs::path candidate = fs::path(dir) / file;
    std::error_code ec;
    if (!fs::exists(candidate, ec)) continue;
    PluginHandle handle = loadPluginFile(candidate.string(), error);
    if (!handle) return nullptr;
    if (handle->descriptor().kind != kind || handle->descriptor().name != name) {
      error = fmt::format("plugin {}: its descriptor says {}, not {}", candidate.string(),
                          handle->fullName(), full);
      return nullptr;
    }
    loaded_[full] = handle;
    return handle;
  }
  std::string searched;
  for (const auto& dir : dirs_) searched += (searched.empty() ? "" : ", ") + dir;
  error = fmt::format("no plugin {} ({} not found in {})", full, file,
                      searched.empty() ? "any plugin directory" : searched);
  return nullptr;
}

std::vector<PluginHandle> PluginRegistry::loadAll(std::vector<std::string>& errors) {
  std::set<std::string> seen;
  std::vector<PluginHandle> out;
  for (const auto& [name, handle] : loaded_) {
    if (handle->path().empty()) {
      seen.insert(name);
      out.push_back(handle);
    }
  }
  for (const auto& dir : dirs_) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string fname = entry.path().filename().string();
      if (fname.rfind("libcvagent_", 0) == 0 && entry.path().extension() == ".so")
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string error;
      PluginHandle handle = loadPluginFile(file.string(), error);
      if (!handle) {
        errors.push_back(error);
        continue;
      }
      if (!seen.insert(handle->fullName()).second) continue;
      loaded_.emplace(handle->fullName(), handle);
      out.push_back(handle);
    }
  }
  std::sort(out.begin(), out.end(), [](const PluginHandle& a, const PluginHandle& b) {
    return a->fullName() < b->fullName();
  });
  return out;
}

}  // namespace cvagent::plugins

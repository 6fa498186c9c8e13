#include "plugins/plugin_registry.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "observability/logging.h"

namespace cvagent::plugins {

namespace fs = std::filesystem;

LoadedPlugin::LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
                           const PluginDescriptor* descriptor, std::string path)
    : library_(std::move(library)), descriptor_(descriptor), path_(std::move(path)) {}

LoadedPlugin::~LoadedPlugin() = default;

std::string LoadedPlugin::fullName() const {
  return std::string(kindSection(descriptor_->kind)) + "." + descriptor_->name;
}

namespace {

using Ehdr = ElfW(Ehdr);
using Phdr = ElfW(Phdr);
using Shdr = ElfW(Shdr);
using Sym = ElfW(Sym);

constexpr unsigned char kElfClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr unsigned char kElfData =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
#if defined(__x86_64__)
constexpr unsigned kElfMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kElfMachine = EM_AARCH64;
#else
constexpr unsigned kElfMachine = EM_NONE;  // not checked; dlopen still refuses a wrong one
#endif

// "" when `st` (of `what`) is owned by root or this user and not writable by group or others.
std::string ownershipProblem(const struct stat& st, const std::string& what) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return fmt::format("{} is owned by uid {}, not by root or the agent's user (uid {})", what,
                       st.st_uid, ::geteuid());
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return fmt::format("{} is {}-writable (mode {:o})", what,
                       (st.st_mode & S_IWOTH) ? "world" : "group", st.st_mode & 07777);
  }
  return {};
}

class FileReader {
 public:
  explicit FileReader(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  // Reads [offset, offset + len) or returns false when it is not entirely inside the file.
  bool read(std::uint64_t offset, std::uint64_t len, void* out) const {
    if (offset > size_ || len > size_ - offset) return false;
    auto* dst = static_cast<char*>(out);
    while (len > 0) {
      const ssize_t n = ::pread(fd_, dst, len, static_cast<off_t>(offset));
      if (n <= 0) return false;
      dst += n;
      offset += static_cast<std::uint64_t>(n);
      len -= static_cast<std::uint64_t>(n);
    }
    return true;
  }
  bool contains(std::uint64_t offset, std::uint64_t len) const {
    return offset <= size_ && len <= size_ - offset;
  }

 private:
  int fd_;
  std::uint64_t size_;
};

std::string elfProblem(const FileReader& file) {
  Ehdr eh{};
  if (!file.read(0, sizeof eh, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return "not an ELF file";
  if (eh.e_ident[EI_CLASS] != kElfClass || eh.e_ident[EI_DATA] != kElfData ||
      (kElfMachine != EM_NONE && eh.e_machine != kElfMachine))
    return "an ELF file for another machine";
  if (eh.e_type != ET_DYN) return "not an ELF shared library";
  if (eh.e_phentsize != sizeof(Phdr) ||
      !file.contains(eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Phdr)))
    return "truncated or damaged ELF file (program headers outside the file)";
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr ph{};
    file.read(eh.e_phoff + i * sizeof(Phdr), sizeof ph, &ph);
    if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) &&
        !file.contains(ph.p_offset, ph.p_filesz))
      return "truncated ELF file (a segment ends past the end of the file)";
  }
  if (eh.e_shnum == 0 || eh.e_shentsize != sizeof(Shdr) ||
      !file.contains(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Shdr)))
    return "truncated or damaged ELF file (section headers missing or outside the file)";
  // The entry symbol, from the dynamic symbol table.
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Shdr sh{};
    file.read(eh.e_shoff + i * sizeof(Shdr), sizeof sh, &sh);
    if (sh.sh_type != SHT_DYNSYM || sh.sh_entsize != sizeof(Sym)) continue;
    Shdr strtab{};
    if (sh.sh_link >= eh.e_shnum ||
        !file.read(eh.e_shoff + sh.sh_link * sizeof(Shdr), sizeof strtab, &strtab) ||
        !file.contains(sh.sh_offset, sh.sh_size) ||
        !file.contains(strtab.sh_offset, strtab.sh_size))
      return "truncated or damaged ELF file (symbol table outside the file)";
    const std::string_view wanted = kPluginEntrySymbol;
    for (std::uint64_t off = 0; off + sizeof(Sym) <= sh.sh_size; off += sizeof(Sym)) {
      Sym sym{};
      file.read(sh.sh_offset + off, sizeof sym, &sym);
      if (sym.st_name + wanted.size() + 1 > strtab.sh_size) continue;
      char name[64] = {};
      file.read(strtab.sh_offset + sym.st_name, wanted.size() + 1, name);
      if (std::string_view(name, wanted.size() + 1) != std::string(wanted) + '\0') continue;
      if (sym.st_shndx == SHN_UNDEF) continue;
      if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_size != sizeof(void*)) {
        return fmt::format(
            "exports '{}' as {} of {} bytes, not as the {}-byte pointer CVAGENT_PLUGIN exports; "
            "declare the plugin with CVAGENT_PLUGIN(...)",
            kPluginEntrySymbol, ELF64_ST_TYPE(sym.st_info) == STT_FUNC ? "a function" : "a symbol",
            sym.st_size, sizeof(void*));
      }
      return {};
    }
  }
  return fmt::format("not a cvagent plugin (no symbol '{}')", kPluginEntrySymbol);
}

}  // namespace

std::string checkPluginFile(const std::string& path, const LoadPolicy& policy) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fmt::format("cannot read the file: {}", std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fmt::format("cannot read the file: {}", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  std::error_code ec;
  const fs::path dir = fs::canonical(path, ec).parent_path();
  struct stat dir_st {};
  if (ec || ::stat(dir.c_str(), &dir_st) != 0)
    return fmt::format("cannot inspect its directory: {}",
                       ec ? ec.message() : std::strerror(errno));
  for (std::string problem : {ownershipProblem(st, "the file"),
                              ownershipProblem(dir_st, "its directory " + dir.string())}) {
    if (problem.empty()) continue;
    if (!policy.allow_insecure) {
      return problem +
             "; anyone who can write it can run code as the agent (fix the owner or mode, or "
             "pass --allow-insecure-plugins for development)";
    }
    observability::agentLog().warn(
        "INSECURE PLUGIN loaded anyway (--allow-insecure-plugins): {}: {}", path, problem);
  }
  return elfProblem(FileReader(fd, static_cast<std::uint64_t>(st.st_size)));
}

std::string pluginFileName(PluginKind kind, const std::string& name) {
  return std::string("libcvagent_") + kindName(kind) + "_" + name + ".so";
}

PluginHandle loadPluginFile(const std::string& path, std::string& error, const LoadPolicy& policy) {
  if (std::string problem = checkPluginFile(path, policy); !problem.empty()) {
    error = fmt::format("plugin {}: refused: {}", path, problem);
    return nullptr;
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
  if (!library->has(kPluginEntrySymbol)) {  // checked above; kept for a file replaced meanwhile
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
  std::vector<std::string> dirs;
  dirs.reserve(cli_dirs.size() + config_dirs.size() + 1);
  for (const auto& dir : cli_dirs) dirs.push_back(fs::absolute(dir).lexically_normal().string());
  if (const char* env = std::getenv("CVAGENT_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.push_back(fs::absolute(fs::path(part)).lexically_normal().string());
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
    PluginHandle handle = loadPluginFile(candidate.string(), error, policy_);
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
      PluginHandle handle = loadPluginFile(file.string(), error, policy_);
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

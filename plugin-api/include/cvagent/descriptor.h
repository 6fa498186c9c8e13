#pragma once
// What a plugin library exports: one descriptor, returned by the function behind the symbol
// `cvagent_plugin_v1` (see cvagent/plugin.h for the macro that writes it).

#include <cstdint>
#include <memory>

#include "cvagent/input.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"
#include "cvagent/version.h"

// C++ types cross the plugin boundary, so a plugin must be built with the agent's standard library
// ABI. The fingerprint names what must match; the loader refuses a plugin whose fingerprint
// differs.
#define CVAGENT_STRINGIFY_IMPL(x) #x
#define CVAGENT_STRINGIFY(x) CVAGENT_STRINGIFY_IMPL(x)
#if defined(_GLIBCXX_RELEASE)
#define CVAGENT_STDLIB_ID                                                         \
  "libstdc++-" CVAGENT_STRINGIFY(_GLIBCXX_RELEASE) "-cxx11abi" CVAGENT_STRINGIFY( \
      _GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define CVAGENT_STDLIB_ID "libc++-" CVAGENT_STRINGIFY(_LIBCPP_ABI_VERSION)
#else
#define CVAGENT_STDLIB_ID "unknown-stdlib"
#endif
#if defined(_GLIBCXX_DEBUG)
#define CVAGENT_DEBUG_ID "-debugcontainers"
#else
#define CVAGENT_DEBUG_ID ""
#endif
#define CVAGENT_BUILD_FINGERPRINT CVAGENT_STDLIB_ID CVAGENT_DEBUG_ID

namespace cvagent {

inline constexpr std::uint32_t kPluginAbiVersion = CVAGENT_PLUGIN_ABI_VERSION;
inline constexpr const char* kBuildFingerprint = CVAGENT_BUILD_FINGERPRINT;
inline constexpr const char* kPluginEntrySymbol = "cvagent_plugin_v1";

enum class PluginKind : std::uint32_t { kInput = 1, kProcessor = 2, kOutput = 3 };
enum class Stability : std::uint32_t { kStable = 1, kBeta = 2, kExperimental = 3 };

// `options` is a default-constructed-then-bound options struct of the plugin's own type.
using InputFactory = std::unique_ptr<Input> (*)(const void* options, PluginContext& context);
using ProcessorFactory = std::unique_ptr<Processor> (*)(const void* options,
                                                        PluginContext& context);
using OutputFactory = std::unique_ptr<Output> (*)(const void* options, PluginContext& context);

// Layout rule: the first two members never move, so any agent can read them from any plugin and
// refuse a mismatch before touching anything else. New members go at the end.
struct PluginDescriptor {
  std::uint32_t abi_version;      // kPluginAbiVersion when the plugin was built
  std::uint32_t descriptor_size;  // sizeof(PluginDescriptor) when the plugin was built
  const char* build_fingerprint;  // kBuildFingerprint when the plugin was built
  PluginKind kind;
  const char* name;         // "kraken": the plugin id is "<kind>s.<name>"
  const char* description;  // one line
  Stability stability;
  const OptionSchema* options;
  InputFactory create_input;
  ProcessorFactory create_processor;
  OutputFactory create_output;
};

const char* kindName(PluginKind kind);     // "input"
const char* kindSection(PluginKind kind);  // "inputs"
const char* stabilityName(Stability stability);

namespace detail {
template <typename Plugin, typename Options, typename Base>
std::unique_ptr<Base> construct(const void* options, PluginContext& context) {
  return std::make_unique<Plugin>(*static_cast<const Options*>(options), context);
}
}  // namespace detail

// Descriptors for a plugin class constructible as Plugin(const Options&, PluginContext&).
template <typename Plugin, typename Options>
PluginDescriptor inputDescriptor(const char* name, const char* description,
                                 Stability stability = Stability::kStable) {
  return {kPluginAbiVersion,
          sizeof(PluginDescriptor),
          kBuildFingerprint,
          PluginKind::kInput,
          name,
          description,
          stability,
          &schemaOf<Options>(),
          &detail::construct<Plugin, Options, Input>,
          nullptr,
          nullptr};
}

template <typename Plugin, typename Options>
PluginDescriptor processorDescriptor(const char* name, const char* description,
                                     Stability stability = Stability::kStable) {
  return {kPluginAbiVersion,
          sizeof(PluginDescriptor),
          kBuildFingerprint,
          PluginKind::kProcessor,
          name,
          description,
          stability,
          &schemaOf<Options>(),
          nullptr,
          &detail::construct<Plugin, Options, Processor>,
          nullptr};
}

template <typename Plugin, typename Options>
PluginDescriptor outputDescriptor(const char* name, const char* description,
                                  Stability stability = Stability::kStable) {
  return {kPluginAbiVersion,
          sizeof(PluginDescriptor),
          kBuildFingerprint,
          PluginKind::kOutput,
          name,
          description,
          stability,
          &schemaOf<Options>(),
          nullptr,
          nullptr,
          &detail::construct<Plugin, Options, Output>};
}

}  // namespace cvagent

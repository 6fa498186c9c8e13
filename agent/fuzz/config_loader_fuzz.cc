// libFuzzer target: a pipeline file as the agent reads it: ${VAR} / ${VAR:-default} / $$
// substitution, then YAML into a ConfigNode tree with file:line:column marks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cvagent;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "KAFKA_BROKERS") return "localhost:9092";
    if (name == "EMPTY") return "";
    if (name == "NESTED") return "${KAFKA_BROKERS}";
    return std::nullopt;
  };
  std::string substituted;
  std::string error;
  if (!config::substitute(text, env, substituted, error) && error.empty()) std::abort();
  Diagnostics diags;
  const std::optional<ConfigNode> root = config::parseYaml(text, "fuzz.yaml", env, diags);
  if (!root && diags.empty()) std::abort();  // a rejected file always says why
  return 0;
}

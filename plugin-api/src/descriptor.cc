#include "cvagent/descriptor.h"

namespace cvagent {

const char* kindName(PluginKind kind) {
  switch (kind) {
    case PluginKind::kInput:
      return "input";
    case PluginKind::kProcessor:
      return "processor";
    case PluginKind::kOutput:
      return "output";
  }
  return "unknown";
}

const char* kindSection(PluginKind kind) {
  switch (kind) {
    case PluginKind::kInput:
      return "inputs";
    case PluginKind::kProcessor:
      return "processors";
    case PluginKind::kOutput:
      return "outputs";
  }
  return "unknown";
}

const char* stabilityName(Stability stability) {
  switch (stability) {
    case Stability::kStable:
      return "stable";
    case Stability::kBeta:
      return "beta";
    case Stability::kExperimental:
      return "experimental";
  }
  return "unknown";
}

}  // namespace cvagent

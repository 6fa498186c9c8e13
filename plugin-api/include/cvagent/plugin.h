#pragma once
// The one export macro. In exactly one .cc of a plugin library:
//
//   CVAGENT_PLUGIN(cvagent::outputDescriptor<StdoutOutput, StdoutOptions>(
//       "stdout", "Writes metrics to standard output."))
//
// It exports the symbol `cvagent_plugin_v1` through Boost.DLL; nothing else of the library is
// visible (build plugins with hidden visibility: cvagent_add_plugin does).

#include <boost/dll/alias.hpp>

#include "cvagent/descriptor.h"

#define CVAGENT_PLUGIN(...)                                            \
  namespace {                                                          \
  const ::cvagent::PluginDescriptor* cvagentPluginEntry() {            \
    static const ::cvagent::PluginDescriptor descriptor = __VA_ARGS__; \
    return &descriptor;                                                \
  }                                                                    \
  }                                                                    \
  BOOST_DLL_ALIAS(cvagentPluginEntry, cvagent_plugin_v1)

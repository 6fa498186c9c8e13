#pragma once
// Documentation generated from option schemas: `cvagent plugins describe`, the README options
// tables (checked by the conformance test) and `cvagent config sample`.

#include <string>
#include <vector>

#include "cvagent/options.h"
#include "plugins/plugin_registry.h"

namespace cvagent::cli {

// The README table: | option | type | default | description |, nested options as parent.child
// and list items as parent[].child.
std::string optionsMarkdownTable(const OptionSchema& schema);

// Human-readable description of a plugin with its options.
std::string describePlugin(const plugins::LoadedPlugin& plugin);

// A complete commented pipeline: the agent section with its defaults and every plugin, commented
// out, with all its options and their defaults.
std::string sampleConfig(const std::vector<plugins::PluginHandle>& plugins);

// The keys the core owns (agent section; every input, processor and output), as Markdown tables:
// the generated part of docs/configuration.md.
std::string coreOptionsMarkdown();

// Extracts the table between <!-- options:begin --> and <!-- options:end --> of a README.
bool readmeOptionsTable(const std::string& readme, std::string& table);

}  // namespace cvagent::cli

// Every plugin built in this tree: a complete descriptor, unknown keys rejected, a README with the
// house outline whose options table is the one generated from the schema.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/describe.h"
#include "config/pipeline_config.h"
#include "plugins/plugin_registry.h"

namespace cvagent {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> builtPlugins() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(CVAGENT_PLUGIN_BUILD_DIR)) {
    if (e.path().extension() == ".so") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void checkSpecs(const std::vector<OptionSpec>& specs, const std::string& prefix) {
  const auto core = config::coreSchema(PluginKind::kOutput).names();
  for (const auto& o : specs) {
    SCOPED_TRACE(prefix + o.name);
    EXPECT_FALSE(o.name.empty());
    EXPECT_FALSE(o.description.empty()) << "every option is documented";
    EXPECT_FALSE(o.type_name.empty());
    EXPECT_TRUE(o.bind) << "every option binds";
    if (prefix.empty()) {
      for (const char* key : {"id", "namepass", "namedrop", "tagpass", "tagdrop", "tags",
                              "interval", "batch_size", "flush_interval", "buffer", "retry"}) {
        EXPECT_NE(o.name, key) << "plugins never redeclare the core's keys";
      }
    }
    checkSpecs(o.children, prefix + o.name + ".");
  }
}

class PluginConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(PluginConformance, DescriptorIsComplete) {
  std::string error;
  auto plugin = plugins::loadPluginFile(GetParam(), error);
  ASSERT_TRUE(plugin) << error;
  const auto& d = plugin->descriptor();
  EXPECT_EQ(fs::path(GetParam()).filename().string(), plugins::pluginFileName(d.kind, d.name))
      << "library named after its plugin";
  EXPECT_GT(std::string(d.description).size(), 10u);
  EXPECT_NE(d.description[std::strlen(d.description) - 1], '\n');
  checkSpecs(d.options->options(), "");
  EXPECT_TRUE(d.options->makeDefault()) << "options default-construct";
}

TEST_P(PluginConformance, UnknownKeyIsRejectedWithItsPosition) {
  std::string error;
  auto plugin = plugins::loadPluginFile(GetParam(), error);
  ASSERT_TRUE(plugin) << error;
  const auto& d = plugin->descriptor();
  ConfigNode options = ConfigNode::map(SourceMark{"p.yaml", 3, 7});
  options.insert("surely_not_an_option", SourceMark{"p.yaml", 4, 9}, ConfigNode::scalar("1"));
  Diagnostics diags;
  auto target = d.options->makeDefault();
  d.options->bind(target.get(), options, plugin->fullName(), diags,
                  config::coreSchema(d.kind).names());
  bool found = false;
  for (const auto& diag : diags) {
    if (diag.str().rfind(
            "p.yaml:4:9: unknown option 'surely_not_an_option' in " + plugin->fullName(), 0) == 0)
      found = true;
  }
  EXPECT_TRUE(found) << (diags.empty() ? "no diagnostic" : diags.front().str());
}

TEST_P(PluginConformance, ReadmeFollowsTheOutlineAndItsTableIsCurrent) {
  std::string error;
  auto plugin = plugins::loadPluginFile(GetParam(), error);
  ASSERT_TRUE(plugin) << error;
  const auto& d = plugin->descriptor();
  const fs::path readme =
      fs::path(CVAGENT_SOURCE_DIR) / "plugins" / kindSection(d.kind) / d.name / "README.md";
  ASSERT_TRUE(fs::exists(readme)) << readme;
  const std::string text = readFile(readme);
  EXPECT_EQ(text.rfind("# " + plugin->fullName(), 0), 0u) << "title is the plugin id";
  for (const char* section :
       {"## Configuration", "## Metrics", "## Example output", "## Troubleshooting"}) {
    EXPECT_NE(text.find(section), std::string::npos) << "missing section " << section;
  }
  std::string table;
  ASSERT_TRUE(cli::readmeOptionsTable(text, table))
      << "no <!-- options:begin --> / <!-- options:end --> markers";
  EXPECT_EQ(table, cli::optionsMarkdownTable(*d.options))
      << "README options table is stale: run scripts/update-readme-tables.sh";
}

INSTANTIATE_TEST_SUITE_P(Plugins, PluginConformance, ::testing::ValuesIn(builtPlugins()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = fs::path(param_info.param).stem().string();
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
                               '_');
                           return name;
                         });

TEST(CoreOptionsDoc, ConfigurationMdIsCurrent) {
  const std::string text = readFile(fs::path(CVAGENT_SOURCE_DIR) / "docs" / "configuration.md");
  std::string table;
  ASSERT_TRUE(cli::readmeOptionsTable(text, table)) << "no options markers in configuration.md";
  EXPECT_EQ(table, cli::coreOptionsMarkdown())
      << "docs/configuration.md is stale: run scripts/update-readme-tables.sh";
}

TEST(ConformanceSetup, FindsPlugins) { EXPECT_GE(builtPlugins().size(), 4u); }

}  // namespace
}  // namespace cvagent

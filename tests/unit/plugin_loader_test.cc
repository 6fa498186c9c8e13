// The loader refuses what it must, with a message naming the file, and never crashes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugins/plugin_registry.h"

namespace cvagent::plugins {
namespace {

namespace fs = std::filesystem;

const std::string kDir = CVAGENT_TEST_PLUGIN_DIR;

std::string pathOf(const std::string& file) { return (fs::path(kDir) / file).string(); }

TEST(PluginLoaderTest, LoadsAGoodPlugin) {
  std::string error;
  auto plugin = loadPluginFile(pathOf("libcvagent_output_good.so"), error);
  ASSERT_TRUE(plugin) << error;
  EXPECT_EQ(plugin->fullName(), "outputs.good");
  EXPECT_STREQ(plugin->descriptor().description, "A good test plugin.");
}

TEST(PluginLoaderTest, RefusesAnotherAbiVersion) {
  std::string error;
  const std::string path = pathOf("libcvagent_output_badabi.so");
  EXPECT_FALSE(loadPluginFile(path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("built for plugin ABI version " + std::to_string(kPluginAbiVersion + 1)),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("has plugin ABI version " + std::to_string(kPluginAbiVersion)),
            std::string::npos)
      << error;
}

TEST(PluginLoaderTest, RefusesAnotherStandardLibrary) {
  std::string error;
  const std::string path = pathOf("libcvagent_output_badfingerprint.so");
  EXPECT_FALSE(loadPluginFile(path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("'libc++-1'"), std::string::npos) << error;
  EXPECT_NE(error.find(kBuildFingerprint), std::string::npos) << error;
}

TEST(PluginLoaderTest, RefusesAMissingSymbol) {
  std::string error;
  const std::string path = pathOf("libcvagent_output_missingsymbol.so");
  EXPECT_FALSE(loadPluginFile(path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("cvagent_test_symbol_nobody_defines"), std::string::npos) << error;
}

TEST(PluginLoaderTest, RefusesALibraryThatIsNotAPlugin) {
  std::string error;
  const std::string path = pathOf("libcvagent_output_notaplugin.so");
  EXPECT_FALSE(loadPluginFile(path, error));
  EXPECT_NE(error.find("not a cvagent plugin"), std::string::npos) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST(PluginLoaderTest, RefusesUnreadableAndNonElfFiles) {
  const fs::path dir = fs::temp_directory_path() / "cvagent-loader-test";
  fs::create_directories(dir);
  const fs::path garbage = dir / "libcvagent_output_garbage.so";
  std::ofstream(garbage) << "this is not an ELF file";
  std::string error;
  EXPECT_FALSE(loadPluginFile(garbage.string(), error));
  EXPECT_NE(error.find(garbage.string()), std::string::npos) << error;
  EXPECT_NE(error.find("cannot load"), std::string::npos) << error;

  const fs::path dangling = dir / "libcvagent_output_dangling.so";
  fs::remove(dangling);
  fs::create_symlink(dir / "nowhere.so", dangling);
  EXPECT_FALSE(loadPluginFile(dangling.string(), error));
  EXPECT_NE(error.find("cannot read the file"), std::string::npos) << error;
  fs::remove_all(dir);
}

TEST(PluginRegistryTest, FindsOnlyInConfiguredDirectories) {
  PluginRegistry registry({"/nonexistent", kDir});
  std::string error;
  EXPECT_TRUE(registry.find(PluginKind::kOutput, "good", error)) << error;
  EXPECT_FALSE(registry.find(PluginKind::kOutput, "absent", error));
  EXPECT_NE(error.find("libcvagent_output_absent.so not found in /nonexistent, " + kDir),
            std::string::npos)
      << error;
  PluginRegistry elsewhere({"/nonexistent"});
  EXPECT_FALSE(elsewhere.find(PluginKind::kOutput, "good", error));

  std::vector<std::string> errors;
  auto all = registry.loadAll(errors);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->fullName(), "outputs.good");
  EXPECT_EQ(errors.size(), 4u);  // badabi, badfingerprint, missingsymbol, notaplugin
}

}  // namespace
}  // namespace cvagent::plugins

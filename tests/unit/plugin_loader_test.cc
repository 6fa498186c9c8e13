// The loader refuses what it must, with a message naming the file, and never crashes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

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
  EXPECT_NE(error.find("not an ELF file"), std::string::npos) << error;

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
  EXPECT_EQ(errors.size(), 5u);  // badabi, badfingerprint, functionentry, missingsymbol, notaplugin
}

// Issue 16: the loader read the function's first bytes as the descriptor accessor and jumped
// there (SIGSEGV in `validate` and `plugins list`).
TEST(PluginLoaderTest, RefusesAnEntryPointExportedAsAFunction) {
  std::string error;
  const std::string path = pathOf("libcvagent_output_functionentry.so");
  EXPECT_FALSE(loadPluginFile(path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("exports 'cvagent_plugin_v1' as a function"), std::string::npos) << error;
  EXPECT_NE(error.find("CVAGENT_PLUGIN"), std::string::npos) << error;
}

// A scratch directory (mode 0755) with a copy of the good plugin.
struct ScratchPlugin {
  fs::path dir = fs::temp_directory_path() / ("cvagent-loader-" + std::to_string(::getpid()));
  fs::path file = dir / "libcvagent_output_good.so";
  ScratchPlugin() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    fs::copy_file(pathOf("libcvagent_output_good.so"), file);
    fs::permissions(file, fs::perms(0755));
  }
  ~ScratchPlugin() { fs::remove_all(dir); }
};

// Issue 16: a plugin file cut short (a copy interrupted, a full disk) was mapped whole and the
// agent died of SIGBUS touching the missing pages.
TEST(PluginLoaderTest, RefusesATruncatedFileWithoutMappingIt) {
  ScratchPlugin scratch;
  const auto full = fs::file_size(scratch.file);
  // Past the loaded segments (the section headers at the end are gone), then inside them: the
  // fixture's segments take its first ~12 KiB, and dlopen of a cut there died of SIGBUS.
  for (const std::uintmax_t keep : {full * 9 / 10, full / 3, std::uintmax_t{12000},
                                    std::uintmax_t{9000}, std::uintmax_t{6144}}) {
    fs::resize_file(scratch.file, keep);
    std::string error;
    EXPECT_FALSE(loadPluginFile(scratch.file.string(), error)) << keep;
    EXPECT_NE(error.find(scratch.file.string() + ": refused: truncated"), std::string::npos)
        << keep << ": " << error;
  }
}

// Issue 16: anyone who can write a plugin file, or replace it in its directory, runs code as
// the agent.
TEST(PluginLoaderTest, RefusesWritableOrForeignFilesUnlessAllowed) {
  ScratchPlugin scratch;
  std::string error;
  ASSERT_TRUE(loadPluginFile(scratch.file.string(), error)) << error;

  fs::permissions(scratch.file, fs::perms(0757));
  EXPECT_FALSE(loadPluginFile(scratch.file.string(), error));
  EXPECT_NE(error.find("the file is world-writable (mode 757)"), std::string::npos) << error;
  EXPECT_NE(error.find("--allow-insecure-plugins"), std::string::npos) << error;
  EXPECT_TRUE(loadPluginFile(scratch.file.string(), error, LoadPolicy{.allow_insecure = true}))
      << error;
  fs::permissions(scratch.file, fs::perms(0775));
  EXPECT_FALSE(loadPluginFile(scratch.file.string(), error));
  EXPECT_NE(error.find("the file is group-writable (mode 775)"), std::string::npos) << error;
  fs::permissions(scratch.file, fs::perms(0755));

  fs::permissions(scratch.dir, fs::perms(0777));
  EXPECT_FALSE(loadPluginFile(scratch.file.string(), error));
  EXPECT_NE(error.find("its directory " + scratch.dir.string() + " is world-writable"),
            std::string::npos)
      << error;
  PluginRegistry registry({scratch.dir.string()});
  EXPECT_FALSE(registry.find(PluginKind::kOutput, "good", error));
  PluginRegistry lenient({scratch.dir.string()}, LoadPolicy{.allow_insecure = true});
  EXPECT_TRUE(lenient.find(PluginKind::kOutput, "good", error)) << error;
  fs::permissions(scratch.dir, fs::perms(0755));

  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(::chown(scratch.file.c_str(), kNobody, kNobody), 0);
  EXPECT_FALSE(loadPluginFile(scratch.file.string(), error));
  EXPECT_NE(error.find("the file is owned by uid 65534, not by root or the agent's user"),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace cvagent::plugins

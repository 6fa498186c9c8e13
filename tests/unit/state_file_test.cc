#include "cvagent/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "cvagent/testing/test_context.h"

namespace cvagent {
namespace {

namespace fs = std::filesystem;

TEST(StateFileTest, NothingSavedLoadsAsNullopt) {
  testing::TestContext context;
  auto state = context.stateFile("position");
  EXPECT_EQ(state.path(), context.stateDir() + "/position");
  EXPECT_FALSE(state.load().has_value());
}

TEST(StateFileTest, SaveReplacesTheContentsAndLeavesNoTemporaryFile) {
  testing::TestContext context;
  auto state = context.stateFile("position");
  state.save("first\n");
  state.save("second, longer than the first\n");
  ASSERT_TRUE(state.load().has_value());
  EXPECT_EQ(*state.load(), "second, longer than the first\n");
  for (const auto& entry : fs::directory_iterator(context.stateDir())) {
    EXPECT_EQ(entry.path().filename(), "position") << "left behind: " << entry.path();
  }
  // A new object on the same file sees what was saved (what a restart does).
  EXPECT_EQ(*StateFile(state.path()).load(), "second, longer than the first\n");
  state.remove();
  EXPECT_FALSE(state.load().has_value());
  state.remove();  // removing nothing is not an error
}

TEST(StateFileTest, ACrashBeforeTheRenameLeavesThePreviousContents) {
  testing::TestContext context;
  auto state = context.stateFile("position");
  state.save("good");
  // What a crash between write and rename leaves: a stray temporary file.
  std::ofstream(state.path() + ".tmp.AbC123") << "half";
  EXPECT_EQ(*state.load(), "good");
  state.save("better");
  EXPECT_EQ(*state.load(), "better");
}

TEST(StateFileTest, ErrorsAreThrownWithThePath) {
  StateFile missing_dir("/nonexistent-cvagent-dir/position");
  try {
    missing_dir.save("x");
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-cvagent-dir/position"), std::string::npos)
        << e.what();
  }
  // A directory where the file should be: it exists but cannot be read as a file.
  testing::TestContext context;
  fs::create_directories(context.stateDir() + "/dir");
  StateFile not_a_file(context.stateDir() + "/dir");
  EXPECT_THROW(not_a_file.load(), std::system_error);
  EXPECT_THROW(not_a_file.save("x"), std::system_error);
}

TEST(StateFileTest, ConcurrentSavesNeverLeaveAMixedFile) {
  testing::TestContext context;
  const std::string path = context.stateFile("position").path();
  const std::string a(4096, 'a');
  const std::string b(4096, 'b');
  std::thread other([&] {
    StateFile state(path);
    for (int i = 0; i < 200; ++i) state.save(a);
  });
  StateFile state(path);
  for (int i = 0; i < 200; ++i) {
    state.save(b);
    const auto now = state.load();
    ASSERT_TRUE(now.has_value());
    ASSERT_TRUE(*now == a || *now == b) << "a mixed or partial file";
  }
  other.join();
}

TEST(StateFileTest, ReadOnlyDirectoryFailsAndKeepsTheOldContents) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  testing::TestContext context;
  auto state = context.stateFile("position");
  state.save("kept");
  ::chmod(context.stateDir().c_str(), 0500);
  EXPECT_THROW(state.save("lost"), std::system_error);
  ::chmod(context.stateDir().c_str(), 0700);
  EXPECT_EQ(*state.load(), "kept");
}

}  // namespace
}  // namespace cvagent

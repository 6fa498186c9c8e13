#include "feed_state.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace cvagent::inputs::rss {
namespace {

namespace fs = std::filesystem;

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("cvagent-rss-state-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StateFileTest, RoundTripsValidatorsAndKeysInOrder) {
  std::map<std::string, FeedState> feeds;
  FeedState& a = feeds["http://a.test/feed?x=1&y=2"];
  a.etag = "\"abc\"";
  a.last_modified = "Fri, 12 Dec 2025 15:09:00 GMT";
  for (const char* k : {"one", "two\twith tab", "three\nwith newline", "back\\slash"}) {
    a.seen.touch(k, 100);
  }
  feeds["http://b.test/"].seen.touch("only", 100);
  const std::string path = (dir_ / "sub" / "state.txt").string();
  std::string error;
  ASSERT_TRUE(StateFile::save(path, feeds, error)) << error;
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  std::map<std::string, FeedState> loaded;
  ASSERT_TRUE(StateFile::load(path, loaded, error)) << error;
  ASSERT_EQ(loaded.size(), 2u);
  const FeedState& la = loaded["http://a.test/feed?x=1&y=2"];
  EXPECT_EQ(la.etag, "\"abc\"");
  EXPECT_EQ(la.last_modified, "Fri, 12 Dec 2025 15:09:00 GMT");
  EXPECT_EQ(la.seen.keys(), a.seen.keys());
  EXPECT_TRUE(la.seen.contains("three\nwith newline"));
}

TEST_F(StateFileTest, MissingFileIsAnEmptyStateAndCorruptOneIsAnError) {
  std::map<std::string, FeedState> loaded;
  std::string error;
  EXPECT_TRUE(StateFile::load((dir_ / "none.txt").string(), loaded, error));
  EXPECT_TRUE(loaded.empty());
  fs::create_directories(dir_);
  const std::string path = (dir_ / "bad.txt").string();
  std::ofstream(path) << "seen\tkey before feed\n";
  EXPECT_FALSE(StateFile::load(path, loaded, error));
  EXPECT_NE(error.find("bad.txt:1"), std::string::npos) << error;
}

TEST(SeenKeys, BoundedToTheMostRecentlySeen) {
  SeenKeys keys;
  for (int i = 0; i < 5; ++i) keys.touch("k" + std::to_string(i), 3);
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_FALSE(keys.contains("k1"));
  EXPECT_TRUE(keys.contains("k2"));
  keys.touch("k2", 3);  // seen again: now the most recent
  keys.touch("k5", 3);
  EXPECT_TRUE(keys.contains("k2"));
  EXPECT_FALSE(keys.contains("k3"));
}

}  // namespace
}  // namespace cvagent::inputs::rss

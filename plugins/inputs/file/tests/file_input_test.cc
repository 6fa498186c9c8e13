#include "file_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/test_context.h"

namespace cvagent::inputs::file {
namespace {

namespace fs = std::filesystem;

class FileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("cvagent-file-input-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "in.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(const std::string& text) { std::ofstream(path_, std::ios::app) << text; }

  FileInputOptions options() {
    FileInputOptions o;
    o.path = path_;
    return o;
  }

  fs::path dir_;
  std::string path_;
  testing::TestContext context_;
  testing::CapturingEmitter out_;
};

TEST_F(FileInputTest, TailEmitsOnlyNewCompleteLines) {
  append(R"({"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"price":1.5},"time":10})"
         "\n");
  append(R"({"name":"trade","tags":{},"fields":{"price":2.5},"ti)");  // partial line
  FileInput input(options(), context_);
  input.gather(out_);
  auto got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name(), "trade");
  EXPECT_EQ(*got[0].tag("pair"), "BTC/USD");
  EXPECT_EQ(got[0].time(), 10);

  append("me\":20}\n");
  input.gather(out_);
  got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].time(), 20);
  double price = 0;
  ASSERT_TRUE(got[0].numberField("price", price));
  EXPECT_DOUBLE_EQ(price, 2.5);

  input.gather(out_);
  EXPECT_EQ(out_.size(), 0u);
}

TEST_F(FileInputTest, BadLinesAreCountedAndSkipped) {
  append("not json\n");
  append(R"({"name":"x","fields":{"v":1}})"
         "\n");
  append(R"({"fields":{"v":1}})"
         "\n");
  FileInput input(options(), context_);
  input.gather(out_);
  EXPECT_EQ(out_.size(), 1u);
  EXPECT_EQ(context_.counterValue("file_bad_lines_total"), 2);
  EXPECT_TRUE(context_.logger().contains(path_ + ":1:", LogLevel::kWarn));
  EXPECT_TRUE(context_.logger().contains("missing 'name'"));
}

TEST_F(FileInputTest, TruncatedFileIsReadAgainFromTheStart) {
  append(R"({"name":"a","fields":{"v":1}})"
         "\n"
         R"({"name":"b","fields":{"v":2}})"
         "\n");
  FileInput input(options(), context_);
  input.gather(out_);
  EXPECT_EQ(out_.take().size(), 2u);
  std::ofstream(path_, std::ios::trunc) << R"({"name":"c","fields":{"v":3}})"
                                           "\n";
  input.gather(out_);
  auto got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name(), "c");
}

TEST_F(FileInputTest, LineProtocolAndWholeFileMode) {
  path_ = (dir_ / "in.lp").string();
  append("cpu,host=a usage=1.5,count=3i 100\ncpu,host=b usage=2 200\n");
  auto o = options();
  o.format = codec::Format::kInflux;
  o.tail = false;
  FileInput input(o, context_);
  input.gather(out_);
  input.gather(out_);
  auto got = out_.take();
  ASSERT_EQ(got.size(), 4u);  // whole file each time
  EXPECT_EQ(*got[0].tag("host"), "a");
  EXPECT_EQ(std::get<std::int64_t>(*got[0].field("count")), 3);
  EXPECT_EQ(got[1].time(), 200);
}

TEST_F(FileInputTest, MissingFileIsAClearError) {
  auto o = options();
  o.path = (dir_ / "absent.jsonl").string();
  FileInput input(o, context_);
  try {
    input.gather(out_);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("absent.jsonl"), std::string::npos) << e.what();
  }
}

TEST_F(FileInputTest, FromEndSkipsWhatWasThere) {
  append(R"({"name":"old","fields":{"v":1}})"
         "\n");
  auto o = options();
  o.from_beginning = false;
  FileInput input(o, context_);
  input.gather(out_);
  EXPECT_EQ(out_.size(), 0u);
  append(R"({"name":"new","fields":{"v":1}})"
         "\n");
  input.gather(out_);
  auto got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name(), "new");
}

}  // namespace
}  // namespace cvagent::inputs::file

namespace cvagent::inputs::file {
namespace {

TEST_F(FileInputTest, ResumesWherePreviousRunsDeliveredUpTo) {
  append(R"({"name":"a","fields":{"v":1}})"
         "\n"
         R"({"name":"b","fields":{"v":2}})"
         "\n");
  const std::string state = (dir_ / "state").string();
  {
    testing::TestContext ctx("inputs.file", state);
    FileInput input(options(), ctx);
    input.gather(out_);
  }
  // Not delivered yet (the metrics are still held): a new instance reads them again.
  auto held = out_.take();
  ASSERT_EQ(held.size(), 2u);
  {
    testing::TestContext ctx("inputs.file", state);
    FileInput input(options(), ctx);
    input.gather(out_);
    EXPECT_EQ(out_.take().size(), 2u) << "undelivered metrics are read again";
  }
  held.clear();  // delivered: the position is saved
  append(R"({"name":"c","fields":{"v":3}})"
         "\n");
  testing::TestContext ctx("inputs.file", state);
  FileInput input(options(), ctx);
  input.gather(out_);
  auto got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name(), "c");
}

}  // namespace
}  // namespace cvagent::inputs::file

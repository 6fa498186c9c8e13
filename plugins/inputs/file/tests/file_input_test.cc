#include "file_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

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

// Issue 16: NaN and invalid UTF-8 were accepted; a line of 100,000 fields stalled the input for
// 21 s (and shutdown with it). Each is skipped, counted and logged with its file:line, and the
// lines after it are read.
TEST_F(FileInputTest, HostileLineProtocolLinesAreSkippedNamingTheLine) {
  path_ = (dir_ / "in.lp").string();
  std::string wide = "wide ";
  for (int i = 0; i < 100'000; ++i) wide += (i ? ",f" : "f") + std::to_string(i) + "=1i";
  append(
      "trade,pair=BTC/USD price=NaN 1\n"
      "trade,pair=BTC/USD price=-inf 2\n"
      "trade,pair=BTC\xff price=1 3\n" +
      wide +
      " 4\n"
      "trade,pair=BTC/USD price=5 5\n");
  auto o = options();
  o.format = codec::Format::kInflux;
  FileInput input(o, context_);
  const auto started = std::chrono::steady_clock::now();
  input.gather(out_);
  const auto took = std::chrono::steady_clock::now() - started;
  auto got = out_.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].time(), 5);
  EXPECT_EQ(context_.counterValue("file_bad_lines_total"), 4);
  EXPECT_TRUE(context_.logger().contains(path_ + ":1: skipped a line: column 26: bad value for "
                                                 "field 'price': NaN and infinity"));
  EXPECT_TRUE(context_.logger().contains(path_ + ":3: skipped a line: column 1: not valid UTF-8"));
  EXPECT_TRUE(context_.logger().contains(path_ + ":4: skipped a line:"));
  EXPECT_TRUE(context_.logger().contains("more than 1024 fields"));
  // Not a timing test: the refused line costs its first 1024 fields, on main it cost 21 s.
  EXPECT_LT(took, std::chrono::seconds(5));
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

namespace cvagent::inputs::file {
namespace {

std::string trade(int seq) {
  return R"({"name":"trade","fields":{"seq":)" + std::to_string(seq) +
         R"(},"time":1})"
         "\n";
}

std::string trades(int first, int count) {
  std::string text;
  for (int i = first; i < first + count; ++i) text += trade(i);
  return text;
}

std::vector<std::int64_t> seqs(const std::vector<Metric>& metrics) {
  std::vector<std::int64_t> out;
  for (const auto& m : metrics) out.push_back(std::get<std::int64_t>(*m.field("seq")));
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = first; i < first + count; ++i) out.push_back(i);
  return out;
}

void fail(std::vector<Metric>& metrics) {
  for (auto& m : metrics) {
    if (m.delivery()) m.delivery()->markFailed();
  }
  metrics.clear();
}

class FileInputDeliveryTest : public FileInputTest {
 protected:
  // A fresh instance on the same state directory: what a restart reads.
  std::vector<std::int64_t> readAfterRestart(FileInputOptions o) {
    testing::TestContext ctx("inputs.file", state_);
    FileInput input(o, ctx);
    testing::CapturingEmitter out;
    input.gather(out);
    auto metrics = out.take();
    auto read = seqs(metrics);
    fail(metrics);  // a peek: nothing this instance read counts as delivered
    return read;
  }
  void SetUp() override {
    FileInputTest::SetUp();
    state_ = (dir_ / "state").string();
    ctx_ = std::make_unique<testing::TestContext>("inputs.file", state_);
  }
  void TearDown() override {
    ctx_.reset();
    FileInputTest::TearDown();
  }
  // Appends trades first..first+count-1 and gathers them; the metrics stay undelivered while held.
  std::vector<Metric> appendAndGather(FileInput& input, int first, int count) {
    append(trades(first, count));
    input.gather(out_);
    return out_.take();
  }
  std::string state_;
  std::unique_ptr<testing::TestContext> ctx_;
};

TEST_F(FileInputDeliveryTest, PositionStopsAtTheFirstUndeliveredMetricWhateverTheOrder) {
  FileInput input(options(), *ctx_);
  auto first = appendAndGather(input, 0, 3);
  auto second = appendAndGather(input, 3, 2);
  ASSERT_EQ(seqs(first), range(0, 3));
  ASSERT_EQ(seqs(second), range(3, 2));
  second.clear();  // the later gather is stored first: nothing may be saved past the first
  input.gather(out_);
  EXPECT_EQ(readAfterRestart(options()), range(0, 5));
  first.clear();
  input.flushPosition();
  EXPECT_EQ(readAfterRestart(options()), std::vector<std::int64_t>{});
}

TEST_F(FileInputDeliveryTest, AFailedDeliveryIsReadAgainAndNeverSkipped) {
  FileInput input(options(), *ctx_);
  auto first = appendAndGather(input, 0, 3);
  auto second = appendAndGather(input, 3, 2);
  second.clear();  // delivered
  fail(first);     // dropped by an output
  // A restart would read all five again (the delivered two after the failed three too).
  EXPECT_EQ(readAfterRestart(options()), range(0, 5));
  // The running input reads again from the first undelivered line: duplicates, never a gap.
  append(trades(5, 1));
  input.gather(out_);
  auto again = out_.take();
  EXPECT_EQ(seqs(again), range(0, 6));
  EXPECT_EQ(ctx_->counterValue("file_rereads_total"), 1);
  EXPECT_TRUE(ctx_->logger().contains("reading again from byte 0", LogLevel::kWarn));
  again.clear();
  input.gather(out_);
  EXPECT_EQ(out_.size(), 0u);
  input.flushPosition();
  EXPECT_EQ(readAfterRestart(options()), std::vector<std::int64_t>{});
}

TEST_F(FileInputDeliveryTest, ReadingWaitsWhileAFailureHasMetricsInFlight) {
  FileInput input(options(), *ctx_);
  auto first = appendAndGather(input, 0, 2);
  auto second = appendAndGather(input, 2, 2);  // still in flight
  fail(first);
  append(trades(4, 2));
  input.gather(out_);
  EXPECT_EQ(out_.size(), 0u) << "nothing new is read while the failed chunk waits for the rest";
  second.clear();
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), range(0, 6));
}

TEST_F(FileInputDeliveryTest, DeliveredAfterTheInputIsGoneStillSaves) {
  append(trades(0, 4));
  std::vector<Metric> held;
  {
    FileInput input(options(), *ctx_);
    input.gather(out_);
    held = out_.take();
  }
  EXPECT_EQ(readAfterRestart(options()), range(0, 4));
  held.clear();  // the outputs store them after the input stopped (shutdown drain)
  EXPECT_EQ(readAfterRestart(options()), std::vector<std::int64_t>{});
}

TEST_F(FileInputDeliveryTest, ASaveThatFailsIsAnError) {
  append(trades(0, 1));
  fs::create_directories(dir_ / "state" / "position" / "occupied");  // cannot be replaced
  FileInput input(options(), *ctx_);
  try {
    input.gather(out_);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("position"), std::string::npos) << e.what();
  }
  // Once the state can be kept again, the input starts cleanly: the line is read, once.
  fs::remove_all(dir_ / "state" / "position");
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), range(0, 1));
  input.flushPosition();
  EXPECT_EQ(readAfterRestart(options()), std::vector<std::int64_t>{});
}

TEST_F(FileInputDeliveryTest, RenameRotationReadsTheOldFileToItsEndFirst) {
  append(trades(0, 3));
  FileInput input(options(), *ctx_);
  input.gather(out_);
  append(trades(3, 2));  // written before the rotation, not read yet
  fs::rename(path_, path_ + ".1");
  append(trades(5, 3));  // the new file
  input.gather(out_);
  append(trades(8, 1));
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), range(0, 9));
  EXPECT_EQ(ctx_->counterValue("file_rotations_total"), 1);
  input.flushPosition();
  EXPECT_EQ(readAfterRestart(options()), std::vector<std::int64_t>{});
}

TEST_F(FileInputDeliveryTest, CopytruncateReadsTheRestFromTheCopy) {
  append(trades(0, 3));
  FileInput input(options(), *ctx_);
  input.gather(out_);
  append(trades(3, 4));
  // Same first line, newer, long enough, but not a rotated name: never taken for the copy.
  std::ofstream((dir_ / "out.jsonl").string()) << trades(0, 3) << trades(50, 10);
  fs::copy_file(path_, path_ + ".1");
  fs::resize_file(path_, 0);
  append(trades(7, 2));
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), range(0, 9));
  EXPECT_EQ(ctx_->counterValue("file_rotations_total"), 1);
  EXPECT_TRUE(ctx_->logger().contains("in.jsonl.1"));
}

TEST_F(FileInputDeliveryTest, CopytruncateIsSeenEvenWhenTheFileGrewBackPastTheOffset) {
  append(trades(0, 2));
  FileInput input(options(), *ctx_);
  input.gather(out_);
  append(trades(2, 1));
  fs::copy_file(path_, path_ + ".1");
  fs::resize_file(path_, 0);
  append(trades(100, 50));  // longer than what was read: only the first line tells
  input.gather(out_);
  auto want = range(0, 3);
  for (auto s : range(100, 50)) want.push_back(s);
  EXPECT_EQ(seqs(out_.take()), want);
}

TEST_F(FileInputDeliveryTest, RotationsWhileStoppedResumeInTheRotatedFile) {
  append(trades(0, 3));
  {
    FileInput input(options(), *ctx_);
    input.gather(out_);
    out_.take();  // delivered
    input.gather(out_);
  }
  append(trades(3, 2));
  fs::rename(path_, path_ + ".1");
  append(trades(5, 2));
  EXPECT_EQ(readAfterRestart(options()), range(3, 4));

  // The same for copytruncate: the copy has another inode but the same first line.
  fs::remove(path_ + ".1");
  fs::remove(path_);
  fs::remove_all(dir_ / "state");
  append(trades(10, 3));
  {
    testing::TestContext ctx("inputs.file", state_);
    FileInput input(options(), ctx);
    input.gather(out_);
    out_.take();
    input.gather(out_);
  }
  append(trades(13, 2));
  fs::copy_file(path_, path_ + ".1");
  fs::resize_file(path_, 0);
  append(trades(20, 1));
  auto want = range(13, 2);
  want.push_back(20);
  EXPECT_EQ(readAfterRestart(options()), want);
}

TEST_F(FileInputDeliveryTest, AFailureInTheRotatedFileIsReadAgainFromIt) {
  append(trades(0, 2));
  FileInput input(options(), *ctx_);
  input.gather(out_);
  auto first = out_.take();
  fs::rename(path_, path_ + ".1");
  append(trades(2, 2));
  input.gather(out_);
  auto second = out_.take();
  ASSERT_EQ(seqs(second), range(2, 2));
  fail(first);
  second.clear();
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), range(0, 4));
}

TEST_F(FileInputDeliveryTest, LinesLongerThanTheLimitAreSkippedWholeAndCounted) {
  auto o = options();
  o.max_line_bytes = 100;
  append(trade(0));
  append(R"({"name":"trade","fields":{"seq":1,"pad":")" + std::string(200'000, 'x') + "\"}}\n");
  append(trade(2));
  append(R"({"name":"trade","fields":{"seq":3,"pad":")" + std::string(150, 'y') + "\"}}\n");
  append(trade(4));
  append(std::string(300, 'z'));  // a long line not yet complete
  FileInput input(o, *ctx_);
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), (std::vector<std::int64_t>{0, 2, 4}));
  EXPECT_EQ(ctx_->counterValue("file_lines_too_long_total"), 3);
  append(std::string(300, 'z') + "\n");
  append(trade(5));
  input.gather(out_);
  EXPECT_EQ(seqs(out_.take()), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(ctx_->counterValue("file_lines_too_long_total"), 3)
      << "the rest of the line is skipped";
  EXPECT_EQ(ctx_->counterValue("file_bad_lines_total"), 0);
  EXPECT_TRUE(ctx_->logger().contains("longer than max_line_bytes (100)", LogLevel::kWarn));
}

// Polls (another thread is gathering) until `out` holds `n` metrics or a second passed.
std::size_t waitForMetrics(testing::CapturingEmitter& out, std::size_t n) {
  for (int i = 0; i < 200 && out.size() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return out.size();
}

TEST_F(FileInputDeliveryTest, ReadingPausesAtMaxUndeliveredAndGoesOnAsOutputsStore) {
  auto o = options();
  o.max_undelivered = 8;  // chunks of 2 lines
  append(trades(0, 20));
  FileInput input(o, *ctx_);
  std::thread gather([&] { input.gather(out_); });
  EXPECT_EQ(waitForMetrics(out_, 8), 8u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(out_.size(), 8u) << "reading pauses while 8 metrics are in flight";
  std::vector<std::int64_t> got;
  for (int i = 0; i < 400 && got.size() < 20; ++i) {
    auto stored = out_.take();
    EXPECT_LE(stored.size(), 8u);
    for (auto seq : seqs(stored)) got.push_back(seq);
    stored.clear();  // delivered: room for more
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  gather.join();
  EXPECT_EQ(got, range(0, 20));
}

TEST_F(FileInputDeliveryTest, APausedGatherEndsOnStopAndOnAFailure) {
  auto o = options();
  o.max_undelivered = 4;
  append(trades(0, 10));
  FileInput input(o, *ctx_);
  std::thread first([&] { input.gather(out_); });
  EXPECT_EQ(waitForMetrics(out_, 4), 4u);
  auto held = out_.take();
  fail(held);  // dropped while the gather waits for room: it ends, nothing more is read
  first.join();
  EXPECT_EQ(out_.size(), 0u);
  std::thread second([&] { input.gather(out_); });
  EXPECT_EQ(waitForMetrics(out_, 4), 4u);
  input.stop();
  second.join();
  EXPECT_EQ(seqs(out_.take()), range(0, 4)) << "read again from the first undelivered line";
  EXPECT_EQ(ctx_->counterValue("file_rereads_total"), 1);
}

TEST(FilePositionTest, EncodesAndDecodesIncludingTheOldFormat) {
  FilePosition p{{2049, 1234567, 88, 0xfedcba9876543210ULL}, 987654321};
  EXPECT_EQ(FilePosition::decode(p.encode()), p);
  auto old = FilePosition::decode("42 100\n");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->file.inode, 42u);
  EXPECT_EQ(old->file.device, 0u);
  EXPECT_EQ(old->offset, 100);
  EXPECT_FALSE(FilePosition::decode("garbage").has_value());
  EXPECT_FALSE(FilePosition::decode("v2 1 2 3").has_value());
  EXPECT_FALSE(FilePosition::decode("").has_value());
}

}  // namespace
}  // namespace cvagent::inputs::file

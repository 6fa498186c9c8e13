#include "file_output.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"

namespace cvagent::outputs::file {
namespace {

namespace fs = std::filesystem;

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FileOutputTest, AppendsJsonLinesThatReadBack) {
  const fs::path dir = fs::temp_directory_path() / "cvagent-file-output-json";
  fs::create_directories(dir);
  const std::string path = (dir / "out.jsonl").string();
  fs::remove(path);
  FileOutputOptions o;
  o.path = path;
  testing::TestContext context;
  FileOutput output(o, context);
  output.connect();
  std::vector<Metric> batch = {
      testing::MetricBuilder("trade")
          .tag("pair", "BTC/USD")
          .field("price", 95863.2)
          .field("trade_id", std::int64_t{42})
          .field("side", "buy")
          .time(1795962600123456000),
      testing::MetricBuilder("ticker").tag("pair", "ETH/\"USD\"").field("last", 3264.0).time(5)};
  ASSERT_EQ(output.write(batch).status(), WriteStatus::kOk);
  ASSERT_EQ(output.write(std::span<const Metric>(batch.data(), 1)).status(), WriteStatus::kOk);
  output.close();

  std::istringstream lines(readAll(path));
  std::string line;
  std::vector<Metric> back;
  while (std::getline(lines, line)) {
    Metric m;
    std::string error;
    ASSERT_TRUE(codec::parseJson(line, m, error)) << error << " in " << line;
    back.push_back(m);
  }
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], batch[0]);
  EXPECT_EQ(back[1], batch[1]);  // 3264.0 stays a double, the quote in the tag survives
  EXPECT_EQ(back[2], batch[0]);
  fs::remove_all(dir);
}

TEST(FileOutputTest, UnwritableDirectoryIsAClearConnectError) {
  FileOutputOptions o;
  o.path = "/nonexistent-dir/out.jsonl";
  testing::TestContext context;
  FileOutput output(o, context);
  try {
    output.connect();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/out.jsonl"), std::string::npos);
  }
}

TEST(FileOutputTest, FullDiskAsksForARetry) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  FileOutputOptions o;
  o.path = "/dev/full";
  testing::TestContext context;
  FileOutput output(o, context);
  output.connect();
  std::vector<Metric> batch = {testing::MetricBuilder("m").field("v", 1.0).time(1)};
  const auto result = output.write(batch);
  EXPECT_EQ(result.status(), WriteStatus::kRetry);
  EXPECT_NE(result.reason().find("/dev/full"), std::string::npos) << result.reason();
}

}  // namespace
}  // namespace cvagent::outputs::file

namespace cvagent::outputs::file {
namespace {

// A file-size limit (RLIMIT_FSIZE) makes writes past it fail with EFBIG part way through a batch,
// as a full disk does; SIGXFSZ is ignored so the failure is an error code, not a dead process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    set(bytes);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  void set(rlim_t bytes) {
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  void lift() { ::setrlimit(RLIMIT_FSIZE, &previous_); }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

TEST(FileOutputTest, AFailedWriteLeavesNoHalfLineAndTheRetryNoDuplicate) {
  const fs::path dir =
      fs::temp_directory_path() / ("cvagent-file-output-efbig-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  FileOutputOptions o;
  o.path = (dir / "out.jsonl").string();
  testing::TestContext context;
  FileOutput output(o, context);
  output.connect();

  auto batchOf = [](int first, int count) {
    std::vector<Metric> batch;
    for (int i = first; i < first + count; ++i) {
      batch.push_back(testing::MetricBuilder("trade")
                          .tag("pair", "BTC/USD")
                          .field("seq", std::int64_t{i})
                          .time(1795962600123456000 + i));
    }
    return batch;
  };
  // Each batch is ~100 lines of ~80 bytes: a 20,000-byte limit cuts the third batch in a line.
  FileSizeLimit limit(20'000);
  int next = 0;
  int failures = 0;
  std::vector<Metric> pending;
  for (int round = 0; round < 10; ++round) {
    if (pending.empty()) {
      pending = batchOf(next, 100);
      next += 100;
    }
    const auto result = output.write(pending);
    if (result.status() == WriteStatus::kOk) {
      pending.clear();
      continue;
    }
    ASSERT_EQ(result.status(), WriteStatus::kRetry);
    EXPECT_NE(result.reason().find("File too large"), std::string::npos) << result.reason();
    ++failures;
    // Nothing of the failed batch stayed behind: the file ends with a whole line.
    const std::string content = readAll(o.path);
    ASSERT_FALSE(content.empty());
    EXPECT_EQ(content.back(), '\n');
    EXPECT_LE(content.size(), 20'000u);
    if (failures == 3) limit.lift();  // the disk has room again: the retry goes through
  }
  ASSERT_EQ(failures, 3);
  EXPECT_TRUE(pending.empty());

  // Every metric exactly once, in order.
  std::istringstream lines(readAll(o.path));
  std::string line;
  std::int64_t expected = 0;
  while (std::getline(lines, line)) {
    Metric m;
    std::string error;
    ASSERT_TRUE(codec::parseJson(line, m, error)) << error << " in " << line;
    EXPECT_EQ(std::get<std::int64_t>(*m.field("seq")), expected) << line;
    ++expected;
  }
  EXPECT_EQ(expected, next);
  EXPECT_EQ(next, 700);  // 10 rounds, 3 of them failed attempts of one batch
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cvagent::outputs::file

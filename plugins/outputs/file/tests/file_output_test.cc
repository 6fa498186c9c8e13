#include "file_output.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
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

// ---------------------------------------------------------------- rotation

struct RotationDir {
  fs::path dir;
  explicit RotationDir(const std::string& name) : dir(fs::temp_directory_path() / name) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~RotationDir() { fs::remove_all(dir); }
  std::string path() const { return (dir / "metrics.jsonl").string(); }
};

std::vector<Metric> numberedBatch(int first, int count) {
  std::vector<Metric> batch;
  for (int i = first; i < first + count; ++i) {
    batch.push_back(testing::MetricBuilder("trade")
                        .tag("pair", "BTC/USD")
                        .field("seq", std::int64_t{i})
                        .time(1'795'962'600'000'000'000 + i));
  }
  return batch;
}

// Every line of the archives (oldest first) then the current file, as sequence numbers.
std::vector<std::int64_t> sequenceAcrossFiles(const std::string& path) {
  auto files = FileOutput::archives(path);
  files.push_back(path);
  std::vector<std::int64_t> seqs;
  for (const auto& f : files) {
    std::istringstream lines(readAll(f));
    for (std::string line; std::getline(lines, line);) {
      Metric m;
      std::string error;
      EXPECT_TRUE(codec::parseJson(line, m, error)) << error << " in " << f << ": " << line;
      seqs.push_back(std::get<std::int64_t>(*m.field("seq")));
    }
  }
  return seqs;
}

TEST(FileOutputRotationTest, BySizeKeepsWholeBatchesAndEveryLineInOrder) {
  RotationDir d("cvagent-file-rotation-size");
  FileOutputOptions o;
  o.path = d.path();
  o.rotation.max_size.bytes = 2048;
  testing::TestContext context;
  FileOutput output(o, context);
  output.connect();
  int next = 0;
  for (int b = 0; b < 40; ++b) {
    ASSERT_EQ(output.write(numberedBatch(next, 5)).status(), WriteStatus::kOk);
    next += 5;
  }
  output.close();
  const auto archives = FileOutput::archives(o.path);
  ASSERT_GE(archives.size(), 3u) << "40 batches of ~500 bytes into 2 KiB files";
  for (const auto& a : archives) {
    EXPECT_LE(fs::file_size(a), 2048u) << a;
    const std::string text = readAll(a);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n') % 5, 0)
        << a << ": a batch was split across files";
  }
  std::vector<std::int64_t> want(200);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(sequenceAcrossFiles(o.path), want) << "a line lost, doubled or out of order";
  EXPECT_TRUE(context.logger().contains("rotated " + o.path + " to ", LogLevel::kInfo));
}

TEST(FileOutputRotationTest, ByAgeOnTheAgentsClockWithTheTimeInTheArchiveName) {
  RotationDir d("cvagent-file-rotation-age");
  FileOutputOptions o;
  o.path = d.path();
  o.rotation.interval = std::chrono::hours(1);
  testing::TestContext context;
  context.fakeClock().set(1'795'962'600'000'000'000);  // 2026-11-29T14:30:00Z
  FileOutput output(o, context);
  output.connect();
  ASSERT_EQ(output.write(numberedBatch(0, 2)).status(), WriteStatus::kOk);
  context.fakeClock().advance(std::chrono::nanoseconds(std::chrono::minutes(59)).count());
  ASSERT_EQ(output.write(numberedBatch(2, 2)).status(), WriteStatus::kOk);
  EXPECT_TRUE(FileOutput::archives(o.path).empty()) << "59 minutes: not yet";
  context.fakeClock().advance(std::chrono::nanoseconds(std::chrono::minutes(1)).count());
  ASSERT_EQ(output.write(numberedBatch(4, 2)).status(), WriteStatus::kOk);
  auto archives = FileOutput::archives(o.path);
  ASSERT_EQ(archives.size(), 1u);
  EXPECT_EQ(fs::path(archives[0]).filename(), "metrics.20261129T153000.000Z.jsonl");
  EXPECT_EQ(sequenceAcrossFiles(o.path), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  // The new file's hour starts at the rotation, not at the first start.
  context.fakeClock().advance(std::chrono::nanoseconds(std::chrono::minutes(30)).count());
  ASSERT_EQ(output.write(numberedBatch(6, 1)).status(), WriteStatus::kOk);
  EXPECT_EQ(FileOutput::archives(o.path).size(), 1u);
}

TEST(FileOutputRotationTest, MaxArchivesDeletesOnlyTheOldestArchives) {
  RotationDir d("cvagent-file-rotation-archives");
  FileOutputOptions o;
  o.path = d.path();
  o.rotation.max_size.bytes = 1;  // every batch after the first starts a new file
  o.rotation.max_archives = 2;
  std::ofstream(d.dir / "metrics.notes.jsonl") << "not an archive\n";
  testing::TestContext context;
  FileOutput output(o, context);
  output.connect();
  for (int b = 0; b < 6; ++b) {
    context.fakeClock().advance(1'000'000'000);
    ASSERT_EQ(output.write(numberedBatch(b, 1)).status(), WriteStatus::kOk);
  }
  output.close();
  // Files: batches 3 and 4 archived, 5 current; 0..2 deleted; the unrelated file kept.
  EXPECT_EQ(sequenceAcrossFiles(o.path), (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_TRUE(fs::exists(d.dir / "metrics.notes.jsonl"));
  EXPECT_TRUE(context.logger().contains("(rotation.max_archives: 2)", LogLevel::kInfo));
}

TEST(FileOutputRotationTest, ArchivesWithinTheSameMillisecondGetDistinctNames) {
  RotationDir d("cvagent-file-rotation-same-ms");
  FileOutputOptions o;
  o.path = d.path();
  o.rotation.max_size.bytes = 1;
  testing::TestContext context;  // the fake clock does not move
  FileOutput output(o, context);
  output.connect();
  for (int b = 0; b < 4; ++b)
    ASSERT_EQ(output.write(numberedBatch(b, 1)).status(), WriteStatus::kOk);
  EXPECT_EQ(FileOutput::archives(o.path).size(), 3u);
  EXPECT_EQ(sequenceAcrossFiles(o.path), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace cvagent::outputs::file

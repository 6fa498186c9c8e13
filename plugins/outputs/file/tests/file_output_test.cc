#include "file_output.h"

#include <gtest/gtest.h>

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

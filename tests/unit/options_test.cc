// The options schema: binding of every supported type, constraints, unknown keys, secrets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "config/config_loader.h"
#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/testing/bind_options.h"

namespace cvagent {
namespace {

struct Nested {
  int depth = 3;
  static void describe(Schema<Nested>& s) { s.option("depth", &Nested::depth, "Depth.").min(1); }
};

struct Rule {
  std::string name;
  double threshold = 0.5;
  static void describe(Schema<Rule>& s) {
    s.option("name", &Rule::name, "Rule name.").required();
    s.option("threshold", &Rule::threshold, "Threshold.");
  }
};

struct Everything {
  bool flag = false;
  int count = 10;
  std::uint32_t small = 1;
  double ratio = 0.5;
  std::string mode = "fast";
  std::chrono::milliseconds wait{1500};
  ByteSize limit{1048576};
  Secret password;
  std::optional<int> maybe;
  std::vector<std::string> pairs{"BTC/USD"};
  std::map<std::string, std::string> labels;
  Nested nested;
  std::vector<Rule> rules;

  static void describe(Schema<Everything>& s) {
    s.option("flag", &Everything::flag, "A flag.");
    s.option("count", &Everything::count, "A count.").min(1).max(100);
    s.option("small", &Everything::small, "Unsigned.");
    s.option("ratio", &Everything::ratio, "A ratio.");
    s.option("mode", &Everything::mode, "A mode.").oneOf({"fast", "slow"});
    s.option("wait", &Everything::wait, "A wait.").min(0.1);
    s.option("limit", &Everything::limit, "A size.");
    s.option("password", &Everything::password, "A secret.");
    s.option("maybe", &Everything::maybe, "Optional.");
    s.option("pairs", &Everything::pairs, "Pairs.");
    s.option("labels", &Everything::labels, "Labels.");
    s.option("nested", &Everything::nested, "Nested.");
    s.option("rules", &Everything::rules, "Rules.");
    s.check([](const Everything& e, const SourceMark& where, Diagnostics& d) {
      if (e.flag && e.mode == "slow") d.push_back({where, "flag needs mode fast"});
    });
  }
};

ConfigNode yaml(const std::string& text) {
  Diagnostics diags;
  auto node = config::parseYaml(text, "test.yaml", config::processEnv(), diags);
  EXPECT_TRUE(diags.empty()) << diags.front().str();
  return *node;
}

Diagnostics bindText(const std::string& text, Everything& out) {
  Diagnostics diags;
  schemaOf<Everything>().bind(&out, yaml(text), "inputs.test", diags);
  return diags;
}

TEST(OptionsTest, DefaultsComeFromTheStruct) {
  const auto& schema = schemaOf<Everything>();
  EXPECT_EQ(schema.find("count")->default_text, "10");
  EXPECT_EQ(schema.find("wait")->default_text, "1500ms");
  EXPECT_EQ(schema.find("limit")->default_text, "1MiB");
  EXPECT_EQ(schema.find("pairs")->default_text, "[BTC/USD]");
  EXPECT_EQ(schema.find("mode")->type_name, "string");
  EXPECT_EQ(schema.find("rules")->type_name, "list of object");
  ASSERT_EQ(schema.find("rules")->children.size(), 2u);
  EXPECT_TRUE(schema.find("password")->secret);
}

TEST(OptionsTest, BindsEveryType) {
  Everything e;
  auto diags = bindText(R"(
flag: true
count: 42
small: 7
ratio: 0.25
mode: slow
wait: 1m30s
limit: 64MiB
maybe: 5
pairs: [ETH/USD, SOL/USD]
labels: {a: b}
nested: {depth: 9}
rules:
  - {name: spike, threshold: 1.5}
  - {name: drop}
)",
                        e);
  ASSERT_EQ(diags.size(), 1u);  // the cross-field check
  EXPECT_EQ(diags[0].message, "flag needs mode fast");
  EXPECT_TRUE(e.flag);
  EXPECT_EQ(e.count, 42);
  EXPECT_EQ(e.small, 7u);
  EXPECT_DOUBLE_EQ(e.ratio, 0.25);
  EXPECT_EQ(e.wait, std::chrono::milliseconds(90'000));
  EXPECT_EQ(e.limit.bytes, 64u * 1024 * 1024);
  EXPECT_EQ(e.maybe, 5);
  EXPECT_EQ(e.pairs, (std::vector<std::string>{"ETH/USD", "SOL/USD"}));
  EXPECT_EQ(e.labels.at("a"), "b");
  EXPECT_EQ(e.nested.depth, 9);
  ASSERT_EQ(e.rules.size(), 2u);
  EXPECT_EQ(e.rules[1].name, "drop");
  EXPECT_DOUBLE_EQ(e.rules[1].threshold, 0.5);
}

TEST(OptionsTest, ErrorsNameTheOptionAndPosition) {
  Everything e;
  auto diags = bindText("count: lots\nmode: quick\nwait: 5\ncount2: 1\nsmall: -1\n", e);
  ASSERT_EQ(diags.size(), 5u);
  EXPECT_EQ(diags[0].str(), "test.yaml:1:8: option 'count' expects an integer, got 'lots'");
  EXPECT_EQ(diags[1].str(), "test.yaml:2:7: option 'mode' must be one of fast, slow, got 'quick'");
  EXPECT_EQ(diags[2].mark.line, 3);
  EXPECT_NE(diags[2].message.find("expects a duration"), std::string::npos);
  EXPECT_EQ(diags[3].str(),
            "test.yaml:4:1: unknown option 'count2' in inputs.test; did you mean 'count'?");
  EXPECT_NE(diags[4].message.find("non-negative integer"), std::string::npos);
  EXPECT_EQ(e.count, 10) << "a bad value leaves the default";
}

TEST(OptionsTest, RangeAndNestedErrors) {
  Everything e;
  auto diags = bindText("count: 0\nwait: 10ms\nnested: {depht: 2}\nrules: [{threshold: 1}]\n", e);
  ASSERT_EQ(diags.size(), 4u);
  EXPECT_EQ(diags[0].message, "option 'count' must be at least 1, got 0");
  EXPECT_EQ(diags[1].message, "option 'wait' must be at least 0.1, got 10ms");
  EXPECT_EQ(diags[2].message, "unknown option 'depht' in nested; did you mean 'depth'?");
  EXPECT_EQ(diags[2].mark.line, 3);
  EXPECT_EQ(diags[3].message, "missing required option 'name' in rules");
}

TEST(OptionsTest, SecretsFromFilesAndNeverRendered) {
  const auto path = std::filesystem::temp_directory_path() / "cvagent-options-secret";
  std::ofstream(path) << "hunter2\n";
  Everything e;
  auto diags = bindText("password: file:" + path.string() + "\n", e);
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(e.password.reveal(), "hunter2");
  EXPECT_EQ(OptionTraits<Secret>::render(e.password), "\"<secret>\"");
  diags = bindText("password: file:/nonexistent/secret\n", e);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("/nonexistent/secret"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(OptionsTest, ScalarParsers) {
  std::chrono::nanoseconds d{};
  EXPECT_TRUE(detail::parseDuration("1h30m", d));
  EXPECT_EQ(d, std::chrono::minutes(90));
  EXPECT_TRUE(detail::parseDuration("250us", d));
  EXPECT_EQ(d, std::chrono::microseconds(250));
  EXPECT_FALSE(detail::parseDuration("10", d));
  EXPECT_FALSE(detail::parseDuration("10 s", d));
  EXPECT_FALSE(detail::parseDuration("s", d));
  EXPECT_EQ(formatDuration(std::chrono::seconds(90)), "90s");
  EXPECT_EQ(formatDuration(std::chrono::hours(24)), "1d");
  std::uint64_t bytes = 0;
  EXPECT_TRUE(detail::parseByteSize("512KiB", bytes));
  EXPECT_EQ(bytes, 512u * 1024);
  EXPECT_TRUE(detail::parseByteSize("10MB", bytes));
  EXPECT_EQ(bytes, 10'000'000u);
  EXPECT_FALSE(detail::parseByteSize("10 parsecs", bytes));
  EXPECT_EQ(detail::didYouMean("bach_size", {"batch_size", "buffer", "retry"}), "batch_size");
  EXPECT_EQ(detail::didYouMean("zzzzzz", {"batch_size", "buffer"}), "");
  EXPECT_EQ(detail::yamlQuote("BTC/USD"), "BTC/USD");
  EXPECT_EQ(detail::yamlQuote("true"), "\"true\"");
  EXPECT_EQ(detail::yamlQuote("a b"), "\"a b\"");
  EXPECT_EQ(detail::yamlQuote(""), "\"\"");
}

enum class Shade { kLight, kDark };
constexpr EnumNames<Shade, 2> optionNames(Shade) {
  return {{{"light", Shade::kLight}, {"dark", Shade::kDark}}};
}

struct Themed {
  Shade shade = Shade::kLight;
  std::vector<Shade> extra;
  static void describe(Schema<Themed>& s) {
    s.option("shade", &Themed::shade, "A shade.");
    s.option("extra", &Themed::extra, "More shades.");
  }
};

TEST(OptionsTest, EnumsBindTheirWordsAndListThem) {
  const auto& schema = schemaOf<Themed>();
  EXPECT_EQ(schema.find("shade")->one_of, (std::vector<std::string>{"light", "dark"}));
  EXPECT_EQ(schema.find("extra")->one_of, (std::vector<std::string>{"light", "dark"}));
  EXPECT_EQ(schema.find("shade")->default_text, "light");
  Themed t = testing::bindOptions<Themed>("shade: dark\nextra: [light, dark]");
  EXPECT_EQ(t.shade, Shade::kDark);
  EXPECT_EQ(t.extra, (std::vector<Shade>{Shade::kLight, Shade::kDark}));
  EXPECT_EQ(enumName(Shade::kDark), "dark");
  try {
    testing::bindOptions<Themed>("shade: drak");
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "options.yaml:1:8: option 'shade' must be one of light, dark, got 'drak'; did you "
                 "mean 'dark'?");
  }
}

TEST(OptionsTest, BindOptionsRunsTheWholeSchema) {
  EXPECT_NO_THROW(testing::bindOptions<Everything>("flag: false"));
  EXPECT_THROW(testing::bindOptions<Everything>("cuont: 3"), std::invalid_argument);
  EXPECT_THROW(testing::bindOptions<Everything>("count: 0"), std::invalid_argument);
  // The schema's checks too: flag with mode slow is refused.
  EXPECT_THROW(testing::bindOptions<Everything>("flag: true\nmode: slow"), std::invalid_argument);
  EXPECT_THROW(testing::bindOptions<Everything>("[1, 2]"), std::invalid_argument);
}

TEST(OptionsTest, SecretFromFileIsTheOneReader) {
  const auto path = std::filesystem::temp_directory_path() / "cvagent-options-secret-file";
  std::ofstream(path) << "s3cret\r\n";
  EXPECT_EQ(Secret::fromFile(path.string()).reveal(), "s3cret");
  std::filesystem::remove(path);
  try {
    Secret::fromFile("/nonexistent/secret");
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "cannot read secret file '/nonexistent/secret'");
  }
}

class LinesLogger final : public Logger {
 public:
  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel, std::string_view message) override { lines.emplace_back(message); }
  std::vector<std::string> lines;
};

TEST(LoggerTest, RateLimiterSaysWhatItSuppressed) {
  LogRateLimiter limit(std::chrono::milliseconds(300), 2);
  LinesLogger logger;
  for (int i = 0; i < 5; ++i) limit.warn(logger, "bad frame {}", i);
  ASSERT_EQ(logger.lines.size(), 2u);
  EXPECT_EQ(logger.lines[1], "bad frame 1");
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  limit.error(logger, "bad frame {}", 5);
  ASSERT_EQ(logger.lines.size(), 3u);
  EXPECT_EQ(logger.lines[2], "bad frame 5 (3 similar messages suppressed)");
}

}  // namespace
}  // namespace cvagent

// Pipeline files: substitution, merging, and every validation message with file:line:column.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"

namespace cvagent::config {
namespace {

namespace fs = std::filesystem;

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SubstitutionTest, VariablesDefaultsAndEscapes) {
  auto env = fakeEnv({{"HOST", "kafka:9092"}, {"EMPTY", ""}});
  std::string out, error;
  ASSERT_TRUE(substitute("${HOST}", env, out, error));
  EXPECT_EQ(out, "kafka:9092");
  ASSERT_TRUE(substitute("a-${MISSING:-fallback}-b", env, out, error));
  EXPECT_EQ(out, "a-fallback-b");
  ASSERT_TRUE(substitute("${EMPTY:-used}", env, out, error));
  EXPECT_EQ(out, "used");
  ASSERT_TRUE(substitute("cost $$5 and $HOME", env, out, error));
  EXPECT_EQ(out, "cost $5 and $HOME");
  EXPECT_FALSE(substitute("${MISSING}", env, out, error));
  EXPECT_EQ(error,
            "environment variable 'MISSING' is not set (use ${MISSING:-default} for a default)");
  EXPECT_FALSE(substitute("${HOST", env, out, error));
  EXPECT_FALSE(substitute("${BAD-NAME}", env, out, error));
}

TEST(LoaderTest, SubstitutesInsideYamlAndKeepsPositions) {
  Diagnostics diags;
  auto node =
      parseYaml("outputs:\n  - kafka:\n      brokers: ${B:-localhost:9092}\n      x: ${NOPE}\n",
                "p.yaml", fakeEnv({}), diags);
  ASSERT_TRUE(node);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(),
            "p.yaml:4:10: environment variable 'NOPE' is not set (use ${NOPE:-default} for a "
            "default)");
  const auto& kafka = node->find("outputs")->items()[0].entries()[0].value;
  EXPECT_EQ(kafka.find("brokers")->text(), "localhost:9092");
  EXPECT_EQ(kafka.find("brokers")->mark().line, 3);
  EXPECT_EQ(kafka.find("brokers")->mark().column, 16);
}

TEST(LoaderTest, InvalidYamlSaysWhere) {
  Diagnostics diags;
  auto node = parseYaml("inputs:\n  - file: {path: [unclosed\n", "bad.yaml", fakeEnv({}), diags);
  EXPECT_FALSE(node);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].mark.file, "bad.yaml");
  EXPECT_GT(diags[0].mark.line, 0);
  EXPECT_NE(diags[0].message.find("invalid YAML"), std::string::npos);
  diags.clear();
  EXPECT_FALSE(parseYaml("- just\n- a list\n", "list.yaml", fakeEnv({}), diags));
  EXPECT_NE(diags.at(0).message.find("must be a map"), std::string::npos);
  diags.clear();
  parseYaml("agent: {}\nagent: {}\n", "dup.yaml", fakeEnv({}), diags);
  EXPECT_EQ(diags.at(0).str(), "dup.yaml:2:1: duplicate key 'agent'");
}

TEST(LoaderTest, MergesFilesAndDirectories) {
  const fs::path dir = fs::temp_directory_path() / "cvagent-config-merge";
  fs::remove_all(dir);
  fs::create_directories(dir / "conf.d");
  std::ofstream(dir / "main.yaml")
      << "agent: {interval: 5s, http: ''}\ninputs:\n  - file: {path: a}\n";
  std::ofstream(dir / "conf.d" / "20-out.yaml") << "outputs:\n  - stdout: {}\n";
  std::ofstream(dir / "conf.d" / "10-in.yml")
      << "agent: {interval: 7s}\ninputs:\n  - file: {path: b}\n";
  std::ofstream(dir / "conf.d" / "ignored.txt") << "not: yaml: at: all";
  Diagnostics diags;
  auto root =
      loadAll({(dir / "main.yaml").string()}, {(dir / "conf.d").string()}, fakeEnv({}), diags);
  ASSERT_TRUE(root);
  ASSERT_TRUE(diags.empty()) << diags[0].str();
  auto config = parsePipeline(*root, diags);
  ASSERT_TRUE(diags.empty()) << diags[0].str();
  ASSERT_EQ(config.inputs.size(), 2u);
  EXPECT_EQ(config.inputs[0].options.find("path")->text(), "a");
  EXPECT_EQ(config.inputs[1].options.find("path")->text(), "b");
  EXPECT_EQ(config.inputs[1].mark.file, (dir / "conf.d" / "10-in.yml").string());
  EXPECT_EQ(config.outputs.size(), 1u);
  EXPECT_EQ(config.agent.interval, std::chrono::seconds(7));  // later file wins
  EXPECT_EQ(config.inputs[0].id, "inputs.file.1");
  EXPECT_EQ(config.inputs[1].id, "inputs.file.2");
  fs::remove_all(dir);
}

// Issue 16: nine levels of nine aliases, a few hundred bytes, 9^9 nodes once expanded.
TEST(LoaderTest, AliasBombIsRefused) {
  std::string yaml =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char level = 'b'; level <= 'i'; ++level) {
    const char prev = static_cast<char>(level - 1);
    yaml += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 9; ++i) yaml += std::string(i ? ",*" : "*") + prev;
    yaml += "]\n";
  }
  yaml += "inputs: *i\n";
  Diagnostics diags;
  auto node = parseYaml(yaml, "bomb.yaml", fakeEnv({}), diags);
  EXPECT_FALSE(node);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].str().find("bomb.yaml:"), std::string::npos);
  EXPECT_NE(diags[0].message.find("expands to more than 100000 nodes"), std::string::npos)
      << diags[0].str();
}

TEST(LoaderTest, DirectoryOversizedAndEmptyPipelinesAreRefused) {
  const fs::path dir = fs::temp_directory_path() / "cvagent-config-refusals";
  fs::remove_all(dir);
  fs::create_directories(dir / "conf.d");
  Diagnostics diags;
  EXPECT_FALSE(loadFile((dir / "conf.d").string(), fakeEnv({}), diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(), (dir / "conf.d").string() +
                                ": is a directory, not a pipeline file (use --config-dir for "
                                "a directory)");

  diags.clear();
  {
    std::ofstream big(dir / "big.yaml");
    big << "agent: {}\n# " << std::string(kMaxConfigFileBytes, 'x') << "\n";
  }
  EXPECT_FALSE(loadFile((dir / "big.yaml").string(), fakeEnv({}), diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("larger than 4 MiB"), std::string::npos) << diags[0].str();

  diags.clear();
  std::ofstream(dir / "empty.yaml") << "# nothing but a comment\n";
  auto root = loadFile((dir / "empty.yaml").string(), fakeEnv({}), diags);
  ASSERT_TRUE(root);
  auto config = parsePipeline(*root, diags);
  requireInputsAndOutputs(config, root->mark(), diags);
  std::vector<std::string> got;
  for (const auto& d : diags) got.push_back(d.str());
  const std::string at = (dir / "empty.yaml").string() + ":1:1: ";
  EXPECT_EQ(got, (std::vector<std::string>{
                     at + "the pipeline has no inputs (an empty or truncated file?)",
                     at + "the pipeline has no outputs (an empty or truncated file?)"}));
  fs::remove_all(dir);
}

// Issue 16: a relative plugin directory depended on where the agent was started from.
TEST(LoaderTest, RelativePluginDirsAreRelativeToTheirFile) {
  const fs::path dir = fs::temp_directory_path() / "cvagent-config-plugin-dirs";
  fs::remove_all(dir);
  fs::create_directories(dir / "conf.d");
  std::ofstream(dir / "main.yaml") << "agent: {plugin_dirs: [plugins, /opt/abs, ../up]}\n";
  Diagnostics diags;
  auto root = loadAll({(dir / "main.yaml").string()}, {}, fakeEnv({}), diags);
  ASSERT_TRUE(root);
  auto config = parsePipeline(*root, diags);
  ASSERT_TRUE(diags.empty()) << diags[0].str();
  EXPECT_EQ(config.agent.plugin_dirs,
            (std::vector<std::string>{(dir / "plugins").string(), "/opt/abs",
                                      (dir.parent_path() / "up").string()}));
  fs::remove_all(dir);
}

// A plugin linked into the test, to validate plugin options against.
struct DemoOptions {
  std::string path;
  std::string format = "json";
  static void describe(Schema<DemoOptions>& s) {
    s.option("path", &DemoOptions::path, "Path.").required();
    s.option("format", &DemoOptions::format, "Format.").oneOf({"json", "influx"});
  }
};

Diagnostics validate(const std::string& yaml) {
  Diagnostics diags;
  auto root = parseYaml(yaml, "bad.yaml", fakeEnv({}), diags);
  if (!root) return diags;
  auto config = parsePipeline(*root, diags);
  static const OptionSchema& schema = schemaOf<DemoOptions>();
  PluginDescriptor demo{};
  demo.options = &schema;
  for (const auto* instance : config.all()) validatePluginOptions(*instance, demo, diags);
  return diags;
}

TEST(ValidationTest, MisspelledCoreKeySuggestsIt) {
  const auto diags = validate(
      "outputs:\n"
      "  - demo:\n"
      "      path: out.jsonl\n"
      "      bach_size: 500\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(),
            "bad.yaml:4:7: unknown option 'bach_size' in outputs.demo; did you mean 'batch_size'?");
}

// Issue 16: a batch_size of a few extra zeros passed validate, then aborted the start.
TEST(ValidationTest, CountsTheCoreAllocatesForAreBounded) {
  const auto diags = validate(
      "agent: {queue_size: 100000000000}\n"
      "outputs:\n"
      "  - demo:\n"
      "      path: x\n"
      "      batch_size: 100000000000000\n"
      "      buffer: {max: 100000000000}\n");
  std::vector<std::string> got;
  for (const auto& d : diags) got.push_back(d.str());
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "bad.yaml:1:21: option 'queue_size' must be at most 10000000, got 100000000000",
                "bad.yaml:5:19: option 'batch_size' must be at most 1000000, got "
                "100000000000000",
                "bad.yaml:6:21: option 'max' must be at most 100000000, got 100000000000"}));
}

TEST(ValidationTest, EveryMessage) {
  const auto diags = validate(
      "agnet: {}\n"                                   // 1
      "agent:\n"                                      // 2
      "  interval: often\n"                           // 3
      "  log_level: loud\n"                           // 4
      "inputs:\n"                                     // 5
      "  - demo: {format: xml}\n"                     // 6
      "  - demo: [1, 2]\n"                            // 7
      "  - {demo: {path: a}, other: {}}\n"            // 8
      "processors: {demo: {}}\n"                      // 9
      "outputs:\n"                                    // 10
      "  - demo:\n"                                   // 11
      "      path: x\n"                               // 12
      "      buffer: {max: 0, when_full: wait}\n"     // 13
      "      retry: {jitter: 2}\n"                    // 14
      "      id: same\n"                              // 15
      "  - demo: {path: y, id: same, frmat: json}\n"  // 16
  );
  std::vector<std::string> got;
  for (const auto& d : diags) got.push_back(d.str());
  const std::vector<std::string> want = {
      "bad.yaml:1:1: unknown section 'agnet'; did you mean 'agent'?",
      "bad.yaml:3:13: option 'interval' expects a duration such as 500ms, 10s, 5m or 1h, got "
      "'often'",
      "bad.yaml:4:14: option 'log_level' must be one of trace, debug, info, warn, error, off, got "
      "'loud'",
      "bad.yaml:7:11: options of inputs.demo must be a map (use {} for none)",
      "bad.yaml:8:5: each entry of 'inputs' must be a map with one key, the plugin name",
      "bad.yaml:9:13: 'processors' must be a list of one-key maps, e.g. '- stdout: {...}'",
      "bad.yaml:13:21: option 'max' must be at least 1, got 0",
      "bad.yaml:13:35: option 'when_full' must be one of block, drop_oldest, got 'wait'",
      "bad.yaml:14:23: option 'jitter' must be at most 1, got 2",
      "bad.yaml:16:5: duplicate plugin id 'same'",
      "bad.yaml:6:20: option 'format' must be one of json, influx, got 'xml'",
      "bad.yaml:6:11: missing required option 'path' in inputs.demo",
      "bad.yaml:16:31: unknown option 'frmat' in outputs.demo; did you mean 'format'?",
  };
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace cvagent::config

#pragma once
// The pipeline as the core understands it: the agent section and, per plugin instance, the keys the
// core owns (declared once here, with the same schema machinery plugins use) and the plugin's own
// options node, still unbound.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "cvagent/backoff.h"
#include "cvagent/config_node.h"
#include "cvagent/descriptor.h"
#include "cvagent/options.h"

namespace cvagent::config {

using std::chrono::milliseconds;

// Upper bounds of the counts the core allocates for: a typo of a few extra zeros is refused by
// `validate` instead of aborting the start on an allocation. A batch is reserved whole; the queue
// and buffer grow as they fill, bounded so a full one stays within a machine's memory.
inline constexpr std::size_t kMaxBatchSize = 1'000'000;
inline constexpr std::size_t kMaxQueueSize = 10'000'000;
inline constexpr std::size_t kMaxBufferMetrics = 100'000'000;

struct AgentOptions {
  std::string http = "127.0.0.1:9273";
  milliseconds interval{10'000};
  milliseconds flush_interval{1'000};
  std::size_t queue_size = 1024;
  milliseconds shutdown_timeout{10'000};
  std::map<std::string, std::string> tags;
  std::vector<std::string> plugin_dirs;
  std::string state_dir;
  std::string log_level = "info";
  std::string log_format = "text";

  static void describe(Schema<AgentOptions>& s);
};

// Keys every plugin instance accepts.
struct CommonOptions {
  std::string id;
  std::vector<std::string> namepass;
  std::vector<std::string> namedrop;
  std::map<std::string, std::vector<std::string>> tagpass;
  std::map<std::string, std::vector<std::string>> tagdrop;
  std::map<std::string, std::string> tags;
};

struct InputCoreOptions : CommonOptions {
  std::optional<milliseconds> interval;
  static void describe(Schema<InputCoreOptions>& s);
};

struct BufferOptions {
  std::string type = "memory";
  std::size_t max = 100'000;
  // block by default: a backfill of any size is slowed down, never dropped (Vector's default).
  std::string when_full = "block";
  // type: disk
  std::string path;
  ByteSize max_bytes{1ull << 30};
  std::string sync = "interval";
  milliseconds sync_interval{1'000};
  static void describe(Schema<BufferOptions>& s);
};

// The SDK's back-off (cvagent/backoff.h), which inputs that reconnect use too.
struct RetryOptions : BackoffOptions {
  static void describe(Schema<RetryOptions>& s);
};

struct OutputCoreOptions : CommonOptions {
  std::size_t batch_size = 1000;
  std::optional<milliseconds> flush_interval;
  BufferOptions buffer;
  RetryOptions retry;
  // Longest connect(), write() or close(); past it the core cancels the call and retries. Above
  // the outputs' own limits (Kafka's delivery_timeout + 5 s, timescale's statement_timeout), so it
  // catches only what they cannot: a server that answers nothing.
  milliseconds write_timeout{60'000};
  static void describe(Schema<OutputCoreOptions>& s);
};

struct ProcessorCoreOptions : CommonOptions {
  static void describe(Schema<ProcessorCoreOptions>& s);
};

// The option schema the core owns for a kind of plugin.
const OptionSchema& coreSchema(PluginKind kind);

struct PluginInstanceConfig {
  PluginKind kind;
  std::string name;    // "kraken"
  std::string id;      // "inputs.kraken", or the `id` option, unique in the pipeline
  SourceMark mark;     // where the instance is declared
  ConfigNode options;  // the plugin's own keys (core keys removed)
  InputCoreOptions input;
  OutputCoreOptions output;
  ProcessorCoreOptions processor;
  const CommonOptions& common() const;
};

struct PipelineConfig {
  AgentOptions agent;
  std::vector<PluginInstanceConfig> inputs;
  std::vector<PluginInstanceConfig> processors;
  std::vector<PluginInstanceConfig> outputs;

  std::vector<const PluginInstanceConfig*> all() const;
};

// Splits the merged tree into a PipelineConfig: checks the top-level shape, the agent section and
// the core-owned keys of each instance. Plugin options are checked later, against the plugin's
// own schema (see validatePluginOptions).
PipelineConfig parsePipeline(const ConfigNode& root, Diagnostics& diags);

// Checks an instance's plugin options against the plugin's schema (unknown keys get suggestions
// from both the plugin's and the core's keys).
void validatePluginOptions(const PluginInstanceConfig& instance, const PluginDescriptor& descriptor,
                           Diagnostics& diags);

}  // namespace cvagent::config

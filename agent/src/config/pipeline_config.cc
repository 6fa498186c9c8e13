#include "config/pipeline_config.h"

#include <filesystem>
#include <set>

namespace cvagent::config {

void AgentOptions::describe(Schema<AgentOptions>& s) {
  s.option("http", &AgentOptions::http,
           "Address of the agent's /health and /metrics endpoint, host:port; empty disables it. "
           "Loopback by default.");
  s.option("interval", &AgentOptions::interval, "Default gather interval of polled inputs.")
      .min(0.001);
  s.option("flush_interval", &AgentOptions::flush_interval,
           "Default longest wait before an output writes a partial batch.")
      .min(0.001);
  s.option("queue_size", &AgentOptions::queue_size,
           "Metrics the queue between inputs and processors holds before inputs wait.")
      .min(1)
      .max(static_cast<double>(kMaxQueueSize));
  s.option("shutdown_timeout", &AgentOptions::shutdown_timeout,
           "How long shutdown may take to drain the pipeline and flush outputs.")
      .min(0);
  s.option("tags", &AgentOptions::tags, "Tags added to every metric.");
  s.option("plugin_dirs", &AgentOptions::plugin_dirs,
           "Extra directories searched for plugins (after --plugin-dir and CVAGENT_PLUGIN_PATH, "
           "before the packaged directory). A relative one is relative to the folder of the file "
           "that names it.");
  s.option("state_dir", &AgentOptions::state_dir,
           "Directory where plugins keep state (dedup sets, offsets). Default: "
           "$STATE_DIRECTORY, else ./cvagent-state.");
  s.option("log_level", &AgentOptions::log_level, "Least severe level logged.")
      .oneOf({"trace", "debug", "info", "warn", "error", "off"});
  s.option("log_format", &AgentOptions::log_format, "Log line format.").oneOf({"text", "json"});
}

namespace {
template <typename Derived>
void describeCommon(Schema<Derived>& s) {
  s.option("id", &Derived::id,
           "Instance id in logs, /health and /metrics; default <kind>s.<name>, numbered when a "
           "plugin appears more than once.");
  s.option("namepass", &Derived::namepass,
           "Only metrics whose name matches one of these globs pass.");
  s.option("namedrop", &Derived::namedrop,
           "Metrics whose name matches one of these globs are dropped.");
  s.option("tagpass", &Derived::tagpass,
           "Only metrics with a tag matching one of the globs listed for it pass.");
  s.option("tagdrop", &Derived::tagdrop,
           "Metrics with a tag matching one of the globs listed for it are dropped.");
  s.option("tags", &Derived::tags, "Tags added to every metric that passes.");
}
}  // namespace

void InputCoreOptions::describe(Schema<InputCoreOptions>& s) {
  describeCommon(s);
  s.option("interval", &InputCoreOptions::interval,
           "How often a polled input gathers; default agent.interval.")
      .min(0.001);
}

void BufferOptions::describe(Schema<BufferOptions>& s) {
  s.option("type", &BufferOptions::type,
           "memory: metrics wait in memory (lost on a crash or kill). disk: they wait in segment "
           "files, survive a crash or kill and are written after the next start; an input's "
           "delivery is acknowledged once the metric is on disk.")
      .oneOf({"memory", "disk"});
  s.option("max", &BufferOptions::max,
           "Metrics held for the output while its writes fail (type: memory); while it keeps up, "
           "when_full: block holds only its batches in flight and one more.")
      .min(1)
      .max(static_cast<double>(kMaxBufferMetrics));
  s.option("when_full", &BufferOptions::when_full,
           "When the buffer is full: block (inputs wait, nothing is lost; a live stream's socket "
           "read stalls) or drop_oldest (the oldest metrics are dropped, counted and reported to "
           "their input as not delivered). On a full disk, a disk buffer with drop_oldest drops "
           "the new metrics (reason disk_full) and keeps what is written.")
      .oneOf({"block", "drop_oldest"});
  s.option("path", &BufferOptions::path,
           "Directory of a disk buffer; default <agent.state_dir>/buffers/<output id>. One agent "
           "and one output per directory (locked).");
  s.option("max_bytes", &BufferOptions::max_bytes,
           "Most bytes a disk buffer keeps on disk before when_full applies.");
  s.option("sync", &BufferOptions::sync,
           "When disk buffer writes are flushed to the device. always: after every metric; "
           "batch: after every group handed to the output; interval: written at once (a killed "
           "process loses nothing), flushed every sync_interval (a power cut loses at most that "
           "long).")
      .oneOf({"always", "batch", "interval"});
  s.option("sync_interval", &BufferOptions::sync_interval,
           "How often sync: interval flushes a disk buffer to the device.")
      .min(0.001);
}

void RetryOptions::describe(Schema<RetryOptions>& s) {
  describeBackoff(s, "a failed write or connect");
}

void OutputCoreOptions::describe(Schema<OutputCoreOptions>& s) {
  describeCommon(s);
  s.option("batch_size", &OutputCoreOptions::batch_size, "Most metrics per write.")
      .min(1)
      .max(static_cast<double>(kMaxBatchSize));
  s.option("flush_interval", &OutputCoreOptions::flush_interval,
           "Longest wait before a partial batch is written; default agent.flush_interval.")
      .min(0.001);
  s.option("buffer", &OutputCoreOptions::buffer, "The output's buffer.");
  s.option("retry", &OutputCoreOptions::retry, "Backoff between failed writes or connects.");
  s.option("write_timeout", &OutputCoreOptions::write_timeout,
           "Longest a connect, write or close may take: past it the core cancels the call (a hung "
           "database), counts a timeout and retries with backoff. 0: no limit.")
      .min(0);
}

void ProcessorCoreOptions::describe(Schema<ProcessorCoreOptions>& s) { describeCommon(s); }

const OptionSchema& coreSchema(PluginKind kind) {
  switch (kind) {
    case PluginKind::kInput:
      return schemaOf<InputCoreOptions>();
    case PluginKind::kOutput:
      return schemaOf<OutputCoreOptions>();
    case PluginKind::kProcessor:
      break;
  }
  return schemaOf<ProcessorCoreOptions>();
}

const CommonOptions& PluginInstanceConfig::common() const {
  switch (kind) {
    case PluginKind::kInput:
      return input;
    case PluginKind::kOutput:
      return output;
    case PluginKind::kProcessor:
      break;
  }
  return processor;
}

std::vector<const PluginInstanceConfig*> PipelineConfig::all() const {
  std::vector<const PluginInstanceConfig*> out;
  for (const auto* list : {&inputs, &processors, &outputs}) {
    for (const auto& p : *list) out.push_back(&p);
  }
  return out;
}

namespace {

void parseSection(const ConfigNode& section, PluginKind kind,
                  std::vector<PluginInstanceConfig>& out, Diagnostics& diags) {
  if (section.isNull()) return;
  if (!section.isSequence()) {
    diags.push_back({section.mark(), std::string("'") + kindSection(kind) +
                                         "' must be a list of one-key maps, e.g. '- " +
                                         (kind == PluginKind::kInput ? "file" : "stdout") +
                                         ": {...}'"});
    return;
  }
  const OptionSchema& core = coreSchema(kind);
  const std::vector<std::string> core_keys = core.names();
  for (const auto& item : section.items()) {
    if (!item.isMap() || item.entries().size() != 1) {
      diags.push_back({item.mark(), std::string("each entry of '") + kindSection(kind) +
                                        "' must be a map with one key, the plugin name"});
      continue;
    }
    const MapEntry& entry = item.entries().front();
    PluginInstanceConfig instance;
    instance.kind = kind;
    instance.name = entry.key;
    instance.mark = entry.key_mark;
    const ConfigNode& options = entry.value;
    if (!options.isMap() && !options.isNull()) {
      diags.push_back({options.mark(), std::string("options of ") + kindSection(kind) + "." +
                                           entry.key + " must be a map (use {} for none)"});
      continue;
    }
    // The core's keys are bound here; the rest is the plugin's.
    ConfigNode core_part = ConfigNode::map(options.mark());
    ConfigNode plugin_part = ConfigNode::map(options.isNull() ? entry.key_mark : options.mark());
    for (const auto& e : options.entries()) {
      if (core.find(e.key)) {
        core_part.insert(e.key, e.key_mark, e.value);
      } else {
        plugin_part.insert(e.key, e.key_mark, e.value);
      }
    }
    const std::string context = std::string(kindSection(kind)) + "." + entry.key;
    void* target = kind == PluginKind::kInput    ? static_cast<void*>(&instance.input)
                   : kind == PluginKind::kOutput ? static_cast<void*>(&instance.output)
                                                 : static_cast<void*>(&instance.processor);
    core.bind(target, core_part, context, diags);
    instance.options = std::move(plugin_part);
    out.push_back(std::move(instance));
  }
}

void assignIds(PipelineConfig& config, Diagnostics& diags) {
  std::map<std::string, int> uses;
  for (auto* list : {&config.inputs, &config.processors, &config.outputs}) {
    for (auto& p : *list) {
      if (p.common().id.empty()) ++uses[std::string(kindSection(p.kind)) + "." + p.name];
    }
  }
  std::map<std::string, int> seen;
  std::set<std::string> ids;
  for (auto* list : {&config.inputs, &config.processors, &config.outputs}) {
    for (auto& p : *list) {
      const std::string base = std::string(kindSection(p.kind)) + "." + p.name;
      if (!p.common().id.empty()) {
        p.id = p.common().id;
      } else if (uses[base] > 1) {
        p.id = base + "." + std::to_string(++seen[base]);
      } else {
        p.id = base;
      }
      if (!ids.insert(p.id).second) {
        diags.push_back({p.mark, "duplicate plugin id '" + p.id + "'"});
      }
    }
  }
}

// A relative plugin directory means the same wherever the agent is started from: the folder of the
// file that names it (merged files each resolve their own entries).
void resolvePluginDirs(const ConfigNode& agent, std::vector<std::string>& dirs) {
  const ConfigNode* node = agent.find("plugin_dirs");
  if (!node || !node->isSequence() || node->items().size() != dirs.size()) return;
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    const std::filesystem::path dir(dirs[i]);
    if (dir.empty() || dir.is_absolute()) continue;
    const std::filesystem::path file(node->items()[i].mark().file);
    dirs[i] = (std::filesystem::absolute(file).parent_path() / dir).lexically_normal().string();
  }
}

}  // namespace

PipelineConfig parsePipeline(const ConfigNode& root, Diagnostics& diags) {
  PipelineConfig config;
  static const std::vector<std::string> kSections = {"agent", "inputs", "processors", "outputs"};
  for (const auto& entry : root.entries()) {
    if (std::find(kSections.begin(), kSections.end(), entry.key) == kSections.end()) {
      std::string msg = "unknown section '" + entry.key + "'";
      const std::string hint = detail::didYouMean(entry.key, kSections);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      diags.push_back({entry.key_mark, msg});
    }
  }
  if (const ConfigNode* agent = root.find("agent")) {
    schemaOf<AgentOptions>().bind(&config.agent, *agent, "agent", diags);
    resolvePluginDirs(*agent, config.agent.plugin_dirs);
  }
  if (const ConfigNode* s = root.find("inputs"))
    parseSection(*s, PluginKind::kInput, config.inputs, diags);
  if (const ConfigNode* s = root.find("processors"))
    parseSection(*s, PluginKind::kProcessor, config.processors, diags);
  if (const ConfigNode* s = root.find("outputs"))
    parseSection(*s, PluginKind::kOutput, config.outputs, diags);
  assignIds(config, diags);
  return config;
}

void validatePluginOptions(const PluginInstanceConfig& instance, const PluginDescriptor& descriptor,
                           Diagnostics& diags) {
  auto scratch = descriptor.options->makeDefault();
  descriptor.options->bind(scratch.get(), instance.options,
                           std::string(kindSection(instance.kind)) + "." + instance.name, diags,
                           coreSchema(instance.kind).names());
}

}  // namespace cvagent::config

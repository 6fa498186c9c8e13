#include "cli/app.h"

#include <fmt/format.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/describe.h"
#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/version.h"
#include "observability/http_server.h"
#include "observability/logging.h"
#include "observability/service_manager.h"
#include "observability/telemetry.h"
#include "plugins/plugin_registry.h"
#include "runtime/pipeline.h"

namespace cvagent::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitConfig = 2;

struct CliOptions {
  std::vector<std::string> config_files;
  std::vector<std::string> config_dirs;
  std::vector<std::string> plugin_dirs;
  bool test = false;
  double test_wait = 0;
  bool once = false;
  std::string log_level;
  std::string log_format;
};

struct LoadedPipeline {
  config::PipelineConfig config;
  std::unique_ptr<plugins::PluginRegistry> registry;
};

void printDiagnostics(const Diagnostics& diags) {
  for (const auto& d : diags)
    std::fprintf(stderr, "%s: error: %s\n", d.mark.str().c_str(), d.message.c_str());
}

// Loads, parses and validates the whole pipeline, plugins included. False with `diags` filled.
bool loadPipeline(const CliOptions& cli, LoadedPipeline& out, Diagnostics& diags) {
  auto root = config::loadAll(cli.config_files, cli.config_dirs, config::processEnv(), diags);
  if (!root) return false;
  out.config = config::parsePipeline(*root, diags);
  out.registry = std::make_unique<plugins::PluginRegistry>(
      plugins::pluginSearchPath(cli.plugin_dirs, out.config.agent.plugin_dirs));
  for (const auto* instance : out.config.all()) {
    std::string error;
    auto plugin = out.registry->find(instance->kind, instance->name, error);
    if (!plugin) {
      diags.push_back({instance->mark, error});
      continue;
    }
    config::validatePluginOptions(*instance, plugin->descriptor(), diags);
  }
  return diags.empty();
}

void applyLogSettings(const CliOptions& cli, const config::AgentOptions& agent) {
  LogLevel level = LogLevel::kInfo;
  observability::parseLogLevel(cli.log_level.empty() ? agent.log_level : cli.log_level, level);
  const std::string& format = cli.log_format.empty() ? agent.log_format : cli.log_format;
  observability::configureLogging(
      level, format == "json" ? observability::LogFormat::kJson : observability::LogFormat::kText);
}

sigset_t agentSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// If a shutdown overruns its deadline anyway (an output without cancel() stuck in a write: the
// core cancels the others at the deadline), leave.
void armShutdownWatchdog(std::chrono::milliseconds timeout) {
  std::thread([timeout] {
    std::this_thread::sleep_for(timeout + std::chrono::seconds(5));
    observability::agentLog().error(
        "shutdown did not finish within shutdown_timeout + 5s; exiting");
    std::_Exit(kExitRuntime);
  }).detach();
}

int runAgent(const CliOptions& cli) {
  Diagnostics diags;
  LoadedPipeline loaded;
  if (!loadPipeline(cli, loaded, diags)) {
    printDiagnostics(diags);
    return kExitConfig;
  }
  applyLogSettings(cli, loaded.config.agent);
  auto& log = observability::agentLog();

  // Signals are taken synchronously by this thread: block them before any thread starts.
  const sigset_t signals = agentSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  observability::Telemetry telemetry;
  SystemClock clock;
  runtime::RunOptions run_options;
  run_options.test = cli.test;
  // --test changes nothing: plugins keep their state in a throwaway directory.
  std::string scratch_state;
  if (cli.test) {
    char dir_template[] = "/tmp/cvagent-test-state.XXXXXX";
    if (const char* dir = ::mkdtemp(dir_template)) {
      scratch_state = dir;
      loaded.config.agent.state_dir = scratch_state;
    }
  }
  struct ScratchCleanup {
    const std::string& dir;
    ~ScratchCleanup() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } scratch_cleanup{scratch_state};

  observability::HttpServer http(telemetry);
  const bool serve_http = !cli.test && !cli.once && !loaded.config.agent.http.empty();
  if (serve_http) {
    try {
      http.start(loaded.config.agent.http);
    } catch (const std::exception& e) {
      log.error("{}", e.what());
      return kExitRuntime;
    }
  }

  auto pipeline = std::make_unique<runtime::Pipeline>(loaded.config, *loaded.registry, telemetry,
                                                      clock, run_options);
  std::vector<std::string> errors;
  if (!pipeline->build(errors)) {
    for (const auto& e : errors) log.error("{}", e);
    return kExitRuntime;
  }
  log.info("cvagent {} started: {} inputs, {} processors, {} outputs", CVAGENT_VERSION,
           loaded.config.inputs.size(), loaded.config.processors.size(),
           loaded.config.outputs.size());

  if (cli.once || cli.test) {
    const auto shutdown_timeout = loaded.config.agent.shutdown_timeout;
    pipeline->start(/*once=*/true);
    pipeline->waitInputsDone();
    if (cli.test_wait > 0) {
      // Streaming inputs get this long; a signal ends it early.
      timespec wait{static_cast<time_t>(cli.test_wait),
                    static_cast<long>((cli.test_wait - static_cast<time_t>(cli.test_wait)) * 1e9)};
      sigtimedwait(&signals, nullptr, &wait);
    }
    armShutdownWatchdog(shutdown_timeout);
    pipeline->stop(std::chrono::steady_clock::now() + shutdown_timeout);
    const auto stats = pipeline->stats();
    log.info("done: {} metrics gathered, {} written, {} dropped", stats.gathered, stats.written,
             stats.dropped);
    // A one-shot run that lost data says so in its exit code.
    return stats.dropped ? kExitRuntime : kExitOk;
  }

  pipeline->start();
  const auto running = [&] {
    return fmt::format("running: {} inputs, {} processors, {} outputs", loaded.config.inputs.size(),
                       loaded.config.processors.size(), loaded.config.outputs.size());
  };
  observability::notifyReady(running());
  while (true) {
    const int sig = sigwaitinfo(&signals, nullptr);
    if (sig == SIGHUP) {
      log.info("SIGHUP: reloading the configuration");
      observability::notifyReloading();
      Diagnostics reload_diags;
      LoadedPipeline next;
      if (!loadPipeline(cli, next, reload_diags)) {
        for (const auto& d : reload_diags) log.error("reload refused: {}", d.str());
        observability::notifyReady("reload refused (see the log); " + running());
        continue;
      }
      applyLogSettings(cli, next.config.agent);
      auto carried = pipeline->stopForReload();
      auto replacement = std::make_unique<runtime::Pipeline>(next.config, *next.registry, telemetry,
                                                             clock, run_options);
      std::vector<std::string> build_errors;
      if (!replacement->build(build_errors, carried)) {
        for (const auto& e : build_errors) log.error("reload failed: {}", e);
        // The new pipeline keeps nothing it failed to build; run the old configuration again
        // with the buffers it had.
        replacement = std::make_unique<runtime::Pipeline>(loaded.config, *loaded.registry,
                                                          telemetry, clock, run_options);
        std::vector<std::string> again;
        if (!replacement->build(again, std::move(carried))) {
          for (const auto& e : again) log.error("cannot restore the previous pipeline: {}", e);
          return kExitRuntime;
        }
      } else {
        if (next.config.agent.http != loaded.config.agent.http && serve_http) {
          // The endpoint is not moved by a reload: a new address that cannot be bound would leave
          // probes with nothing to ask.
          log.warn("agent.http changed to '{}': /health and /metrics stay on '{}' until a restart",
                   next.config.agent.http, loaded.config.agent.http);
        }
        loaded.config = next.config;
        // The old registry's libraries stay loaded through the handles the old pipeline holds.
        pipeline.reset();
        loaded.registry = std::move(next.registry);
      }
      pipeline = std::move(replacement);
      pipeline->start();
      log.info("configuration reloaded");
      observability::notifyReady(running());
      continue;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      log.info("{}: stopping (deadline {}s)", sig == SIGINT ? "SIGINT" : "SIGTERM",
               loaded.config.agent.shutdown_timeout.count() / 1000.0);
      observability::notifyStopping();
      break;
    }
  }
  // The reloaded configuration's deadline: shutdown_timeout follows a reload.
  armShutdownWatchdog(loaded.config.agent.shutdown_timeout);
  const std::size_t left =
      pipeline->stop(std::chrono::steady_clock::now() + loaded.config.agent.shutdown_timeout);
  http.stop();
  const auto stats = pipeline->stats();
  log.info("stopped: {} metrics gathered, {} written, {} dropped", stats.gathered, stats.written,
           stats.dropped);
  return left ? kExitRuntime : kExitOk;
}

int validateCommand(const CliOptions& cli) {
  Diagnostics diags;
  LoadedPipeline loaded;
  if (!loadPipeline(cli, loaded, diags)) {
    printDiagnostics(diags);
    std::fprintf(stderr, "%zu error%s\n", diags.size(), diags.size() == 1 ? "" : "s");
    return kExitConfig;
  }
  std::printf("configuration is valid: %zu inputs, %zu processors, %zu outputs\n",
              loaded.config.inputs.size(), loaded.config.processors.size(),
              loaded.config.outputs.size());
  return kExitOk;
}

int schemaApplyCommand(const CliOptions& cli) {
  Diagnostics diags;
  LoadedPipeline loaded;
  if (!loadPipeline(cli, loaded, diags)) {
    printDiagnostics(diags);
    return kExitConfig;
  }
  applyLogSettings(cli, loaded.config.agent);
  observability::Telemetry telemetry;
  SystemClock clock;
  int applied = 0;
  for (const auto& instance : loaded.config.outputs) {
    std::string error;
    auto plugin = loaded.registry->find(instance.kind, instance.name, error);
    const auto& d = plugin->descriptor();
    auto options = d.options->makeDefault();
    Diagnostics bind_diags;
    d.options->bind(options.get(), instance.options, instance.id, bind_diags,
                    config::coreSchema(instance.kind).names());
    observability::InstanceContext context(instance.id, "output", telemetry, clock,
                                           "cvagent-state");
    try {
      auto output = d.create_output(options.get(), context);
      if (output->applySchema()) {
        std::printf("%s: schema applied\n", instance.id.c_str());
        ++applied;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: schema apply failed: %s\n", instance.id.c_str(), e.what());
      return kExitRuntime;
    }
  }
  if (applied == 0) std::printf("no output in this pipeline has a schema\n");
  return kExitOk;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"cvagent: ingestion agent for crypto market and news data"};
  app.set_version_flag("--version", std::string("cvagent ") + CVAGENT_VERSION);
  app.fallthrough();
  CliOptions cli;
  app.add_option("-c,--config", cli.config_files, "Pipeline file (repeatable; merged in order)");
  app.add_option("--config-dir", cli.config_dirs,
                 "Directory of pipeline files (*.yaml, *.yml), merged by name");
  app.add_option("--plugin-dir", cli.plugin_dirs,
                 "Directory searched for plugins first (repeatable)");
  app.add_flag("--test", cli.test,
               "Run inputs (polled ones once) and processors; print to stdout what would be "
               "written; write nothing");
  app.add_option("--test-wait", cli.test_wait,
                 "With --test or --once: seconds to let streaming inputs run")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--once", cli.once, "Gather every input once, flush the outputs, exit");
  app.add_option("--log-level", cli.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", cli.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  auto* validate = app.add_subcommand("validate", "Check a pipeline; exit 0 or 2 with the errors");
  auto* plugins_cmd = app.add_subcommand("plugins", "Installed plugins");
  plugins_cmd->require_subcommand(1);
  auto* list = plugins_cmd->add_subcommand("list", "List the plugins found");
  auto* describe = plugins_cmd->add_subcommand("describe", "Describe a plugin and its options");
  std::string describe_name;
  std::string describe_format = "text";
  describe->add_option("plugin", describe_name, "inputs.file, outputs.kafka, ...")->required();
  describe->add_option("--format", describe_format, "text or markdown (the README table)")
      ->check(CLI::IsMember({"text", "markdown"}));
  auto* config_cmd = app.add_subcommand("config", "Configuration helpers");
  config_cmd->require_subcommand(1);
  auto* sample = config_cmd->add_subcommand("sample", "Print a complete commented pipeline");
  auto* core_options = config_cmd->add_subcommand(
      "core-options", "Print the keys the agent owns as Markdown (docs/configuration.md)");
  auto* schema_cmd = app.add_subcommand("schema", "Database schemas of the outputs");
  schema_cmd->require_subcommand(1);
  auto* apply = schema_cmd->add_subcommand("apply", "Apply the schema of every output of -c");
  // For systemd's ExecReload on systems without /bin/kill (minimal images): the agent signals
  // itself, so the unit needs no other binary.
  auto* reload = app.add_subcommand(
      "reload", "Ask a running agent to reload its configuration (sends it SIGHUP)");
  pid_t reload_pid = 0;
  reload->add_option("--pid", reload_pid, "Process id of the running agent ($MAINPID)")
      ->required()
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitConfig;
  }
  if (!cli.log_level.empty() || !cli.log_format.empty()) applyLogSettings(cli, {});

  auto registryForListing = [&] {
    return plugins::PluginRegistry(plugins::pluginSearchPath(cli.plugin_dirs, {}));
  };

  if (*validate) return validateCommand(cli);
  if (*list) {
    auto registry = registryForListing();
    std::vector<std::string> errors;
    const auto found = registry.loadAll(errors);
    for (const auto& p : found) {
      std::printf("%-24s %-12s %s\n", p->fullName().c_str(),
                  stabilityName(p->descriptor().stability), p->descriptor().description);
    }
    if (found.empty()) {
      std::string dirs;
      for (const auto& d : registry.dirs()) dirs += (dirs.empty() ? "" : ", ") + d;
      std::fprintf(stderr, "no plugins found in %s\n", dirs.c_str());
    }
    for (const auto& e : errors) std::fprintf(stderr, "refused: %s\n", e.c_str());
    return kExitOk;
  }
  if (*describe) {
    const auto dot = describe_name.find('.');
    const std::string section = describe_name.substr(0, dot);
    PluginKind kind;
    if (section == "inputs") {
      kind = PluginKind::kInput;
    } else if (section == "processors") {
      kind = PluginKind::kProcessor;
    } else if (section == "outputs") {
      kind = PluginKind::kOutput;
    } else {
      std::fprintf(stderr, "name a plugin as inputs.NAME, processors.NAME or outputs.NAME\n");
      return kExitConfig;
    }
    auto registry = registryForListing();
    std::string error;
    auto plugin = registry.find(kind, describe_name.substr(dot + 1), error);
    if (!plugin) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return kExitConfig;
    }
    const std::string text = describe_format == "markdown"
                                 ? optionsMarkdownTable(*plugin->descriptor().options)
                                 : describePlugin(*plugin);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  if (*sample) {
    auto registry = registryForListing();
    std::vector<std::string> errors;
    std::fputs(sampleConfig(registry.loadAll(errors)).c_str(), stdout);
    for (const auto& e : errors) std::fprintf(stderr, "refused: %s\n", e.c_str());
    return kExitOk;
  }
  if (*apply) return schemaApplyCommand(cli);
  if (*reload) {
    if (::kill(reload_pid, SIGHUP) != 0) {
      std::fprintf(stderr, "cannot signal process %d: %s\n", static_cast<int>(reload_pid),
                   std::strerror(errno));
      return kExitRuntime;
    }
    return kExitOk;
  }
  if (*core_options) {
    std::fputs(coreOptionsMarkdown().c_str(), stdout);
    return kExitOk;
  }

  if (cli.config_files.empty() && cli.config_dirs.empty()) {
    std::fprintf(stderr, "%s\nno configuration: use -c FILE or --config-dir DIR\n",
                 app.help().c_str());
    return kExitConfig;
  }
  return runAgent(cli);
}

}  // namespace cvagent::cli

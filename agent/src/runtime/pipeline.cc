#include "runtime/pipeline.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include "cvagent/codec.h"
#include "observability/logging.h"

namespace cvagent::runtime {

using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------- instance slots
struct Pipeline::InputSlot {
  plugins::PluginHandle plugin;  // declared first: destroyed last, after the instance
  std::unique_ptr<observability::InstanceContext> context;
  std::unique_ptr<Input> input;
  std::unique_ptr<InputEmitter> emitter;
  std::thread thread;
  std::chrono::milliseconds interval{0};
  bool streaming = false;
  bool started = false;
  prometheus::Counter* errors = nullptr;
  ~InputSlot() {
    input.reset();
    emitter.reset();
  }
};

struct Pipeline::ProcessorSlot {
  plugins::PluginHandle plugin;
  std::unique_ptr<observability::InstanceContext> context;
  std::unique_ptr<Processor> processor;
  MetricFilter filter;
  std::uint64_t processed = 0;
  std::uint64_t published = 0;
  prometheus::Counter* processed_counter = nullptr;
  prometheus::Counter* errors = nullptr;
  ~ProcessorSlot() { processor.reset(); }
};

// What an input emits into: its filters and tags, then the queue. Thread-safe.
class Pipeline::InputEmitter final : public Emitter {
 public:
  InputEmitter(MetricQueue& queue, MetricReturns& returns, const config::CommonOptions& options,
               const std::map<std::string, std::string>& global,
               observability::Telemetry& telemetry, std::string id)
      : queue_(queue),
        returns_(returns),
        filter_(options),
        global_tags_(global),
        counter_(
            telemetry.counter("input_metrics_total", "Metrics an input emitted", {{"plugin", id}})),
        lost_counter_(telemetry.counter("input_metrics_dropped_total",
                                        "Metrics an input emitted after the pipeline stopped",
                                        {{"plugin", id}, {"reason", "stopped"}})) {}

  void emit(Metric&& metric) override {
    returns_.reap();  // stored metrics are freed on the thread that made them (metric_returns.h)
    if (!filter_.accepts(metric)) return;
    if (filter_.decorates()) filter_.decorate(metric);
    for (const auto& [k, v] : global_tags_) {
      if (!metric.tag(k)) metric.setTag(k, v);
    }
    if (queue_.push(std::move(metric))) {
      count_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // Not taken: the input must not count it as delivered (a file position or a Kafka offset
      // would advance past it). push() moves from `metric` only when it takes it.
      if (const auto& d = metric.delivery()) d->markFailed();  // NOLINT(bugprone-use-after-move)
      lost_.fetch_add(1, std::memory_order_relaxed);
      lost_counter_.Increment();
    }
  }

  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Emitted after the queue closed (an input that kept emitting past its stop()).
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
  void publish() {
    const std::uint64_t now = count();
    counter_.Increment(static_cast<double>(now - published_));
    published_ = now;
  }

 private:
  MetricQueue& queue_;
  MetricReturns& returns_;
  MetricFilter filter_;
  std::map<std::string, std::string> global_tags_;
  prometheus::Counter& counter_;
  prometheus::Counter& lost_counter_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> lost_{0};
  std::uint64_t published_ = 0;
};

// The entry of processor `stage` (or the outputs, past the last processor). It adds the tags of
// the processor that emits into it.
class Pipeline::StageEmitter final : public Emitter {
 public:
  StageEmitter(Pipeline& pipeline, std::size_t stage, const MetricFilter* tags_of_emitter)
      : pipeline_(pipeline), stage_(stage), tags_(tags_of_emitter) {}
  void emit(Metric&& metric) override {
    if (tags_ && tags_->decorates()) tags_->decorate(metric);
    pipeline_.dispatch(stage_, std::move(metric));
  }

 private:
  Pipeline& pipeline_;
  std::size_t stage_;
  const MetricFilter* tags_;
};

// ---------------------------------------------------------------- construction
Pipeline::Pipeline(config::PipelineConfig config, plugins::PluginRegistry& registry,
                   observability::Telemetry& telemetry, const Clock& clock, RunOptions options)
    : config_(std::move(config)),
      registry_(registry),
      telemetry_(telemetry),
      clock_(clock),
      options_(std::move(options)),
      queue_(config_.agent.queue_size) {
  state_root_ = config_.agent.state_dir;
  if (state_root_.empty()) {
    const char* systemd_state = std::getenv("STATE_DIRECTORY");
    state_root_ = systemd_state ? systemd_state : "cvagent-state";
  }
}

Pipeline::~Pipeline() {
  if (started_ && !stopped_) stop(SteadyClock::now());
  // Instances before their libraries: slots release in order.
  inputs_.clear();
  stages_.clear();
  processors_.clear();
  outputs_.clear();
}

std::unique_ptr<observability::InstanceContext> Pipeline::makeContext(
    const config::PluginInstanceConfig& instance) {
  return std::make_unique<observability::InstanceContext>(instance.id, kindName(instance.kind),
                                                          telemetry_, clock_, state_root_);
}

namespace {

// Binds the plugin's options and calls its factory. nullptr with `errors` filled on failure.
template <typename Made>
std::unique_ptr<Made> createInstance(const config::PluginInstanceConfig& instance,
                                     const PluginDescriptor& descriptor,
                                     std::unique_ptr<Made> (*factory)(const void*, PluginContext&),
                                     PluginContext& context, std::vector<std::string>& errors) {
  Diagnostics diags;
  auto options = descriptor.options->makeDefault();
  descriptor.options->bind(options.get(), instance.options,
                           std::string(kindSection(instance.kind)) + "." + instance.name, diags,
                           config::coreSchema(instance.kind).names());
  for (const auto& d : diags) errors.push_back(d.str());
  if (!diags.empty()) return nullptr;
  try {
    auto made = factory(options.get(), context);
    if (!made)
      errors.push_back(fmt::format("{}: {}: the plugin's factory returned nothing",
                                   instance.mark.str(), instance.id));
    return made;
  } catch (const std::exception& e) {
    errors.push_back(
        fmt::format("{}: {}: cannot start: {}", instance.mark.str(), instance.id, e.what()));
    return nullptr;
  }
}

}  // namespace

bool Pipeline::build(std::vector<std::string>& errors, CarriedBuffers carried) {
  const std::size_t errors_before = errors.size();
  auto findPlugin = [&](const config::PluginInstanceConfig& c) -> plugins::PluginHandle {
    std::string error;
    auto handle = registry_.find(c.kind, c.name, error);
    if (!handle) errors.push_back(c.mark.str() + ": " + error);
    return handle;
  };

  for (const auto& c : config_.inputs) {
    auto plugin = findPlugin(c);
    if (!plugin) continue;
    auto slot = std::make_unique<InputSlot>();
    slot->plugin = plugin;
    slot->context = makeContext(c);
    slot->input = createInstance(c, plugin->descriptor(), plugin->descriptor().create_input,
                                 *slot->context, errors);
    if (!slot->input) continue;
    slot->streaming = slot->input->isStreaming();
    slot->interval = c.input.interval.value_or(config_.agent.interval);
    slot->emitter = std::make_unique<InputEmitter>(queue_, returns_, c.input, config_.agent.tags,
                                                   telemetry_, c.id);
    slot->errors = &telemetry_.counter("input_errors_total", "Failed gathers or starts of an input",
                                       {{"plugin", c.id}});
    inputs_.push_back(std::move(slot));
  }
  for (const auto& c : config_.processors) {
    auto plugin = findPlugin(c);
    if (!plugin) continue;
    auto slot = std::make_unique<ProcessorSlot>();
    slot->plugin = plugin;
    slot->context = makeContext(c);
    slot->processor = createInstance(c, plugin->descriptor(), plugin->descriptor().create_processor,
                                     *slot->context, errors);
    if (!slot->processor) continue;
    slot->filter = MetricFilter(c.processor);
    slot->processed_counter = &telemetry_.counter(
        "processor_metrics_total", "Metrics a processor was given", {{"plugin", c.id}});
    slot->errors =
        &telemetry_.counter("processor_errors_total", "Metrics lost to an exception in a processor",
                            {{"plugin", c.id}});
    slot->context->setHealth(HealthState::kOk, "");
    processors_.push_back(std::move(slot));
  }
  if (!options_.test) {
    for (const auto& c : config_.outputs) {
      auto plugin = findPlugin(c);
      if (!plugin) continue;
      auto context = makeContext(c);
      auto output = createInstance(c, plugin->descriptor(), plugin->descriptor().create_output,
                                   *context, errors);
      if (!output) continue;
      std::unique_ptr<OutputWorker> worker;
      try {
        worker = std::make_unique<OutputWorker>(
            c, c.output.flush_interval.value_or(config_.agent.flush_interval), plugin,
            std::move(context), std::move(output),
            (std::filesystem::path(state_root_) / "buffers" / c.id).string());
      } catch (const std::exception& e) {  // the disk buffer cannot be opened or is locked
        errors.push_back(fmt::format("{}: {}: cannot start: {}", c.mark.str(), c.id, e.what()));
        continue;
      }
      worker->setReturns(&returns_);
      outputs_.push_back(std::move(worker));
    }
  }
  if (errors.size() != errors_before) return false;

  // Only a pipeline that builds takes the carried buffers: after a failed build the caller still
  // has them for the previous configuration.
  for (auto& worker : outputs_) {
    if (auto it = carried.find(worker->id()); it != carried.end()) {
      observability::agentLog().info("{}: keeping {} buffered metrics across the reload",
                                     worker->id(), it->second.size());
      worker->seed(std::move(it->second));
      carried.erase(it);
    }
  }
  if (!options_.test) {
    for (auto& [id, metrics] : carried) {
      if (metrics.empty()) continue;
      observability::agentLog().warn(
          "output {} is gone from the configuration: {} buffered metrics dropped", id,
          metrics.size());
      for (auto& m : metrics) {
        if (const auto& d = m.delivery()) d->markFailed();
      }
      telemetry_
          .counter("output_metrics_dropped_total", "Metrics an output dropped, by reason",
                   {{"plugin", id}, {"reason", "output_removed"}})
          .Increment(static_cast<double>(metrics.size()));
      metrics.clear();
    }
  }

  for (std::size_t i = 0; i <= processors_.size(); ++i) {
    stages_.push_back(
        std::make_unique<StageEmitter>(*this, i, i == 0 ? nullptr : &processors_[i - 1]->filter));
  }
  pending_.resize(outputs_.size());
  if (options_.test && !options_.test_sink) {
    options_.test_sink = [buffer = std::string()](const Metric& m) mutable {
      buffer.clear();
      codec::appendJson(m, buffer);
      buffer += '\n';
      std::fwrite(buffer.data(), 1, buffer.size(), stdout);
      std::fflush(stdout);
    };
  }
  return true;
}

// ---------------------------------------------------------------- running
void Pipeline::start(bool once) {
  started_ = true;
  for (auto& o : outputs_) o->start();
  last_tick_ = SteadyClock::now();
  chain_thread_ = std::thread([this] { runChain(); });

  for (auto& slot_ptr : inputs_) {
    InputSlot& slot = *slot_ptr;
    if (slot.streaming) {
      try {
        slot.input->start(*slot.emitter);
        slot.started = true;
      } catch (const std::exception& e) {
        slot.errors->Increment();
        slot.context->setHealth(HealthState::kFailed, std::string("start failed: ") + e.what());
        slot.context->logger().error("cannot start: {}", e.what());
      }
      continue;
    }
    {
      std::lock_guard lock(inputs_mu_);
      ++polled_running_;
    }
    slot.started = true;
    slot.thread = std::thread([this, &slot, once] {
      auto next = SteadyClock::now();
      LogRateLimiter limiter;
      while (true) {
        try {
          slot.input->gather(*slot.emitter);
        } catch (const std::exception& e) {
          slot.errors->Increment();
          slot.context->setHealth(HealthState::kDegraded,
                                  std::string("gather failed: ") + e.what());
          limiter.error(slot.context->logger(), "gather failed: {}", e.what());
        }
        if (once) break;
        const auto now = SteadyClock::now();
        while (next <= now) next += slot.interval;
        std::unique_lock lock(inputs_mu_);
        if (inputs_cv_.wait_until(lock, next, [&] { return stopping_inputs_; })) break;
      }
      {
        std::lock_guard lock(inputs_mu_);
        --polled_running_;
      }
      inputs_cv_.notify_all();
    });
  }
  telemetry_.setAgentState("running");
}

void Pipeline::waitInputsDone() {
  std::unique_lock lock(inputs_mu_);
  inputs_cv_.wait(lock, [&] { return polled_running_ == 0; });
}

void Pipeline::dispatch(std::size_t stage, Metric&& metric) {
  while (stage < processors_.size() && !processors_[stage]->filter.accepts(metric)) ++stage;
  if (stage == processors_.size()) {
    fanout(std::move(metric));
    return;
  }
  ProcessorSlot& slot = *processors_[stage];
  ++slot.processed;
  // Kept only for tracked metrics (a null check for the rest): if the processor throws, the
  // metric is lost and its input must hear so.
  DeliveryHandle tracked = metric.delivery() ? metric.delivery() : nullptr;
  try {
    slot.processor->process(std::move(metric), *stages_[stage + 1]);
  } catch (const std::exception& e) {
    if (tracked) tracked->markFailed();
    slot.errors->Increment();
    processor_errors_.error(slot.context->logger(), "failed on a metric, which is lost: {}",
                            e.what());
  }
}

void Pipeline::fanout(Metric&& metric) {
  routed_.fetch_add(1, std::memory_order_relaxed);
  if (options_.test) {
    options_.test_sink(metric);
    // --test writes nothing: a replayable input must not advance past what it only printed.
    if (const auto& d = metric.delivery()) d->markFailed();
    return;
  }
  std::size_t last = outputs_.size();
  for (std::size_t j = 0; j < outputs_.size(); ++j) {
    if (outputs_[j]->filter().accepts(metric)) last = j;
  }
  if (last == outputs_.size()) return;  // no output wants it
  for (std::size_t j = 0; j < last; ++j) {
    if (!outputs_[j]->filter().accepts(metric)) continue;
    Metric copy = metric;
    if (outputs_[j]->filter().decorates()) outputs_[j]->filter().decorate(copy);
    pending_[j].push_back(std::move(copy));
  }
  if (outputs_[last]->filter().decorates()) outputs_[last]->filter().decorate(metric);
  pending_[last].push_back(std::move(metric));
}

void Pipeline::flushFanout() {
  for (std::size_t j = 0; j < outputs_.size(); ++j) {
    if (!pending_[j].empty()) outputs_[j]->push(pending_[j]);
  }
}

void Pipeline::publishCounters() {
  for (auto& slot : inputs_) slot->emitter->publish();
  for (auto& slot : processors_) {
    slot->processed_counter->Increment(static_cast<double>(slot->processed - slot->published));
    slot->published = slot->processed;
  }
  telemetry_.gauge("queue_metrics", "Metrics waiting between inputs and processors", {})
      .Set(static_cast<double>(queue_.size()));
}

void Pipeline::runChain() {
  std::vector<Metric> batch;
  const auto tick_every = std::chrono::seconds(1);
  while (true) {
    const bool open = queue_.popAll(batch, std::chrono::milliseconds(200));
    for (auto& m : batch) dispatch(0, std::move(m));
    flushFanout();
    const auto now = SteadyClock::now();
    if (now - last_tick_ >= tick_every) {
      last_tick_ = now;
      const std::int64_t wall = clock_.nowNanos();
      for (std::size_t i = 0; i < processors_.size(); ++i) {
        try {
          processors_[i]->processor->tick(wall, *stages_[i + 1]);
        } catch (const std::exception& e) {
          processors_[i]->errors->Increment();
          processors_[i]->context->logger().error("tick failed: {}", e.what());
        }
      }
      flushFanout();
      publishCounters();
    }
    if (!open) break;
  }
  // Inputs are stopped and the queue is empty: processors hand over what they hold, in order,
  // so what processor i flushes still goes through processors i+1...
  for (std::size_t i = 0; i < processors_.size(); ++i) {
    try {
      processors_[i]->processor->flush(*stages_[i + 1]);
    } catch (const std::exception& e) {
      processors_[i]->errors->Increment();
      processors_[i]->context->logger().error("flush failed: {}", e.what());
    }
  }
  flushFanout();
  publishCounters();
}

void Pipeline::stopInputs() {
  {
    std::lock_guard lock(inputs_mu_);
    stopping_inputs_ = true;
  }
  inputs_cv_.notify_all();
  for (auto& slot : inputs_) {
    if (!slot->started) continue;
    try {
      slot->input->stop();
    } catch (const std::exception& e) {
      slot->context->logger().warn("stop failed: {}", e.what());
    }
  }
  for (auto& slot : inputs_) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

std::size_t Pipeline::stop(SteadyClock::time_point deadline) {
  if (!started_ || stopped_) return 0;
  stopped_ = true;
  telemetry_.setAgentState("stopping");
  // Before draining the chain: a chain blocked on a full output must not outlast the deadline.
  for (auto& o : outputs_) o->beginShutdown(deadline);
  stopInputs();
  queue_.close();
  if (chain_thread_.joinable()) chain_thread_.join();
  // Outputs drain in parallel, each to the same deadline.
  std::vector<std::future<std::size_t>> drains;
  for (auto& o : outputs_) {
    drains.push_back(
        std::async(std::launch::async, [&o, deadline] { return o->drainAndStop(deadline); }));
  }
  std::size_t left = 0;
  for (auto& d : drains) left += d.get();
  return left;
}

CarriedBuffers Pipeline::stopForReload() {
  CarriedBuffers carried;
  if (!started_ || stopped_) return carried;
  stopped_ = true;
  telemetry_.setAgentState("reloading");
  // Outputs stop first and take whatever the chain still hands them, so a blocked output cannot
  // hold the reload.
  for (auto& o : outputs_) o->requestStop();
  stopInputs();
  queue_.close();
  if (chain_thread_.joinable()) chain_thread_.join();
  for (auto& o : outputs_) carried[o->id()] = o->stopAndTakeBuffer();
  return carried;
}

Pipeline::Stats Pipeline::stats() const {
  Stats s;
  for (const auto& slot : inputs_) {
    s.gathered += slot->emitter->count();
    s.dropped += slot->emitter->lost();
  }
  s.routed = routed_.load();
  for (const auto& o : outputs_) {
    s.written += o->written();
    s.dropped += o->dropped();
  }
  return s;
}

}  // namespace cvagent::runtime

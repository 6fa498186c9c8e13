#pragma once
// A running pipeline: inputs (a thread each for polled inputs; streaming inputs run their own)
// -> bounded queue -> processors in order on one thread -> one buffer and worker per output.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/pipeline_config.h"
#include "cvagent/clock.h"
#include "observability/telemetry.h"
#include "plugins/plugin_registry.h"
#include "runtime/metric_filter.h"
#include "runtime/metric_queue.h"
#include "runtime/metric_returns.h"
#include "runtime/output_worker.h"

namespace cvagent::runtime {

struct RunOptions {
  // --test: no outputs; what would be written goes to `test_sink` (stdout by default).
  bool test = false;
  std::function<void(const Metric&)> test_sink;
};

// Buffered metrics of each output, by output id, carried across a reload.
using CarriedBuffers = std::map<std::string, std::deque<Metric>>;

class Pipeline {
 public:
  Pipeline(config::PipelineConfig config, plugins::PluginRegistry& registry,
           observability::Telemetry& telemetry, const Clock& clock, RunOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Binds options and creates every instance. False with `errors` filled when something is
  // missing or refuses to start; nothing runs then.
  bool build(std::vector<std::string>& errors, CarriedBuffers carried = {});

  // Starts outputs, the processor thread and the inputs. With `once`, each polled input gathers a
  // single time; waitInputsDone() returns when they all have.
  void start(bool once = false);
  void waitInputsDone();
  // Stored batches not yet freed by an input's thread (metric_returns.h).
  std::size_t batchesWaitingToBeFreed() const { return returns_.waitingBatches(); }

  // Graceful stop: inputs stop, the queue drains through the processors, processors flush,
  // outputs write what they hold until `deadline`. Returns metrics left unwritten.
  std::size_t stop(std::chrono::steady_clock::time_point deadline);

  // Stop for a reload: as stop(), but outputs keep their buffers, returned here.
  CarriedBuffers stopForReload();

  struct Stats {
    std::uint64_t gathered = 0;  // metrics inputs emitted (after their filters)
    std::uint64_t routed = 0;    // metrics that left the processor chain
    std::uint64_t written = 0;   // stored by outputs (sum over outputs)
    std::uint64_t dropped = 0;   // dropped by outputs, or emitted by inputs after they stopped
  };
  Stats stats() const;
  std::size_t queued() const { return queue_.size(); }

 private:
  struct InputSlot;
  struct ProcessorSlot;
  class InputEmitter;
  class StageEmitter;

  void stopInputs();
  void runChain();
  void dispatch(std::size_t stage, Metric&& metric);
  void fanout(Metric&& metric);
  void flushFanout();
  void publishCounters();
  std::unique_ptr<observability::InstanceContext> makeContext(
      const config::PluginInstanceConfig& instance);

  config::PipelineConfig config_;
  plugins::PluginRegistry& registry_;
  observability::Telemetry& telemetry_;
  const Clock& clock_;
  RunOptions options_;
  std::string state_root_;

  MetricQueue queue_;
  MetricReturns returns_;  // outlives the inputs and outputs that use it
  std::vector<std::unique_ptr<InputSlot>> inputs_;
  std::vector<std::unique_ptr<ProcessorSlot>> processors_;
  std::vector<std::unique_ptr<StageEmitter>> stages_;  // stages_[i] feeds processor i
  std::vector<std::unique_ptr<OutputWorker>> outputs_;
  std::vector<std::vector<Metric>> pending_;  // per output, filled by fanout

  std::thread chain_thread_;
  std::atomic<std::uint64_t> routed_{0};
  std::chrono::steady_clock::time_point last_tick_{};
  LogRateLimiter processor_errors_;

  std::mutex inputs_mu_;
  std::condition_variable inputs_cv_;
  std::size_t polled_running_ = 0;
  bool stopping_inputs_ = false;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cvagent::runtime

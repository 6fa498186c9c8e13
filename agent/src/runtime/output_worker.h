#pragma once
// One output instance with its own bounded buffer and worker thread: batching by size and by
// interval, retry with exponential backoff and jitter, `when_full: block | drop_oldest`, every drop
// counted. A metric leaves the buffer only when write() says it was stored (or rejected for good).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "config/pipeline_config.h"
#include "cvagent/logger.h"
#include "cvagent/output.h"
#include "observability/telemetry.h"
#include "plugins/plugin_registry.h"
#include "runtime/metric_filter.h"

namespace cvagent::runtime {

// The SDK's back-off: initial * multiplier^attempt, capped at max, less a random jitter fraction.
using RetryPolicy = Backoff;

class OutputWorker {
 public:
  OutputWorker(const config::PluginInstanceConfig& config, std::chrono::milliseconds flush_interval,
               plugins::PluginHandle plugin,
               std::unique_ptr<observability::InstanceContext> context,
               std::unique_ptr<Output> output);
  ~OutputWorker();
  OutputWorker(const OutputWorker&) = delete;
  OutputWorker& operator=(const OutputWorker&) = delete;

  const std::string& id() const { return id_; }
  const MetricFilter& filter() const { return filter_; }

  // Metrics carried over a reload, written before anything new. Call before start().
  void seed(std::deque<Metric>&& metrics);
  void start();

  // From the processor thread: moves `metrics` into the buffer, applying `when_full`.
  void push(std::vector<Metric>& metrics);

  // Writes everything buffered until `deadline`, then closes the output. Returns how many
  // metrics could not be written in time (dropped and counted).
  std::size_t drainAndStop(std::chrono::steady_clock::time_point deadline);

  // Stops after the write in progress and hands back what is buffered (for a reload).
  std::deque<Metric> stopAndTakeBuffer();

  std::size_t buffered() const;
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  enum class Mode { kRunning, kDraining, kStopping };

  void run();
  bool connect(int& attempt);
  void writeBatch(int& attempt, bool& connected);
  // Waits `delay` or until stopped or past the drain deadline; false when it should give up.
  bool backoff(int& attempt);
  void drop(Metric& metric, const char* reason, std::string_view detail);
  bool pastDeadline() const;

  const std::string id_;
  plugins::PluginHandle plugin_;  // keeps the library loaded while output_ lives
  std::unique_ptr<observability::InstanceContext> context_;
  std::unique_ptr<Output> output_;
  MetricFilter filter_;
  const std::size_t batch_size_;
  const std::size_t max_buffer_;
  const bool block_when_full_;
  const std::chrono::milliseconds flush_interval_;
  const RetryPolicy retry_;

  mutable std::mutex mu_;
  std::condition_variable wake_;   // worker: batch ready, stop
  std::condition_variable space_;  // producers: room in the buffer
  std::deque<Metric> buffer_;
  std::atomic<std::size_t> inflight_{0};
  std::vector<Metric> batch_;  // worker thread only
  Mode mode_ = Mode::kRunning;
  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::steady_clock::time_point last_flush_{};
  std::thread thread_;
  std::mt19937_64 rng_;
  LogRateLimiter log_limit_;  // write and connect failures
  LogRateLimiter drop_log_;

  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  prometheus::Counter& written_counter_;
  prometheus::Counter& write_errors_;
  prometheus::Gauge& buffer_gauge_;
  prometheus::Histogram& write_seconds_;
};

}  // namespace cvagent::runtime

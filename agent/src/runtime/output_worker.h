#pragma once
// One output instance with its own bounded buffer and worker thread: batching by size and by
// interval, retry with exponential backoff and jitter, `when_full: block | drop_oldest`, every drop
// counted. A metric leaves the buffer only when write() says it was stored (or rejected for good).
// The buffer is in memory (a deque) or, with `buffer.type: disk`, a DiskBuffer: then the metric's
// delivery is acknowledged to its input once it is on disk, and what is on disk at shutdown stays
// there to be written after the next start.

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
#include "runtime/disk_buffer.h"
#include "runtime/metric_filter.h"

namespace cvagent::runtime {

class RetryPolicy {
 public:
  explicit RetryPolicy(const config::RetryOptions& options) : options_(options) {}
  // The wait before retry number `attempt` (0-based): initial * multiplier^attempt, capped at
  // max, then +/- jitter.
  std::chrono::milliseconds delay(int attempt, std::mt19937_64& rng) const;

 private:
  config::RetryOptions options_;
};

class OutputWorker {
 public:
  OutputWorker(const config::PluginInstanceConfig& config, std::chrono::milliseconds flush_interval,
               plugins::PluginHandle plugin,
               std::unique_ptr<observability::InstanceContext> context,
               std::unique_ptr<Output> output, std::string disk_buffer_dir = {});
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
  // metrics could not be written in time (dropped and counted; a disk buffer keeps them).
  std::size_t drainAndStop(std::chrono::steady_clock::time_point deadline);

  // Stops after the write in progress and hands back what is buffered (for a reload). A disk
  // buffer hands back nothing: it is closed, and the output with the same id opens it again.
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
  void pushToDisk(std::vector<Metric>& metrics);
  std::size_t waiting() const;  // metrics not yet taken into a batch (mu_ held)
  void takeBatch();             // moves up to batch_size_ metrics into batch_ (mu_ held)
  void setHealthy();
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

  std::unique_ptr<DiskBuffer> disk_;
  DiskPosition batch_end_;  // disk: acknowledged once batch_ is stored

  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  prometheus::Counter& written_counter_;
  prometheus::Counter& write_errors_;
  prometheus::Gauge& buffer_gauge_;
  prometheus::Histogram& write_seconds_;
};

}  // namespace cvagent::runtime

#pragma once
// One output instance with its own bounded buffer and worker thread: batching by size and by
// interval, retry with exponential backoff and jitter, `when_full: block | drop_oldest`, every drop
// counted and reported to the metric's input as not delivered. A metric leaves the buffer only
// when write() says it was stored (or rejected for good). A watchdog thread bounds every call into
// the output (`write_timeout`, and the shutdown deadline) through Output::cancel(). The buffer is
// in memory (a deque) or, with `buffer.type: disk`, a DiskBuffer: then the metric's delivery is
// acknowledged to its input once it is on disk, and what is on disk at shutdown stays there to be
// written after the next start. An output that pipelines (Output::batchesInFlight() > 1) gets
// up to that many batches sent before the oldest is confirmed; results are taken oldest first, and
// a batch that needs a retry stops the pipeline until it is stored.

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
#include "runtime/metric_returns.h"

namespace cvagent::runtime {

// The SDK's back-off: initial * multiplier^attempt, capped at max, less a random jitter fraction.
using RetryPolicy = Backoff;

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
  // Where stored batches go to be freed on an input's thread (metric_returns.h); without it the
  // worker frees them. Call before start().
  void setReturns(MetricReturns* returns) { returns_ = returns; }
  void start();

  // From the processor thread: moves `metrics` into the buffer, applying `when_full`.
  void push(std::vector<Metric>& metrics);

  // Shutdown has begun: from `deadline` on, a push no longer waits for room (what does not fit is
  // dropped as "shutdown") and a call into the output still running is cancelled. Call before
  // the processor chain is drained, so a blocked chain cannot hold shutdown past its deadline.
  void beginShutdown(std::chrono::steady_clock::time_point deadline);

  // Writes everything buffered until `deadline`, then closes the output. Returns how many
  // metrics could not be written in time (dropped and counted; a disk buffer keeps them).
  std::size_t drainAndStop(std::chrono::steady_clock::time_point deadline);

  // For a reload: the worker stops after the call in progress and pushes no longer wait (the
  // buffer is handed over whole). Call before the processor chain is drained.
  void requestStop();
  // Stops after the write in progress and hands back what is buffered (for a reload). A disk
  // buffer hands back nothing: it is closed, and the output with the same id opens it again.
  std::deque<Metric> stopAndTakeBuffer();

  std::size_t buffered() const;
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  // Calls cancelled because they outlived write_timeout.
  std::uint64_t timeouts() const { return timeouts_.load(); }

 private:
  enum class Mode { kRunning, kDraining, kStopping };
  // How a watched call into the output ended.
  enum class CallEnd { kReturned, kTimedOut, kCancelledAtShutdown };
  class WatchedCall;

  void run();
  bool connect(int& attempt);
  void writeBatch(int& attempt, bool& connected);
  // Pipelined outputs: sends a due batch while there is room in flight, else collects the oldest
  // result. Called with batch_ empty (a retry goes through writeBatch).
  void pump(int& attempt, bool& connected);
  // Waits for the results of every batch in flight; the metrics to retry join batch_, in order.
  void collectAll(std::string& retry_reason, bool& threw, CallEnd& end);
  // Applies a write's result to `batch`: stored and rejected metrics leave it, those to retry stay
  // in order. Returns how many were stored; `retry_reason` is the first retry's reason.
  std::size_t settle(std::vector<Metric>& batch, const WriteResult& result,
                     std::string& retry_reason);
  // Counters, gauge and waiting pushes after metrics left the worker's hands.
  void afterSettle(std::size_t stored);
  // After a wait that brought nothing: frees the batches given back that no input took.
  void reapWhileIdle(std::unique_lock<std::mutex>& lock);
  // After a write that left metrics to retry in batch_: counts, logs, marks health, backs off.
  void failedWrite(int& attempt, bool& connected, std::string why, bool threw, CallEnd end);
  void updateInflight();
  // The batches still in flight (the worker has stopped) back into batch_, in order.
  void reclaimFlights();
  void closeOutput();
  // Waits `delay` or until stopped or past the drain deadline; false when it should give up.
  bool backoff(int& attempt);
  void drop(Metric& metric, const char* reason, std::string_view detail);
  void pushToDisk(std::vector<Metric>& metrics);
  std::size_t waiting() const;  // metrics not yet taken into a batch (mu_ held)
  void takeBatch();             // moves up to batch_size_ metrics into batch_ (mu_ held)
  bool pastDeadline() const;
  // Buffer handling (mu_ held). full(): no room for one more metric (the window while the output
  // keeps up, buffer.max otherwise). makeRoom(): applies when_full (waits, or drops the oldest).
  bool full() const;
  void makeRoom(std::unique_lock<std::mutex>& lock);
  // /health from what the worker knows: the last failure, recent drops, inputs blocked on a full
  // buffer, a drop_oldest buffer nearly full. Any thread; never with mu_ or call_mu_ held.
  void refreshHealth();

  // The watchdog (its own thread): cancels a call that passes its deadline.
  void watch();
  // `grace`: the least time the call gets even when the shutdown deadline is nearer.
  void beginCall(const char* what, std::chrono::steady_clock::duration grace);
  CallEnd endCall();
  void stopWatchdog();

  const std::string id_;
  plugins::PluginHandle plugin_;  // keeps the library loaded while output_ lives
  std::unique_ptr<observability::InstanceContext> context_;
  std::unique_ptr<Output> output_;
  MetricReturns* returns_ = nullptr;
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
  // Pipelined outputs: batches sent and not collected yet, oldest first (worker thread only).
  struct Flight {
    std::vector<Metric> metrics;
    DiskPosition end;  // disk: acknowledged once this and every earlier batch are stored
    std::chrono::steady_clock::time_point sent;
  };
  const std::size_t depth_;  // batches the output may have in flight (1: no pipelining)
  // With `when_full: block`, what the buffer holds (in flight included) while the output keeps up:
  // the batches in flight and the next one. Holding more would not write faster, only keep more
  // unwritten in memory (lost to a crash). After a failed connect or write the buffer may grow to
  // buffer.max to ride out the outage.
  const std::size_t window_;
  bool failing_ = false;  // the last connect or write failed (mu_)
  std::deque<Flight> flights_;
  std::size_t flight_metrics_ = 0;
  Mode mode_ = Mode::kRunning;
  std::chrono::steady_clock::time_point deadline_{};  // of the drain
  std::chrono::steady_clock::time_point shutdown_deadline_ =
      std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point last_flush_{};
  std::thread thread_;
  std::mt19937_64 rng_;
  LogRateLimiter log_limit_;  // write and connect failures
  LogRateLimiter drop_log_;

  // Watchdog state, under call_mu_ (never taken while holding mu_).
  struct Call {
    const char* what = nullptr;  // "connect", "write", "close"
    bool active = false;
    bool cancelled = false;
    bool at_shutdown = false;  // the deadline is the shutdown deadline, not write_timeout
    std::chrono::steady_clock::time_point deadline{};
  };
  const std::chrono::milliseconds write_timeout_;
  std::mutex call_mu_;
  std::condition_variable call_cv_;
  Call call_;
  std::chrono::steady_clock::time_point stop_deadline_ =
      std::chrono::steady_clock::time_point::max();
  bool watch_stop_ = false;
  std::thread watchdog_;

  // Health inputs. The worker refreshes /health after each call, the watchdog every second (so a
  // hung call or a blocked pipeline shows up while the worker is stuck).
  void setFailure(std::string why);
  std::mutex health_mu_;
  std::string failure_;  // the last connect/write failure; empty after a success
  std::atomic<bool> connected_once_{false};
  std::atomic<std::int64_t> last_drop_ns_{0};      // steady clock, 0: never
  std::atomic<std::int64_t> blocked_since_ns_{0};  // a push waiting for room since, 0: none

  std::unique_ptr<DiskBuffer> disk_;
  DiskPosition batch_end_;  // disk: acknowledged once batch_ is stored
  // The disk buffer's own failure (disk full), set by its listener; a leaf lock.
  std::mutex disk_state_mu_;
  std::string disk_failure_;

  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> timeouts_{0};
  prometheus::Counter& written_counter_;
  prometheus::Counter& write_errors_;
  prometheus::Counter& timeouts_counter_;
  prometheus::Counter& blocked_seconds_;
  prometheus::Gauge& buffer_gauge_;
  prometheus::Histogram& write_seconds_;
};

}  // namespace cvagent::runtime

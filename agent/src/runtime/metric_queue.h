#pragma once
// The bounded queue between inputs (many threads) and the processor chain (one thread). Producers
// wait while it is full: that back-pressure is what keeps memory bounded. The consumer takes
// everything queued at once, so the hot path costs one lock per batch, not per metric.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::runtime {

class MetricQueue {
 public:
  explicit MetricQueue(std::size_t capacity) : capacity_(capacity) {}

  // Waits for room. False once the queue is closed (the metric is not taken).
  bool push(Metric&& metric) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(metric));
    if (items_.size() == 1) not_empty_.notify_one();
    return true;
  }

  // Moves everything queued into `out` (which it clears first), waiting up to `timeout` for the
  // first metric. False when the queue is closed and empty.
  bool popAll(std::vector<Metric>& out, std::chrono::milliseconds timeout) {
    out.clear();
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return !closed_;
    out.swap(items_);
    lock.unlock();
    not_full_.notify_all();
    return true;
  }

  // Inputs are stopped: wake waiting producers, let the consumer drain what is left.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::vector<Metric> items_;
  bool closed_ = false;
};

}  // namespace cvagent::runtime

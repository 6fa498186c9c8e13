#pragma once
// The bounded queue between inputs (many threads) and the processor chain (one thread). Producers
// wait while it is full: that back-pressure is what keeps memory bounded. The consumer takes
// everything queued at once, so the hot path costs one lock per batch, not per metric.
//
// Wake-ups are what a busy stream pays for most (a futex call and a context switch each, several
// times the cost of decoding a trade), so they are rationed: a producer wakes the consumer only
// when it sleeps on an empty queue (the first metric) or when a gathering consumer's batch is full
// (`wake_batch` metrics). A consumer that finds fewer than `wake_batch` metrics lets them gather
// for up to `gather` first. A busy stream thus costs one wake-up per `wake_batch` metrics or per
// `gather`, a quiet one adds at most `gather` of latency to a metric.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::runtime {

class MetricQueue {
 public:
  static constexpr std::size_t kWakeBatch = 512;
  static constexpr std::chrono::microseconds kGather{1000};

  explicit MetricQueue(std::size_t capacity, std::size_t wake_batch = kWakeBatch,
                       std::chrono::microseconds gather = kGather)
      : capacity_(capacity),
        wake_batch_(std::max<std::size_t>(1, std::min(wake_batch, capacity))),
        gather_(gather) {}

  // Waits for room. False once the queue is closed (the metric is not taken).
  bool push(Metric&& metric) {
    std::unique_lock lock(mu_);
    if (items_.size() >= capacity_ && !closed_) {
      ++blocked_producers_;
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      --blocked_producers_;
    }
    if (closed_) return false;
    items_.push_back(std::move(metric));
    const std::size_t n = items_.size();
    const bool wake = (consumer_ == Consumer::kIdle && n == 1) ||
                      (consumer_ == Consumer::kGathering && n == wake_batch_);
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  // Moves everything queued into `out` (which it clears first), waiting up to `timeout` for the
  // first metric and then up to `gather` for a batch of `wake_batch`. False when the queue is
  // closed and empty.
  bool popAll(std::vector<Metric>& out, std::chrono::milliseconds timeout) {
    out.clear();
    std::unique_lock lock(mu_);
    if (items_.empty() && !closed_) {
      consumer_ = Consumer::kIdle;
      not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    }
    if (!items_.empty() && items_.size() < wake_batch_ && !closed_ && gather_.count() > 0) {
      consumer_ = Consumer::kGathering;
      not_empty_.wait_for(lock, gather_, [&] { return closed_ || items_.size() >= wake_batch_; });
    }
    consumer_ = Consumer::kBusy;
    if (items_.empty()) return !closed_;
    out.swap(items_);
    const bool blocked = blocked_producers_ > 0;
    lock.unlock();
    if (blocked) not_full_.notify_all();
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
  // What the consumer is doing, so producers know when a wake-up is wanted.
  enum class Consumer { kBusy, kIdle, kGathering };

  const std::size_t capacity_;
  const std::size_t wake_batch_;
  const std::chrono::microseconds gather_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::vector<Metric> items_;
  Consumer consumer_ = Consumer::kBusy;
  std::size_t blocked_producers_ = 0;
  bool closed_ = false;
};

}  // namespace cvagent::runtime

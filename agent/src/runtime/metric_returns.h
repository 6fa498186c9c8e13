#pragma once
// Stored metrics go back to be freed on an input's thread.
//
// glibc gives each thread a heap of its own (an arena). A metric is allocated on its input's
// thread; freed on an output worker's, every free took the input arena's lock while the input
// was allocating from it, and under load the output worker slept on that lock about once per
// batch of a few hundred metrics (perf: 1,714 of its 2,232 sleeps in one kraken -> kafka run).
// Freed on the input's thread, the memory goes into that thread's own cache (tcache) and comes
// straight back for its next metric, with no lock at all.
//
// An output worker gives a settled batch whose delivery handles it has already released, so no
// input's callback runs late or on another thread than before. The next emit of any input frees
// what waits. At most kMaxBatches batches wait: past that, and whenever a worker goes idle, the
// worker frees them itself, so a stream that stops leaves nothing held.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::runtime {

class MetricReturns {
 public:
  static constexpr std::size_t kMaxBatches = 2;

  // An output worker: `batch` is stored, its delivery handles released.
  void give(std::vector<Metric>&& batch) {
    std::vector<Metric> oldest;  // freed here, outside the lock, when too many wait
    {
      std::lock_guard lock(mu_);
      if (waiting_.size() >= kMaxBatches) {
        oldest = std::move(waiting_.front());
        waiting_.erase(waiting_.begin());
      }
      waiting_.push_back(std::move(batch));
      pending_.store(true, std::memory_order_release);
    }
  }

  // Any thread (an input's on every emit, a worker going idle): frees what waits. Costs one
  // relaxed load when nothing does.
  void reap() {
    if (!pending_.load(std::memory_order_acquire)) return;
    std::vector<std::vector<Metric>> taken;
    {
      std::lock_guard lock(mu_);
      taken.swap(waiting_);
      pending_.store(false, std::memory_order_relaxed);
    }
  }

  std::size_t waitingBatches() const {
    std::lock_guard lock(mu_);
    return waiting_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<Metric>> waiting_;
  std::atomic<bool> pending_{false};
};

}  // namespace cvagent::runtime

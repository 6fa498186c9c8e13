#pragma once

#include <mutex>
#include <vector>

#include "cvagent/emitter.h"

namespace cvagent::testing {

// Collects everything emitted; thread-safe so streaming inputs can be tested too.
class CapturingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    std::lock_guard lock(mu_);
    metrics_.push_back(std::move(metric));
  }
  std::vector<Metric> take() {
    std::lock_guard lock(mu_);
    return std::exchange(metrics_, {});
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return metrics_.size();
  }
  // A copy, safe while an input is still emitting.
  std::vector<Metric> snapshot() const {
    std::lock_guard lock(mu_);
    return metrics_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Metric> metrics_;
};

}  // namespace cvagent::testing

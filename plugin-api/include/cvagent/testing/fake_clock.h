#pragma once

#include <atomic>
#include <cstdint>

#include "cvagent/clock.h"

namespace cvagent::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ns = 1'795'962'600'000'000'000) : now_(start_ns) {}
  std::int64_t nowNanos() const override { return now_.load(); }
  void set(std::int64_t ns) { now_.store(ns); }
  void advance(std::int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace cvagent::testing

#pragma once
// Wall-clock time for plugins, injectable so tests never depend on wall-clock luck
// (see cvagent/testing/fake_clock.h).

#include <chrono>
#include <cstdint>

namespace cvagent {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch, UTC.
  virtual std::int64_t nowNanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t nowNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace cvagent

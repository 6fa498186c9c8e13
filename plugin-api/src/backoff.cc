#include "cvagent/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cvagent {

std::chrono::milliseconds Backoff::delay(int attempt, std::mt19937_64& rng) const {
  const double initial = static_cast<double>(options_.initial.count());
  const double cap = static_cast<double>(options_.max.count());
  double ms = std::min(cap, initial * std::pow(options_.multiplier, std::min(attempt, 64)));
  if (options_.jitter > 0) {
    // Only ever shorter: `max` stays the longest wait.
    std::uniform_real_distribution<double> spread(0.0, options_.jitter);
    ms *= 1.0 - spread(rng);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, ms)));
}

}  // namespace cvagent

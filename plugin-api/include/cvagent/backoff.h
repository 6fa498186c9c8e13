#pragma once
// The core's retry back-off, for plugins that wait between attempts of their own (an input
// reconnecting): the wait before attempt n is initial * multiplier^n, capped at max, then shortened
// by a random fraction up to jitter, so many agents restarting together do not retry in step and
// no wait is longer than max. The core retries outputs
// with the same code and the same option names (`retry: {initial, max, multiplier, jitter}`).
//
//   struct ReconnectOptions : cvagent::BackoffOptions {
//     ReconnectOptions() { initial = std::chrono::seconds(1); }  // this plugin's defaults
//     static void describe(cvagent::Schema<ReconnectOptions>& s) {
//       cvagent::describeBackoff(s, "a lost connection");
//     }
//   };

#include <chrono>
#include <random>
#include <string>
#include <string_view>

#include "cvagent/options.h"

namespace cvagent {

struct BackoffOptions {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2.0;
  double jitter = 0.2;
};

// Declares initial, max, multiplier and jitter on a struct derived from BackoffOptions; `after`
// completes "First wait after ...".
template <typename T>
void describeBackoff(Schema<T>& s, std::string_view after) {
  s.option("initial", &BackoffOptions::initial, "First wait after " + std::string(after) + ".")
      .min(0);
  s.option("max", &BackoffOptions::max, "Longest wait between retries.").min(0);
  s.option("multiplier", &BackoffOptions::multiplier, "Growth of the wait after each failure.")
      .min(1);
  s.option("jitter", &BackoffOptions::jitter,
           "Up to this fraction of the wait is removed at random, so agents don't retry in "
           "step (the wait never exceeds max).")
      .min(0)
      .max(1);
}

class Backoff {
 public:
  explicit Backoff(const BackoffOptions& options) : options_(options) {}
  // The wait before retry number `attempt` (0-based).
  std::chrono::milliseconds delay(int attempt, std::mt19937_64& rng) const;

 private:
  BackoffOptions options_;
};

}  // namespace cvagent

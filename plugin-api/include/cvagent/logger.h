#pragma once
// The logger a plugin writes through. The core owns formatting (text or JSON), the plugin id on
// every line and where lines go; a plugin only says what happened.

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace cvagent {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const = 0;
  virtual void write(LogLevel level, std::string_view message) = 0;

  template <typename... Args>
  void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void trace(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kTrace, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kDebug, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kInfo, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kWarn, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::kError, f, std::forward<Args>(a)...);
  }
};

// Lets through `burst` messages per `period` and counts the rest, so a flood of bad frames gives a
// few lines and a count rather than a full disk. The next line let through says how many were held
// back, always in the same words: "... (N similar messages suppressed)". Thread-safe.
//
//   LogRateLimiter bad_frames_;
//   bad_frames_.warn(context.logger(), "malformed frame: {}", why);
class LogRateLimiter {
 public:
  explicit LogRateLimiter(std::chrono::steady_clock::duration period = std::chrono::seconds(10),
                          std::uint32_t burst = 5)
      : period_(period), burst_(burst) {}

  template <typename... Args>
  void log(Logger& logger, LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (!logger.enabled(level)) return;
    std::uint64_t suppressed = 0;
    if (!allow(suppressed)) return;
    std::string message = fmt::format(format, std::forward<Args>(args)...);
    if (suppressed > 0) {
      fmt::format_to(std::back_inserter(message), " ({} similar messages suppressed)", suppressed);
    }
    logger.write(level, message);
  }
  template <typename... Args>
  void info(Logger& logger, fmt::format_string<Args...> f, Args&&... a) {
    log(logger, LogLevel::kInfo, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void warn(Logger& logger, fmt::format_string<Args...> f, Args&&... a) {
    log(logger, LogLevel::kWarn, f, std::forward<Args>(a)...);
  }
  template <typename... Args>
  void error(Logger& logger, fmt::format_string<Args...> f, Args&&... a) {
    log(logger, LogLevel::kError, f, std::forward<Args>(a)...);
  }

 private:
  // True when this message should be logged; `suppressed` then holds how many were held back since
  // the previous one that was logged.
  bool allow(std::uint64_t& suppressed) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= period_) {
      window_start_ = now;
      used_ = 0;
    }
    if (used_ < burst_) {
      ++used_;
      suppressed = suppressed_;
      suppressed_ = 0;
      return true;
    }
    ++suppressed_;
    return false;
  }

  std::mutex mu_;
  std::chrono::steady_clock::duration period_;
  std::uint32_t burst_;
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t used_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace cvagent

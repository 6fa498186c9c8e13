#pragma once
// The agent's log: one line per event, with the plugin id, as text or JSON, through spdlog.

#include <memory>
#include <string>
#include <string_view>

#include "cvagent/logger.h"

namespace spdlog {
class logger;
}

namespace cvagent::observability {

enum class LogFormat { kText, kJson };

bool parseLogLevel(std::string_view text, LogLevel& out);

// Configures the process-wide log (stderr). Safe to call again (reload, CLI overrides).
void configureLogging(LogLevel level, LogFormat format);
LogLevel currentLogLevel();

// Writes one event. `source` is the plugin id or "agent".
void logLine(LogLevel level, std::string_view source, std::string_view message);

// A Logger bound to one source, handed to plugins through their context.
class SourceLogger final : public Logger {
 public:
  explicit SourceLogger(std::string source) : source_(std::move(source)) {}
  bool enabled(LogLevel level) const override;
  void write(LogLevel level, std::string_view message) override;

 private:
  std::string source_;
};

// The agent's own logger.
Logger& agentLog();

}  // namespace cvagent::observability

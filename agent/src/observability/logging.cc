#include "observability/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "cvagent/codec.h"
#include "cvagent/time_util.h"

namespace cvagent::observability {

namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::logger& sink() {
  // Lines are formatted here (text or JSON), spdlog only writes them, thread-safely.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("cvagent",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

std::int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool parseLogLevel(std::string_view text, LogLevel& out) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"trace", LogLevel::kTrace},       {"debug", LogLevel::kDebug},  {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},         {"warning", LogLevel::kWarn}, {"error", LogLevel::kError},
      {"critical", LogLevel::kCritical}, {"off", LogLevel::kOff}};
  for (const auto& [name, level] : kLevels) {
    if (text == name) {
      out = level;
      return true;
    }
  }
  return false;
}

void configureLogging(LogLevel level, LogFormat format) {
  g_level.store(level);
  g_format.store(format);
}

LogLevel currentLogLevel() { return g_level.load(); }

void logLine(LogLevel level, std::string_view source, std::string_view message) {
  if (level < g_level.load() || level == LogLevel::kOff) return;
  std::string line;
  const std::string time = formatRfc3339(nowNanos(), 6);
  if (g_format.load() == LogFormat::kJson) {
    line = "{\"time\":\"" + time + "\",\"level\":\"" + levelName(level) + "\",\"plugin\":";
    codec::appendJsonString(source, line);
    line += ",\"msg\":";
    codec::appendJsonString(message, line);
    line += '}';
  } else {
    line.reserve(time.size() + source.size() + message.size() + 16);
    line += time;
    line += ' ';
    line += levelName(level);
    line += " [";
    line += source;
    line += "] ";
    // One event, one line: embedded newlines would split it.
    for (char c : message) line += (c == '\n' ? ' ' : c);
  }
  sink().log(spdlog::level::info, line);
}

bool SourceLogger::enabled(LogLevel level) const {
  return level >= g_level.load() && level != LogLevel::kOff;
}

void SourceLogger::write(LogLevel level, std::string_view message) {
  logLine(level, source_, message);
}

Logger& agentLog() {
  static SourceLogger logger("agent");
  return logger;
}

}  // namespace cvagent::observability

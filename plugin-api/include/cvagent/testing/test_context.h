#pragma once
// A PluginContext for unit tests of plugins: records log lines, counters, gauges and health.

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cvagent/plugin_context.h"
#include "cvagent/testing/fake_clock.h"

namespace cvagent::testing {

class TestLogger final : public Logger {
 public:
  struct Line {
    LogLevel level;
    std::string message;
  };
  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel level, std::string_view message) override {
    std::lock_guard lock(mu_);
    lines_.push_back({level, std::string(message)});
  }
  std::vector<Line> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // True when some line at `level` or above contains `text`.
  bool contains(std::string_view text, LogLevel level = LogLevel::kTrace) const {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_) {
      if (l.level >= level && l.message.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Line> lines_;
};

class TestContext final : public PluginContext {
 public:
  explicit TestContext(std::string id = "test", std::string state_dir = {})
      : id_(std::move(id)), state_dir_(std::move(state_dir)) {}
  ~TestContext() override {
    std::error_code ignored;
    if (owns_state_dir_) std::filesystem::remove_all(state_dir_, ignored);
  }
  TestContext(const TestContext&) = delete;
  TestContext& operator=(const TestContext&) = delete;

  const std::string& id() const override { return id_; }
  TestLogger& logger() override { return logger_; }
  const Clock& clock() const override { return clock_; }
  FakeClock& fakeClock() { return clock_; }

  Counter& counter(std::string_view name, std::string_view) override {
    std::lock_guard lock(mu_);
    auto& slot = counters_[std::string(name)];
    if (!slot) slot = std::make_unique<Value>();
    return *slot;
  }
  Gauge& gauge(std::string_view name, std::string_view) override {
    std::lock_guard lock(mu_);
    auto& slot = gauges_[std::string(name)];
    if (!slot) slot = std::make_unique<Value>();
    return *slot;
  }
  double counterValue(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = counters_.find(std::string(name));
    return it == counters_.end() ? 0.0 : it->second->value.load();
  }
  double gaugeValue(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = gauges_.find(std::string(name));
    return it == gauges_.end() ? 0.0 : it->second->value.load();
  }

  void setHealth(HealthState state, std::string_view detail) override {
    std::lock_guard lock(mu_);
    health_ = state;
    health_detail_ = std::string(detail);
  }
  HealthState health() const {
    std::lock_guard lock(mu_);
    return health_;
  }
  std::string healthDetail() const {
    std::lock_guard lock(mu_);
    return health_detail_;
  }

  // A fresh directory per context (removed with it) unless one was given: state must never leak
  // from one test, or one run, into another.
  std::string stateDir() override {
    if (state_dir_.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "cvagent-test-state.XXXXXX").string();
      if (::mkdtemp(pattern.data())) {
        state_dir_ = pattern;
        owns_state_dir_ = true;
      }
    }
    std::filesystem::create_directories(state_dir_);
    return state_dir_;
  }
  std::string_view agentVersion() const override { return "test"; }

 private:
  struct Value final : Counter, Gauge {
    std::atomic<double> value{0};
    void inc(double v) override {
      double cur = value.load();
      while (!value.compare_exchange_weak(cur, cur + v)) {
      }
    }
    void set(double v) override { value.store(v); }
  };

  std::string id_;
  std::string state_dir_;
  bool owns_state_dir_ = false;
  TestLogger logger_;
  FakeClock clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Value>> counters_;
  std::map<std::string, std::unique_ptr<Value>> gauges_;
  HealthState health_ = HealthState::kStarting;
  std::string health_detail_;
};

}  // namespace cvagent::testing

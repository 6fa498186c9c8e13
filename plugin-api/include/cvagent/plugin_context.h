#pragma once

#include <string>
#include <string_view>

#include "cvagent/clock.h"
#include "cvagent/logger.h"
#include "cvagent/state_file.h"

namespace cvagent {

// A counter or gauge in the agent's own metrics (/metrics), labelled with the plugin instance.
class Counter {
 public:
  virtual ~Counter() = default;
  virtual void inc(double value = 1.0) = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void set(double value) = 0;
};

enum class HealthState {
  kStarting,  // not yet connected or gathered
  kOk,        // working
  kDegraded,  // working with problems (reconnecting, some feeds failing): still healthy
  kFailed,    // cannot work until reconfigured: /health answers 503 (a restart is warranted)
};

// What the core gives each plugin instance. It outlives the instance.
class PluginContext {
 public:
  virtual ~PluginContext() = default;

  // The instance id: the `id` option, or the plugin's full name (`inputs.kraken`).
  virtual const std::string& id() const = 0;
  virtual Logger& logger() = 0;
  virtual const Clock& clock() const = 0;

  // Exported as cvagent_<name>{plugin="<id>"}; the same name returns the same counter.
  // `name` is snake_case and ends in _total for counters.
  virtual Counter& counter(std::string_view name, std::string_view help) = 0;
  virtual Gauge& gauge(std::string_view name, std::string_view help) = 0;

  // Shown on /health. `detail` is the last error or a short status.
  virtual void setHealth(HealthState state, std::string_view detail = {}) = 0;

  // A directory this instance may keep state in (dedup state, offsets); created on demand.
  virtual std::string stateDir() = 0;

  // A state file named `name` in stateDir(), saved atomically and durably (see state_file.h).
  StateFile stateFile(std::string_view name) {
    return StateFile(stateDir() + "/" + std::string(name));
  }

  virtual std::string_view agentVersion() const = 0;
};

}  // namespace cvagent

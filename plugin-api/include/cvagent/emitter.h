#pragma once

#include "cvagent/metric.h"

namespace cvagent {

// Where a plugin sends the metrics it produces. The core's emitters are thread-safe for inputs
// (a streaming input may emit from its own threads) and may block when the pipeline is full: that
// is the back-pressure that keeps memory bounded.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void emit(Metric&& metric) = 0;
};

}  // namespace cvagent

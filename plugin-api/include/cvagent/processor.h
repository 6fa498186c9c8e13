#pragma once

#include <cstdint>

#include "cvagent/emitter.h"

namespace cvagent {

// A processor transforms the stream, in the order the pipeline lists processors. All calls come
// from the core's one processor thread, so a processor needs no locking of its own.
class Processor {
 public:
  virtual ~Processor() = default;

  // 0..n metrics out for each metric in (pass it on with out.emit(std::move(metric))).
  virtual void process(Metric&& metric, Emitter& out) = 0;

  // Called about once a second with the wall-clock time, for time-driven work (windows closing).
  virtual void tick(std::int64_t now_ns, Emitter& out) {
    (void)now_ns;
    (void)out;
  }

  // Called once on shutdown or reload: emit whatever is held (open windows).
  virtual void flush(Emitter& out) { (void)out; }
};

}  // namespace cvagent

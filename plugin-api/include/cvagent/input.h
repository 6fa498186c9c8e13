#pragma once

#include "cvagent/emitter.h"

namespace cvagent {

// An input produces metrics. Two shapes:
// - polled (the default): the core calls gather() every `interval` from a thread of its own;
// - streaming (isStreaming() true): start() returns quickly, the input runs its own I/O and emits
//   until stop() returns. Kraken's WebSocket is a stream; an RSS feed is polled.
class Input {
 public:
  virtual ~Input() = default;

  virtual bool isStreaming() const { return false; }

  // Polled inputs: one collection. Errors are thrown (std::exception); the core logs and counts
  // them and calls again at the next interval.
  virtual void gather(Emitter& out) { (void)out; }

  // Streaming inputs: `out` stays valid until stop() returns.
  virtual void start(Emitter& out) { (void)out; }

  // Stops a stream, or interrupts a long gather(). Must be safe to call from another thread.
  virtual void stop() {}
};

}  // namespace cvagent

#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent {

enum class WriteStatus {
  kOk,      // stored: the metrics leave the buffer
  kRetry,   // not stored, may work later (network, server down): kept and retried with backoff
  kReject,  // never storable (too large, refused by schema): dropped, counted and logged
};

// The answer of Output::write for a batch: one status for the batch, and optionally a different
// one for single metrics (a row the database refused while the rest of the batch was stored).
class WriteResult {
 public:
  struct Exception {
    std::size_t index;  // position in the batch passed to write()
    WriteStatus status;
    std::string reason;
  };

  static WriteResult ok() { return WriteResult(WriteStatus::kOk, {}); }
  static WriteResult retry(std::string reason) {
    return WriteResult(WriteStatus::kRetry, std::move(reason));
  }
  static WriteResult reject(std::string reason) {
    return WriteResult(WriteStatus::kReject, std::move(reason));
  }

  // Overrides the batch status for the metric at `index`.
  WriteResult& set(std::size_t index, WriteStatus status, std::string reason) {
    exceptions_.push_back({index, status, std::move(reason)});
    return *this;
  }

  WriteStatus status() const { return status_; }
  const std::string& reason() const { return reason_; }
  const std::vector<Exception>& exceptions() const { return exceptions_; }

 private:
  WriteResult(WriteStatus status, std::string reason)
      : status_(status), reason_(std::move(reason)) {}
  WriteStatus status_;
  std::string reason_;
  std::vector<Exception> exceptions_;
};

// An output stores batches. It never loops, sleeps or retries by itself: the core owns the buffer,
// batching, retry with backoff and shutdown; the output does the one write.
class Output {
 public:
  virtual ~Output() = default;

  // Opens connections. Throw on failure: the core retries with backoff.
  virtual void connect() {}

  virtual WriteResult write(std::span<const Metric> batch) = 0;

  // Optional pipelining, for stores that confirm a batch well after taking it (Kafka's delivery
  // reports): waiting for each batch's confirmation before sending the next caps the rate at one
  // batch per round trip. With batchesInFlight() > 1 the core hands over up to that many batches
  // with send() before it collects the oldest one's result with collect(); a metric still leaves
  // the buffer only on its own result. write() is then used only for a retry, with nothing in
  // flight.
  virtual std::size_t batchesInFlight() const { return 1; }
  // Starts storing `batch` and returns without waiting. The metrics stay valid and unchanged until
  // collect() has returned this batch's result. Throwing means the batch was not taken.
  virtual void send(std::span<const Metric> batch) { (void)batch; }
  // The result of the oldest batch sent and not collected yet, waiting up to `wait` for it;
  // nullopt while it is incomplete. Each batch must complete in bounded time (its result then
  // says retry for what was not confirmed).
  virtual std::optional<WriteResult> collect(std::chrono::milliseconds wait) {
    (void)wait;
    return WriteResult::retry("this output does not pipeline");
  }

  virtual void close() {}

  // Optional: makes a connect(), write() or close() in progress on the worker thread return at
  // once (throw or answer retry). The core calls it from another thread when a call outlives the
  // output's `write_timeout` or the shutdown deadline, possibly just after the call returned, so
  // it must be thread-safe and must not free what the running call uses (shut the socket down
  // rather than closing it). The next attempt may reconnect. The default does nothing: the core
  // then only counts the timeout and waits for the call to end.
  virtual void cancel() {}

  // Optional: outputs that own a database schema apply it here (`cvagent schema apply`).
  // Returns false when the output has no schema. Throws on failure.
  virtual bool applySchema() { return false; }
};

}  // namespace cvagent

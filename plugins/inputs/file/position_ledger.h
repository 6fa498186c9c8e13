#pragma once
// Where inputs.file is: which file (device, inode, fingerprint) and how far, and the ledger that
// keeps the saved position at the end of what every output stored.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cvagent/metric.h"
#include "cvagent/state_file.h"

namespace cvagent::inputs::file {

// Which file: device and inode, and a hash of its first line (at most kFingerprintBytes), which
// tells a reused inode or a truncated-and-rewritten file from the one we read, and finds a
// copytruncate copy. fingerprint_bytes is 0 while the file has no complete first line.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint32_t fingerprint_bytes = 0;
  std::uint64_t fingerprint = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

inline constexpr std::uint32_t kFingerprintBytes = 256;

struct FilePosition {
  FileIdentity file;
  std::int64_t offset = 0;  // just after the last whole line read

  std::string encode() const;
  // Also reads the format before device and fingerprint were kept ("<inode> <offset>").
  static std::optional<FilePosition> decode(std::string_view text);
  friend bool operator==(const FilePosition&, const FilePosition&) = default;
};

// Tracks what was read, in chunks, until every output stored it; keeps the saved position at the
// end of the delivered prefix. Shared with the delivery callbacks, which run on output threads and
// may outlive the input.
class DeliveryLedger : public std::enable_shared_from_this<DeliveryLedger> {
 public:
  explicit DeliveryLedger(std::optional<StateFile> state) : state_(std::move(state)) {}
  ~DeliveryLedger();

  // Forgets every chunk (their callbacks become no-ops): reading restarts at `position`.
  void reset(const FilePosition& position);
  // Starts a chunk: its metrics carry the handle, and it settles when every copy is released. The
  // reader keeps one reference until close() gave the chunk its end, so it cannot settle before.
  DeliveryHandle open();
  void close(const FilePosition& end, std::uint64_t metrics);

  // Waits until fewer than `limit` metrics are in flight. False, at once, when a delivery failed
  // (reading on would only be read again) or when `stopping` is set.
  bool waitForRoom(std::uint64_t limit, const std::atomic<bool>& stopping);

  // After a failed delivery (or whenever, with `even_without_failure`), once nothing is in flight:
  // the first undelivered position, and the ledger is reset to it. nullopt otherwise.
  struct Rewind {
    FilePosition position;
    bool after_failure = false;
  };
  std::optional<Rewind> takeRewind(bool even_without_failure = false);
  // True while a failure waits for in-flight chunks to settle: reading more would only be read
  // again.
  bool waitingToRewind() const;

  // Saves the delivered position if it moved (at most every second unless `force`); throws what
  // the state file throws. A save that failed in a delivery callback is rethrown here.
  void saveNow(bool force = false);

 private:
  enum class State { kPending, kDelivered, kFailed };
  struct Chunk {
    FilePosition end;
    bool closed = false;  // has its end: a chunk the reader never finished blocks the prefix
    State state = State::kPending;
    std::uint64_t metrics = 0;
  };
  void settle(std::uint64_t epoch, std::uint64_t seq, bool delivered);
  void saveLocked();

  mutable std::mutex mu_;
  std::condition_variable settled_;
  std::uint64_t in_flight_metrics_ = 0;
  std::optional<StateFile> state_;
  std::deque<Chunk> chunks_;
  std::uint64_t first_seq_ = 0;  // sequence number of chunks_.front()
  std::uint64_t epoch_ = 0;      // bumped by reset(): older callbacks are ignored
  FilePosition delivered_;
  bool failed_ = false;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_save_{};
  std::string save_error_;
};

// Hash of the first `bytes` bytes of the open file; nullopt when it is shorter.
std::optional<std::uint64_t> fingerprintOf(int fd, std::uint32_t bytes);

// Sets id's fingerprint from the open file's first line, when it has a complete one.
void takeFingerprint(int fd, FileIdentity& id);
// Same device and inode (when `want` knows the device) and, when `want` has a fingerprint, the same
// first bytes in the open file.
bool sameFile(int fd, const FileIdentity& have, const FileIdentity& want);

}  // namespace cvagent::inputs::file

#pragma once
// An output's buffer on disk: append-only segment files of length-prefixed, CRC32C-checksummed
// metric records, an acknowledged position persisted atomically, whole segments deleted once
// every record in them is acknowledged. What is on disk survives a process kill (and, per the sync
// policy, a power cut) and is replayed at the next start.
//
// Directory layout:
//   lock                           flock()ed while an agent uses the directory
//   ack                            the acknowledged position (segment, offset), crc-protected
//   segment-<20-digit seq>.cvb     16-byte header ("cvagbuf\n", u32 version, u32 crc), records
// Record: u32 payload length | u32 crc32c(length bytes + payload) | payload (see metric_record.h);
// integers little-endian.
//
// Memory stays bounded: the reader keeps one chunk of one segment (kReadChunk) in memory; the
// rest is on disk.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/metric.h"

namespace cvagent::runtime {

enum class DiskSync {
  kAlways,    // fdatasync after every record
  kBatch,     // one write and one fdatasync per append() call
  kInterval,  // one write per append() call; fdatasync every sync_interval
};

struct DiskBufferOptions {
  std::string directory;
  std::uint64_t max_bytes = 1ull << 30;
  bool block_when_full = true;
  DiskSync sync = DiskSync::kInterval;
  std::chrono::milliseconds sync_interval{1000};
  std::uint64_t segment_bytes = 0;  // 0: max_bytes / 8, between 1 MiB and 128 MiB
};

// A place in the buffer: the byte offset in a segment file (the start of a record, or its end).
struct DiskPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  friend auto operator<=>(const DiskPosition&, const DiskPosition&) = default;
};

// Another process (or instance) holds the directory's lock.
class DiskBufferLocked : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DiskBuffer {
 public:
  // What the buffer reports to its owner; called with the buffer's lock held, so they must not
  // call back into it.
  struct Listener {
    // Records on disk dropped (reason "buffer_full": drop_oldest made room).
    std::function<void(std::uint64_t count, const char* reason)> dropped;
    // Writing to the disk failed (ENOSPC, EFBIG, EIO...) or works again (`failing` false).
    std::function<void(bool failing, const std::string& detail)> disk_state;
    // A damaged region (torn tail, flipped bytes, garbage) was skipped; already logged.
    std::function<void()> damaged;
  };

  // Creates the directory, takes its lock (DiskBufferLocked when another agent has it), scans the
  // segments (damage is counted and logged) and resumes after the acknowledged position. Throws
  // std::runtime_error when the directory cannot be used.
  DiskBuffer(DiskBufferOptions options, Logger& logger, Listener listener = {});
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  // Writes `metrics` in order, durable as the sync policy says when it returns. Returns how many
  // from the front were written; the rest were not (the buffer is closing while blocked on a full
  // buffer, or the disk is full and when_full is drop_oldest with nothing left to drop).
  std::size_t append(std::span<const Metric> metrics);

  // Reads up to `max` records not yet read into `out` (appended). `end` receives the position
  // just after the last record read, to acknowledge once they are stored. Returns how many.
  std::size_t read(std::vector<Metric>& out, std::size_t max, DiskPosition& end);

  // Everything before `end` is stored: persists the position (per the sync policy) and deletes
  // fully acknowledged segments.
  void acknowledge(DiskPosition end);

  // Wakes and fails blocked append() calls; used before the owner stops.
  void interrupt();

  std::uint64_t unread() const;     // records appended (or recovered) and not read yet
  std::uint64_t diskBytes() const;  // bytes of all segment files
  std::uint64_t damaged() const;    // damaged regions skipped (recovery and reads)
  bool diskFailing() const;         // the last write failed (disk full...)
  const std::string& directory() const { return options_.directory; }

  // Syncs data and the acknowledged position now (the interval thread does it periodically).
  void sync();

 private:
  struct Segment;
  struct File;
  class Scanner;
  struct Reader;

  void openLock();
  void openReader(std::uint64_t seq, std::uint64_t offset);
  void recover();
  void loadAck();
  void persistAck(bool force_sync);
  void openWriteSegment();
  bool writeRecords(std::size_t records);
  bool dropOldestSegment();
  void deleteAcknowledgedSegments();
  std::string segmentPath(std::uint64_t seq) const;
  void syncLoop();
  void reportDamage(const std::string& file, std::uint64_t offset, std::uint64_t bytes,
                    const std::string& why);

  DiskBufferOptions options_;
  Logger& logger_;
  Listener listener_;
  int lock_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable space_;  // appenders blocked on a full buffer or disk
  std::condition_variable sync_wake_;
  std::deque<std::unique_ptr<Segment>> segments_;  // oldest first; back() is written to
  std::shared_ptr<File> write_file_;
  std::unique_ptr<Reader> reader_;
  DiskPosition ack_;
  DiskPosition ack_persisted_;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t unread_ = 0;
  std::uint64_t damaged_ = 0;
  bool data_dirty_ = false;
  bool interrupted_ = false;
  bool closing_ = false;
  bool disk_failing_ = false;
  std::string scratch_;  // encoded records of one write
  std::uint64_t last_seq_ = 0;
  LogRateLimiter damage_log_;

  std::mutex ack_file_mu_;
  std::thread sync_thread_;
};

}  // namespace cvagent::runtime

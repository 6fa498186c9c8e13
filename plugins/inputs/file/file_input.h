#pragma once
// inputs.file: reads metrics from a file of JSON lines or Influx line protocol, either following it
// as it grows (tail) or reading it whole at every gather. The reference input.
//
// Tail mode delivers at least once, across rotations and restarts (docs/design-notes.md):
// - what was read is tracked in chunks; the saved position is the end of the longest prefix of
//   chunks every output stored, never past a metric that was dropped or rejected;
// - after a failed delivery the input stops reading, waits for what is in flight to settle, and
//   reads again from the first undelivered position (duplicates, never loss);
// - a file is known by device + inode + a fingerprint of its first line; on rename rotation the old
//   file is read to its end first, on copytruncate the rotated copy is found by its fingerprint and
//   read from where reading stopped.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cvagent/codec.h"
#include "cvagent/input.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "position_ledger.h"

namespace cvagent::inputs::file {

struct FileInputOptions {
  std::string path;
  codec::Format format = codec::Format::kJson;
  bool tail = true;
  bool from_beginning = true;
  bool remember_position = true;
  std::int64_t max_line_bytes = 1 << 20;
  std::int64_t max_undelivered = 10'000;

  static void describe(Schema<FileInputOptions>& s);
};

class FileInput final : public Input {
 public:
  FileInput(const FileInputOptions& options, PluginContext& context);
  ~FileInput() override;

  void gather(Emitter& out) override;
  void stop() override { stopping_ = true; }

  // Saves the delivered position now. Done at most every second otherwise, and when the input and
  // the last of its metrics are gone.
  void flushPosition();

 private:
  struct OpenFile {
    int fd = -1;
    std::string name;  // for logs
    FileIdentity id;
    std::int64_t offset = 0;
    std::uint64_t line = 0;  // line number in logs, counted from where reading started
    bool skipping = false;   // inside a line longer than max_line_bytes
  };
  void gatherTail(Emitter& out);
  void gatherWhole(Emitter& out);
  // Opens `path`; nullopt when it does not exist.
  std::optional<OpenFile> open(const std::string& path) const;
  void close(OpenFile& file) const;
  // Positions reading at `position`: in the current file, or, when it was rotated away, in the
  // rotated file found by identity (read to its end first, then the current file from its start).
  // False when reading stopped before the end of the rotated file (see readToEnd).
  bool resume(const FilePosition& position, Emitter& out);
  // The file in the directory of options_.path that `id` names, other than `except_inode`.
  std::optional<OpenFile> findRotated(const FileIdentity& id, std::int64_t min_size,
                                      std::uint64_t except_inode) const;
  // Reads the whole lines from file.offset to the end. False when it stopped before the end: the
  // input is stopping, or a delivery failed and reading resumes from the first undelivered line.
  bool readToEnd(OpenFile& file, Emitter& out);
  void handleLine(std::string_view line, const OpenFile& file, Emitter& out);
  void skipLongLine(const OpenFile& file, std::int64_t at);
  // Follows a rename (old file to its end, then the new one) or a truncation (the copy from our
  // offset to its end, then the file from its start).
  bool followRotation(Emitter& out);
  // Ends the chunk being read at the file's offset (see DeliveryLedger::open).
  void closeChunk(const OpenFile& file);
  void startAt(const FilePosition& position);

  FileInputOptions options_;
  PluginContext& context_;
  codec::Format format_;
  std::optional<OpenFile> current_;
  // A resume was cut short: once nothing is in flight, resume again from the delivered position.
  bool resync_ = false;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<DeliveryLedger> ledger_;
  DeliveryHandle chunk_;  // the chunk being read: its metrics carry it
  std::uint64_t chunk_lines_ = 0;
  std::uint64_t chunk_metrics_ = 0;
  FilePosition last_closed_;
  Counter& lines_;
  Counter& bad_lines_;
  Counter& long_lines_;
  Counter& rereads_;
  Counter& rotations_;
  const std::uint64_t lines_per_chunk_;
  LogRateLimiter bad_line_log_;
  LogRateLimiter long_line_log_;
  LogRateLimiter reread_log_;
};

}  // namespace cvagent::inputs::file

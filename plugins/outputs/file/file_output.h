#pragma once
// outputs.file: appends metrics to a file as JSON lines or Influx line protocol.
//
// A batch is formatted into one buffer and appended with write(2); when the write (or the fsync)
// fails part way - full disk, EFBIG, EIO - the file is truncated back to its size before the batch,
// so a retry appends the batch whole once: no half line, no duplicate. If even the truncation
// fails, nothing more is appended until a later attempt manages it.
//
// Rotation (size and/or age, as Telegraf's file output): before a batch that would take the file
// past rotation.max_size, or once the file is older than rotation.interval, the file is renamed to
// <stem>.<UTC time>.<ext> and a new one started; a batch is never split across two files. Only the
// archives beyond rotation.max_archives are deleted, oldest first.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvagent/codec.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"

namespace cvagent::outputs::file {

struct RotationOptions {
  ByteSize max_size;                      // 0: no size limit
  std::chrono::milliseconds interval{0};  // 0: no age limit
  int max_archives = -1;                  // -1: keep every archive

  static void describe(Schema<RotationOptions>& s);
};

struct FileOutputOptions {
  std::string path;
  codec::Format format = codec::Format::kJson;
  bool fsync = false;
  RotationOptions rotation;

  static void describe(Schema<FileOutputOptions>& s);
};

class FileOutput final : public Output {
 public:
  FileOutput(const FileOutputOptions& options, PluginContext& context);
  ~FileOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;

  // The archives of `path`, oldest first (their names sort by time).
  static std::vector<std::string> archives(const std::string& path);

 private:
  // Renames the file to its archive name and opens a new one; an empty string when it worked.
  std::string rotate();
  void deleteOldArchives();
  std::string archiveName(std::int64_t now_ns) const;

  FileOutputOptions options_;
  codec::Format format_;
  int fd_ = -1;
  std::string buffer_;
  // The size to cut the file back to before appending again, when undoing a failed write failed.
  std::optional<std::int64_t> cut_back_to_;
  PluginContext& context_;
  std::int64_t opened_ns_ =
      0;  // when the current file was started (or found), for rotation.interval
};

}  // namespace cvagent::outputs::file

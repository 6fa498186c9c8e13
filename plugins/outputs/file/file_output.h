#pragma once
// outputs.file: appends metrics to a file as JSON lines or Influx line protocol.
//
// A batch is formatted into one buffer and appended with write(2); when the write (or the fsync)
// fails part way - full disk, EFBIG, EIO - the file is truncated back to its size before the batch,
// so a retry appends the batch whole once: no half line, no duplicate. If even the truncation
// fails, nothing more is appended until a later attempt manages it.

#include <cstdint>
#include <optional>
#include <string>

#include "cvagent/codec.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"

namespace cvagent::outputs::file {

struct FileOutputOptions {
  std::string path;
  codec::Format format = codec::Format::kJson;
  bool fsync = false;

  static void describe(Schema<FileOutputOptions>& s);
};

class FileOutput final : public Output {
 public:
  FileOutput(const FileOutputOptions& options, PluginContext& context);
  ~FileOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;

 private:
  FileOutputOptions options_;
  codec::Format format_;
  int fd_ = -1;
  std::string buffer_;
  // The size to cut the file back to before appending again, when undoing a failed write failed.
  std::optional<std::int64_t> cut_back_to_;
};

}  // namespace cvagent::outputs::file

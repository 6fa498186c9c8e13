#pragma once
// inputs.file: reads metrics from a file of JSON lines or Influx line protocol, either following it
// as it grows (tail) or reading it whole at every gather. The reference input.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "cvagent/codec.h"
#include "cvagent/input.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"

namespace cvagent::inputs::file {

struct FileInputOptions {
  std::string path;
  codec::Format format = codec::Format::kJson;
  bool tail = true;
  bool from_beginning = true;
  bool remember_position = true;

  static void describe(Schema<FileInputOptions>& s);
};

// Where reading stopped, kept in the instance's state directory so a restart or a reload resumes
// there. Saved only once the metrics read up to that point are delivered (or dropped and
// counted), so a crash re-reads rather than loses. Shared with the delivery callbacks, which may
// outlive the input.
class FilePosition {
 public:
  explicit FilePosition(std::string state_file) : state_file_(std::move(state_file)) {}
  bool load(std::uint64_t& inode, std::int64_t& offset) const;
  void save(std::uint64_t inode, std::int64_t offset);

 private:
  std::mutex mu_;
  std::string state_file_;
};

class FileInput final : public Input {
 public:
  FileInput(const FileInputOptions& options, PluginContext& context);
  ~FileInput() override;

  void gather(Emitter& out) override;
  void stop() override { stopping_ = true; }

 private:
  // Reads complete lines from the current position; a partial last line waits for its end.
  void readNewLines(Emitter& out);
  void openFile();
  void handleLine(std::string_view line, Emitter& out);

  FileInputOptions options_;
  PluginContext& context_;
  codec::Format format_;
  std::FILE* file_ = nullptr;
  std::uint64_t inode_ = 0;
  std::int64_t offset_ = 0;
  std::uint64_t line_number_ = 0;
  std::string partial_;
  bool first_open_ = true;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<FilePosition> position_;
  Counter& lines_;
  Counter& bad_lines_;
  LogRateLimiter bad_line_log_;
};

}  // namespace cvagent::inputs::file

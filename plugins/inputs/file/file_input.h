#pragma once
// inputs.file: reads metrics from a file of JSON lines or Influx line protocol, either following it
// as it grows (tail) or reading it whole at every gather. The reference input.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "cvagent/codec.h"
#include "cvagent/input.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"

namespace cvagent::inputs::file {

struct FileInputOptions {
  std::string path;
  std::string format = "json";
  bool tail = true;
  bool from_beginning = true;

  static void describe(Schema<FileInputOptions>& s);
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
  Counter& lines_;
  Counter& bad_lines_;
  LogRateLimiter bad_line_log_;
};

}  // namespace cvagent::inputs::file

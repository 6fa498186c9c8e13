#pragma once
// outputs.file: appends metrics to a file as JSON lines or Influx line protocol.

#include <cstdio>
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
  std::FILE* file_ = nullptr;
  std::string buffer_;
};

}  // namespace cvagent::outputs::file

// outputs.stdout: writes each batch to standard output as JSON lines or Influx line protocol.
// The reference output: small enough to copy when writing a new one.

#include <cstdio>
#include <string>

#include "cvagent/codec.h"
#include "cvagent/plugin.h"

namespace cvagent::outputs::stdout_ {
namespace {

struct StdoutOptions {
  codec::Format format = codec::Format::kJson;

  static void describe(Schema<StdoutOptions>& s) {
    s.option("format", &StdoutOptions::format,
             "How each metric is written: json (one JSON object per line) or influx (line "
             "protocol).");
  }
};

class StdoutOutput final : public Output {
 public:
  StdoutOutput(const StdoutOptions& options, PluginContext&) : format_(options.format) {}

  WriteResult write(std::span<const Metric> batch) override {
    buffer_.clear();
    for (const auto& metric : batch) {
      codec::append(format_, metric, buffer_);
      buffer_ += '\n';
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size() ||
        std::fflush(stdout) != 0) {
      return WriteResult::retry("cannot write to standard output");
    }
    return WriteResult::ok();
  }

 private:
  codec::Format format_;
  std::string buffer_;
};

}  // namespace
}  // namespace cvagent::outputs::stdout_

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::stdout_::StdoutOutput,
                                         cvagent::outputs::stdout_::StdoutOptions>(
    "stdout", "Writes metrics to standard output as JSON lines or Influx line protocol."))

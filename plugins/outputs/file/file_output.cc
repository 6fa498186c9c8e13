#include "file_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cvagent::outputs::file {

void FileOutputOptions::describe(Schema<FileOutputOptions>& s) {
  s.option("path", &FileOutputOptions::path,
           "File the metrics are appended to (created if absent).")
      .required()
      .example("metrics.jsonl");
  s.option("format", &FileOutputOptions::format,
           "json: one JSON metric per line; influx: line protocol.");
  s.option("fsync", &FileOutputOptions::fsync,
           "Sync every batch to disk before it counts as written (slower, survives a power cut).");
}

FileOutput::FileOutput(const FileOutputOptions& options, PluginContext&)
    : options_(options), format_(options.format) {}

FileOutput::~FileOutput() { close(); }

void FileOutput::connect() {
  if (file_) return;
  file_ = std::fopen(options_.path.c_str(), "ab");
  if (!file_) {
    throw std::runtime_error("cannot open " + options_.path +
                             " for appending: " + std::strerror(errno));
  }
}

WriteResult FileOutput::write(std::span<const Metric> batch) {
  if (!file_) connect();
  buffer_.clear();
  for (const auto& metric : batch) {
    codec::append(format_, metric, buffer_);
    buffer_ += '\n';
  }
  const long before = std::ftell(file_);
  const std::size_t written = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  const bool flushed = std::fflush(file_) == 0;
  if (written != buffer_.size() || !flushed || (options_.fsync && ::fsync(fileno(file_)) != 0)) {
    const std::string why = std::strerror(errno);
    // Don't leave half a batch behind: the retry writes it whole.
    if (before >= 0 && ::ftruncate(fileno(file_), before) != 0) {
      return WriteResult::retry("cannot write to " + options_.path + ": " + why +
                                " (and cannot undo the partial write)");
    }
    std::clearerr(file_);
    return WriteResult::retry("cannot write to " + options_.path + ": " + why);
  }
  return WriteResult::ok();
}

void FileOutput::close() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

}  // namespace cvagent::outputs::file

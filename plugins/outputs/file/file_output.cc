#include "file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
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
           "Sync every batch to disk (fdatasync) before it counts as written: slower, survives a "
           "power cut. Without it a batch counts as written once in the page cache: it survives "
           "the agent being killed, not a power cut or kernel crash.");
}

FileOutput::FileOutput(const FileOutputOptions& options, PluginContext&)
    : options_(options), format_(options.format) {}

FileOutput::~FileOutput() { close(); }

void FileOutput::connect() {
  if (fd_ >= 0) return;
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + options_.path +
                             " for appending: " + std::strerror(errno));
  }
}

WriteResult FileOutput::write(std::span<const Metric> batch) {
  if (fd_ < 0) connect();
  if (cut_back_to_) {
    if (::ftruncate(fd_, *cut_back_to_) != 0) {
      return WriteResult::retry("cannot remove a partly written batch from " + options_.path +
                                ": " + std::strerror(errno));
    }
    cut_back_to_.reset();
  }
  buffer_.clear();
  for (const auto& metric : batch) {
    codec::append(format_, metric, buffer_);
    buffer_ += '\n';
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return WriteResult::retry("cannot stat " + options_.path + ": " + std::strerror(errno));
  }
  const std::int64_t before = st.st_size;
  std::size_t done = 0;
  int error = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == 0 && options_.fsync && ::fdatasync(fd_) != 0) error = errno;
  if (error == 0) return WriteResult::ok();
  // Undo the partial batch: the retry appends it whole. (A pipe or a device cannot be cut back.)
  std::string why = std::string("cannot write to ") + options_.path + ": " + std::strerror(error);
  if (S_ISREG(st.st_mode) && done > 0 && ::ftruncate(fd_, before) != 0) {
    cut_back_to_ = before;
    why += std::string(" (and cannot remove the partial batch yet: ") + std::strerror(errno) + ")";
  }
  return WriteResult::retry(why);
}

void FileOutput::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace cvagent::outputs::file

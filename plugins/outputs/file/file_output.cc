#include "file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "cvagent/time_util.h"

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
  s.option("rotation", &FileOutputOptions::rotation,
           "Start a new file by size and/or age; the old one is renamed beside it with the UTC "
           "time before its extension (metrics.20261201T203328.797Z.jsonl). Off unless max_size "
           "or interval is set.");
}

void RotationOptions::describe(Schema<RotationOptions>& s) {
  s.option("max_size", &RotationOptions::max_size,
           "Rotate before a batch would take the file past this size (0: no limit). A batch is "
           "never split, so a file can exceed it by one batch when a single batch is larger.");
  s.option("interval", &RotationOptions::interval,
           "Rotate once the file is this old (0: never), counted from when the agent started or "
           "opened it.")
      .min(0);
  s.option("max_archives", &RotationOptions::max_archives,
           "Rotated files kept; older ones are deleted (data loss by design: size it to what the "
           "readers of the archives need). -1 keeps all.")
      .min(-1);
}

FileOutput::FileOutput(const FileOutputOptions& options, PluginContext& context)
    : options_(options), format_(options.format), context_(context) {}

FileOutput::~FileOutput() { close(); }

void FileOutput::connect() {
  if (fd_ >= 0) return;
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + options_.path +
                             " for appending: " + std::strerror(errno));
  }
  opened_ns_ = context_.clock().nowNanos();
}

namespace {
// "metrics.jsonl" -> {"metrics", ".jsonl"}; the archive goes between them.
std::pair<std::string, std::string> stemAndExtension(const std::string& path) {
  const std::filesystem::path p(path);
  return {(p.parent_path() / p.stem()).string(), p.extension().string()};
}
}  // namespace

std::string FileOutput::archiveName(std::int64_t now_ns) const {
  // 2026-12-01T20:33:28.797Z -> 20261201T203328.797Z: sortable, no colon (portable file names).
  std::string stamp = formatRfc3339(now_ns, 3);
  stamp.erase(
      std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
      stamp.end());
  const auto [stem, ext] = stemAndExtension(options_.path);
  std::string name = stem + "." + stamp + ext;
  // Two rotations within a millisecond (tiny max_size): never overwrite an archive.
  for (int n = 1; std::filesystem::exists(name); ++n) {
    name = fmt::format("{}.{}-{}{}", stem, stamp, n, ext);
  }
  return name;
}

std::vector<std::string> FileOutput::archives(const std::string& path) {
  const auto [stem, ext] = stemAndExtension(path);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const std::string prefix = std::filesystem::path(stem).filename().string() + ".";
  // (time stamp, collision counter, path): "-1" must sort after the plain name of its millisecond.
  std::vector<std::tuple<std::string, long, std::string>> found;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // <stem>.<8 digits>T<6 digits>.<3 digits>Z[-n]<ext>
    if (name.size() < prefix.size() + ext.size() + 20 || name.compare(0, prefix.size(), prefix) ||
        name.compare(name.size() - ext.size(), ext.size(), ext)) {
      continue;
    }
    const std::string stamp = name.substr(prefix.size(), 20);
    const bool is_stamp = stamp[8] == 'T' && stamp[15] == '.' && stamp[19] == 'Z' &&
                          std::all_of(stamp.begin(), stamp.begin() + 8, ::isdigit) &&
                          std::all_of(stamp.begin() + 9, stamp.begin() + 15, ::isdigit);
    if (!is_stamp) continue;
    const std::string rest =
        name.substr(prefix.size() + 20, name.size() - prefix.size() - 20 - ext.size());
    long counter = 0;
    if (!rest.empty()) {
      if (rest[0] != '-' || rest.size() < 2 ||
          !std::all_of(rest.begin() + 1, rest.end(), ::isdigit) || rest.size() > 10) {
        continue;
      }
      counter = std::stol(rest.substr(1));
    }
    found.emplace_back(stamp, counter, it->path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (auto& f : found) paths.push_back(std::move(std::get<2>(f)));
  return paths;
}

std::string FileOutput::rotate() {
  const std::string archive = archiveName(context_.clock().nowNanos());
  if (::rename(options_.path.c_str(), archive.c_str()) != 0) {
    return fmt::format("cannot rotate {} to {}: {}", options_.path, archive, std::strerror(errno));
  }
  close();
  try {
    connect();
  } catch (const std::exception& e) {
    return e.what();
  }
  if (options_.fsync) {
    // The rename and the new file survive a power cut, as the batches written to them do.
    const std::string dir = std::filesystem::path(options_.path).parent_path().string();
    const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
  context_.logger().info("rotated {} to {}", options_.path, archive);
  deleteOldArchives();
  return {};
}

void FileOutput::deleteOldArchives() {
  if (options_.rotation.max_archives < 0) return;
  auto old = archives(options_.path);
  const auto keep = static_cast<std::size_t>(options_.rotation.max_archives);
  for (std::size_t i = 0; i + keep < old.size(); ++i) {
    std::error_code ec;
    if (std::filesystem::remove(old[i], ec)) {
      context_.logger().info("deleted {} (rotation.max_archives: {})", old[i], keep);
    } else if (ec) {
      context_.logger().warn("cannot delete old archive {}: {}", old[i], ec.message());
    }
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
  const auto& rotation = options_.rotation;
  const bool too_big =
      rotation.max_size.bytes > 0 && st.st_size > 0 &&
      static_cast<std::uint64_t>(st.st_size) + buffer_.size() > rotation.max_size.bytes;
  const bool too_old = rotation.interval.count() > 0 && st.st_size > 0 &&
                       context_.clock().nowNanos() - opened_ns_ >=
                           std::chrono::nanoseconds(rotation.interval).count();
  if (S_ISREG(st.st_mode) && (too_big || too_old)) {
    if (std::string why = rotate(); !why.empty()) return WriteResult::retry(why);
    if (::fstat(fd_, &st) != 0) {
      return WriteResult::retry("cannot stat " + options_.path + ": " + std::strerror(errno));
    }
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

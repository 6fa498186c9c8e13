#include "file_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cvagent::inputs::file {

namespace {

// Lines per delivery chunk (at most): small enough that a failure re-reads little, large enough
// that the bookkeeping (one shared handle, one ledger entry) is noise next to parsing.
constexpr std::uint64_t kMaxChunkLines = 4096;
std::int64_t sizeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

std::string directoryOf(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

// What every rotated name of `path` begins with: its file name up to the first dot ("app" for
// app.log), or the whole name when it has none.
std::string rotationStem(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  const auto dot = name.find('.', 1);
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

void FileInputOptions::describe(Schema<FileInputOptions>& s) {
  s.option("path", &FileInputOptions::path, "File to read metrics from.")
      .required()
      .example("metrics.jsonl");
  s.option("format", &FileInputOptions::format,
           "json: one JSON metric per line ({\"name\",\"tags\",\"fields\",\"time\"}); influx: "
           "line protocol.");
  s.option("tail", &FileInputOptions::tail,
           "true: follow the file, emitting lines as they are appended, across rename and "
           "copytruncate rotations (the old file is read to its end first); false: read the whole "
           "file at every gather.");
  s.option("from_beginning", &FileInputOptions::from_beginning,
           "With tail and no saved position: start at the beginning of the file rather than at "
           "its end.");
  s.option(
      "remember_position", &FileInputOptions::remember_position,
      "With tail: keep the position (file identity and offset) in the agent's state directory "
      "once every output stored what was read up to it, so a restart or reload resumes there.");
  s.option("max_line_bytes", &FileInputOptions::max_line_bytes,
           "Longest line read, in bytes; a longer line is skipped whole and counted in "
           "file_lines_too_long_total.")
      .min(16);
  s.option("max_undelivered", &FileInputOptions::max_undelivered,
           "With tail: metrics read but not yet stored by every output; reading pauses at this "
           "many, so a backfill or an outage fills no output buffer beyond it.")
      .min(1);
}

FileInput::FileInput(const FileInputOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      format_(options.format),
      lines_(context.counter("file_lines_total", "Lines read by inputs.file")),
      bad_lines_(
          context.counter("file_bad_lines_total", "Lines inputs.file could not parse (skipped)")),
      long_lines_(context.counter("file_lines_too_long_total",
                                  "Lines longer than max_line_bytes inputs.file skipped")),
      rereads_(context.counter("file_rereads_total",
                               "Times inputs.file read again from the first undelivered position "
                               "after an output dropped or rejected what it had read")),
      rotations_(context.counter("file_rotations_total",
                                 "Rotations (rename or truncation) inputs.file followed")),
      lines_per_chunk_(std::clamp<std::uint64_t>(
          static_cast<std::uint64_t>(options.max_undelivered) / 4, 1, kMaxChunkLines)) {
  if (options_.tail) {
    std::optional<StateFile> state;
    if (options_.remember_position) state.emplace(context.stateFile("position"));
    ledger_ = std::make_shared<DeliveryLedger>(std::move(state));
  }
}

FileInput::~FileInput() {
  if (current_) close(*current_);
  chunk_.reset();
  if (ledger_) {
    try {
      flushPosition();
    } catch (const std::exception& e) {
      context_.logger().error("cannot save the read position of {}: {}", options_.path, e.what());
    }
  }
}

void FileInput::flushPosition() {
  if (ledger_) ledger_->saveNow(/*force=*/true);
}

std::optional<FileInput::OpenFile> FileInput::open(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot stat " + path + ": " + std::strerror(error));
  }
  OpenFile file;
  file.fd = fd;
  file.name = path;
  file.id.device = st.st_dev;
  file.id.inode = st.st_ino;
  takeFingerprint(fd, file.id);
  return file;
}

void FileInput::close(OpenFile& file) const {
  if (file.fd >= 0) ::close(file.fd);
  file.fd = -1;
}

std::optional<FileInput::OpenFile> FileInput::findRotated(const FileIdentity& id,
                                                          std::int64_t min_size,
                                                          std::uint64_t except_inode) const {
  std::optional<OpenFile> by_fingerprint;
  std::int64_t newest = -1;
  // Rotated names start like the file's (app.log.1, app.log-20261201, app-20261201.log): other
  // files in the directory, an output of the same metrics for one, may share its first line.
  const std::string stem = rotationStem(options_.path);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directoryOf(options_.path), ec)) {
    std::error_code ignored;
    if (!entry.path().filename().string().starts_with(stem) || !entry.is_regular_file(ignored)) {
      continue;
    }
    std::optional<OpenFile> candidate;
    try {
      candidate = open(entry.path().string());
    } catch (const std::exception&) {
      continue;  // unreadable: not ours to read anyway
    }
    if (!candidate) continue;
    if (candidate->id.inode == except_inode || sizeOf(candidate->fd) < min_size) {
      close(*candidate);
      continue;
    }
    // Renamed: the same inode, still holding the first line it had.
    if (sameFile(candidate->fd, candidate->id, id)) {
      if (by_fingerprint) close(*by_fingerprint);
      return candidate;
    }
    // Copied (copytruncate): another inode beginning with the same bytes; the newest copy wins.
    struct stat st {};
    if (id.fingerprint_bytes > 0 &&
        fingerprintOf(candidate->fd, id.fingerprint_bytes) == std::optional(id.fingerprint) &&
        ::fstat(candidate->fd, &st) == 0 && st.st_mtime > newest) {
      newest = st.st_mtime;
      if (by_fingerprint) close(*by_fingerprint);
      by_fingerprint = std::move(candidate);
      continue;
    }
    close(*candidate);
  }
  return by_fingerprint;
}

void FileInput::handleLine(std::string_view line, const OpenFile& file, Emitter& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return;
  lines_.inc();
  Metric metric;
  std::string error;
  if (!codec::parse(format_, line, metric, error, context_.clock().nowNanos())) {
    bad_lines_.inc();
    bad_line_log_.warn(context_.logger(), "{}:{}: skipped a line: {}", file.name, file.line, error);
    return;
  }
  if (ledger_) {
    if (!chunk_) chunk_ = ledger_->open();
    metric.setDelivery(chunk_);
    ++chunk_metrics_;
  }
  out.emit(std::move(metric));
}

void FileInput::skipLongLine(const OpenFile& file, std::int64_t at) {
  long_lines_.inc();
  long_line_log_.warn(context_.logger(),
                      "{}:{}: skipped a line longer than max_line_bytes ({}) at byte {}", file.name,
                      file.line, options_.max_line_bytes, at);
}

bool FileInput::readToEnd(OpenFile& file, Emitter& out) {
  if (file.id.fingerprint_bytes == 0) takeFingerprint(file.fd, file.id);
  const auto max_line = static_cast<std::size_t>(options_.max_line_bytes);
  std::string partial;
  char buffer[1 << 16];
  std::int64_t read_at = file.offset;
  while (!stopping_) {
    const ssize_t n = ::pread(file.fd, buffer, sizeof buffer, read_at);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot read " + file.name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    std::size_t i = 0;
    const auto size = static_cast<std::size_t>(n);
    while (i < size) {
      const char* nl = static_cast<const char*>(std::memchr(buffer + i, '\n', size - i));
      if (!nl) {
        // The rest of the buffer is the start of a line: keep it, unless it is already too long.
        if (!file.skipping) {
          partial.append(buffer + i, size - i);
          if (partial.size() > max_line) {
            skipLongLine(file, file.offset);
            file.skipping = true;
            partial.clear();
          }
        }
        break;
      }
      const std::size_t length = static_cast<std::size_t>(nl - (buffer + i));
      ++file.line;
      if (file.skipping) {
        file.skipping = false;  // the end of a line already counted as too long
      } else if (partial.size() + length > max_line) {
        skipLongLine(file, file.offset);
      } else if (partial.empty()) {
        handleLine(std::string_view(buffer + i, length), file, out);
      } else {
        partial.append(buffer + i, length);
        handleLine(partial, file, out);
      }
      partial.clear();
      i += length + 1;
      file.offset = read_at + static_cast<std::int64_t>(i);
      if (++chunk_lines_ >= lines_per_chunk_ && ledger_) {
        closeChunk(file);
        if (!ledger_->waitForRoom(static_cast<std::uint64_t>(options_.max_undelivered),
                                  stopping_)) {
          return false;
        }
      }
    }
    read_at += n;
  }
  // A partial last line is read again once complete; the skipped part of a too-long one is done.
  if (file.skipping) file.offset = read_at;
  return !stopping_;
}

void FileInput::closeChunk(const OpenFile& file) {
  chunk_lines_ = 0;
  if (!ledger_) return;
  const FilePosition end{file.id, file.offset};
  if (!chunk_ && end == last_closed_) return;
  if (!chunk_) chunk_ = ledger_->open();
  ledger_->close(end, std::exchange(chunk_metrics_, 0));
  last_closed_ = end;
  chunk_.reset();  // the chunk settles once its metrics are stored (or right now if it has none)
}

void FileInput::startAt(const FilePosition& position) {
  ledger_->reset(position);
  last_closed_ = position;
}

bool FileInput::resume(const FilePosition& position, Emitter& out) {
  // First, before anything can throw: the ledger starts at the position, whatever happens next.
  startAt(position);
  OpenFile& current = *current_;
  if (sameFile(current.fd, current.id, position.file) && sizeOf(current.fd) >= position.offset) {
    current.offset = position.offset;
    current.skipping = false;
    current.line = 0;
    startAt({current.id, current.offset});
    return true;
  }
  // Rotated away since: finish the old file (found by inode, or by fingerprint for a copy), then
  // read the current one from its start.
  auto rotated = findRotated(position.file, position.offset, current.id.inode);
  if (rotated) {
    context_.logger().info("{} was rotated; reading {} from byte {} to its end first",
                           options_.path, rotated->name, position.offset);
    rotated->offset = position.offset;
    const bool finished = readToEnd(*rotated, out);
    closeChunk(*rotated);
    close(*rotated);
    if (!finished) return false;
  } else {
    context_.logger().warn(
        "the file {} was read from (inode {}, byte {}) is gone and no rotated copy of it was "
        "found; reading {} from its start",
        options_.path, position.file.inode, position.offset, options_.path);
  }
  current.offset = 0;
  current.skipping = false;
  current.line = 0;
  closeChunk(current);
  return true;
}

bool FileInput::followRotation(Emitter& out) {
  OpenFile& current = *current_;
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) == 0 &&
      (st.st_ino != current.id.inode || st.st_dev != current.id.device)) {
    // Renamed (logrotate create) or replaced: what the old file holds comes first.
    auto next = open(options_.path);
    if (!next) return true;
    const bool finished = readToEnd(current, out);
    closeChunk(current);
    if (!finished) return false;  // the old file stays open: the next gather goes on with it
    rotations_.inc();
    context_.logger().info("{} was rotated (read the old file to byte {}); following the new file",
                           options_.path, current.offset);
    close(current);
    current = std::move(*next);
    closeChunk(current);
    return true;
  }
  const bool truncated = sizeOf(current.fd) < current.offset ||
                         (current.id.fingerprint_bytes > 0 &&
                          fingerprintOf(current.fd, current.id.fingerprint_bytes) !=
                              std::optional(current.id.fingerprint));
  if (!truncated) return true;
  // Truncated in place (copytruncate): the lines after our offset are in the copy, if there is one.
  rotations_.inc();
  if (auto copy = current.id.fingerprint_bytes > 0
                      ? findRotated(current.id, current.offset, current.id.inode)
                      : std::nullopt) {
    context_.logger().info("{} was truncated; reading its copy {} from byte {} to its end first",
                           options_.path, copy->name, current.offset);
    copy->offset = current.offset;
    copy->skipping = current.skipping;
    const bool finished = readToEnd(*copy, out);
    closeChunk(*copy);
    close(*copy);
    if (!finished) {
      // Still truncated at the next gather, which finds the copy again and goes on from here.
      current.offset = copy->offset;
      current.skipping = copy->skipping;
      return false;
    }
  } else if (current.offset > 0) {
    context_.logger().warn(
        "{} was truncated and no copy of it was found: lines written after byte {} and before the "
        "truncation may be lost",
        options_.path, current.offset);
  }
  current.offset = 0;
  current.skipping = false;
  current.line = 0;
  current.id.fingerprint_bytes = 0;
  current.id.fingerprint = 0;
  takeFingerprint(current.fd, current.id);
  closeChunk(current);
  return true;
}

void FileInput::gatherTail(Emitter& out) {
  if (!current_) {
    std::optional<FilePosition> saved;
    if (auto state =
            options_.remember_position ? context_.stateFile("position").load() : std::nullopt) {
      saved = FilePosition::decode(*state);
      if (!saved) {
        context_.logger().warn("ignoring an unreadable saved position for {}: '{}'", options_.path,
                               *state);
      }
    }
    current_ = open(options_.path);
    if (!current_) {
      throw std::runtime_error("cannot open " + options_.path + ": " + std::strerror(ENOENT));
    }
    if (saved) {
      context_.logger().info("resuming {} at byte {}", options_.path, saved->offset);
      // Until resume() finished (it may stop early, or throw), the next gather starts over.
      resync_ = true;
      resync_ = !resume(*saved, out);
      if (resync_) return;
    } else {
      if (!options_.from_beginning) current_->offset = sizeOf(current_->fd);
      startAt({current_->id, current_->offset});
    }
  } else if (auto rewind = ledger_->takeRewind(/*even_without_failure=*/resync_)) {
    if (rewind->after_failure) {
      rereads_.inc();
      reread_log_.warn(context_.logger(),
                       "an output dropped or rejected metrics read from {}; reading again from "
                       "byte {} (what followed and was stored is sent again)",
                       options_.path, rewind->position.offset);
    }
    resync_ = true;
    resync_ = !resume(rewind->position, out);
    if (resync_) return;
  } else if (resync_ || ledger_->waitingToRewind()) {
    // Reading on would only be read again: wait for what is in flight to settle.
    ledger_->saveNow();
    return;
  }
  const bool followed = followRotation(out);
  if (followed) {
    readToEnd(*current_, out);
    closeChunk(*current_);
  }
  ledger_->saveNow();
}

void FileInput::gatherWhole(Emitter& out) {
  auto file = open(options_.path);
  if (!file)
    throw std::runtime_error("cannot open " + options_.path + ": " + std::strerror(ENOENT));
  try {
    readToEnd(*file, out);
  } catch (...) {
    close(*file);
    throw;
  }
  close(*file);
}

void FileInput::gather(Emitter& out) {
  stopping_ = false;
  if (options_.tail) {
    gatherTail(out);
  } else {
    gatherWhole(out);
  }
  context_.setHealth(HealthState::kOk, "");
}

}  // namespace cvagent::inputs::file

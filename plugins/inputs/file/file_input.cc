#include "file_input.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace cvagent::inputs::file {

namespace {

// Lines per delivery chunk (at most): small enough that a failure re-reads little, large enough
// that the bookkeeping (one shared handle, one ledger entry) is noise next to parsing.
constexpr std::uint64_t kMaxChunkLines = 4096;
// How often a delivery callback may save the position (a save costs two fsyncs); the last position
// is saved at the next gather or when the input goes away.
constexpr auto kSaveInterval = std::chrono::seconds(1);

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::int64_t sizeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

std::string directoryOf(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

// The tail of a rate-limited log line.
std::string suppressedNote(std::uint64_t suppressed) {
  return suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : std::string();
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
           "line protocol.")
      .oneOf({"json", "influx"});
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

// ---- FilePosition ----

std::string FilePosition::encode() const {
  return fmt::format("v2 {} {} {} {} {}\n", file.device, file.inode, file.fingerprint_bytes,
                     file.fingerprint, offset);
}

std::optional<FilePosition> FilePosition::decode(std::string_view text) {
  std::vector<std::uint64_t> numbers;
  bool v2 = false;
  if (text.starts_with("v2 ")) {
    v2 = true;
    text.remove_prefix(3);
  }
  while (!text.empty()) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
    if (text.empty()) break;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return std::nullopt;
    numbers.push_back(value);
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  }
  FilePosition p;
  if (v2 && numbers.size() == 5) {
    p.file = {numbers[0], numbers[1], static_cast<std::uint32_t>(numbers[2]), numbers[3]};
    p.offset = static_cast<std::int64_t>(numbers[4]);
  } else if (!v2 && numbers.size() == 2) {  // "<inode> <offset>": device and fingerprint unknown
    p.file.inode = numbers[0];
    p.offset = static_cast<std::int64_t>(numbers[1]);
  } else {
    return std::nullopt;
  }
  if (p.offset < 0 || p.file.fingerprint_bytes > kFingerprintBytes) return std::nullopt;
  return p;
}

std::optional<std::uint64_t> fingerprintOf(int fd, std::uint32_t bytes) {
  char buffer[kFingerprintBytes];
  if (bytes > sizeof buffer) return std::nullopt;
  std::uint32_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::pread(fd, buffer + got, bytes - got, got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<std::uint32_t>(n);
  }
  return fnv1a(std::string_view(buffer, bytes));
}

namespace {

// The identity's fingerprint: the first line (newline included), or the first kFingerprintBytes
// bytes of a longer one; none (0 bytes) until the first line is complete.
void fingerprint(int fd, FileIdentity& id) {
  char buffer[kFingerprintBytes];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  if (n <= 0) return;
  const void* nl = std::memchr(buffer, '\n', static_cast<std::size_t>(n));
  std::uint32_t bytes = 0;
  if (nl) {
    bytes = static_cast<std::uint32_t>(static_cast<const char*>(nl) - buffer + 1);
  } else if (n == static_cast<ssize_t>(sizeof buffer)) {
    bytes = sizeof buffer;
  }
  if (bytes == 0) return;
  id.fingerprint_bytes = bytes;
  id.fingerprint = fnv1a(std::string_view(buffer, bytes));
}

// Same device and inode (when known) and, when the identity has one, the same first bytes.
bool sameFile(int fd, const FileIdentity& have, const FileIdentity& want) {
  if (have.inode != want.inode || (want.device != 0 && have.device != want.device)) return false;
  return want.fingerprint_bytes == 0 ||
         fingerprintOf(fd, want.fingerprint_bytes) == std::optional(want.fingerprint);
}

}  // namespace

// ---- DeliveryLedger ----

DeliveryLedger::~DeliveryLedger() {
  // The last delivery callback (or the input) let go: keep where delivery got to. Nobody is left
  // to throw to, so a failure goes to stderr (the agent's log sink may be gone already).
  try {
    if (dirty_ && state_) state_->save(delivered_.encode());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inputs.file: cannot save the read position: %s\n", e.what());
  }
}

void DeliveryLedger::reset(const FilePosition& position) {
  std::lock_guard lock(mu_);
  first_seq_ += chunks_.size();
  chunks_.clear();
  in_flight_metrics_ = 0;
  ++epoch_;
  failed_ = false;
  delivered_ = position;
  dirty_ = true;
}

DeliveryHandle DeliveryLedger::open() {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = first_seq_ + chunks_.size();
  chunks_.push_back({});
  return std::make_shared<Delivery>([self = shared_from_this(), epoch = epoch_,
                                     seq](bool delivered) { self->settle(epoch, seq, delivered); });
}

void DeliveryLedger::close(const FilePosition& end, std::uint64_t metrics) {
  std::lock_guard lock(mu_);
  if (chunks_.empty()) return;
  chunks_.back().end = end;
  chunks_.back().closed = true;
  chunks_.back().metrics = metrics;
  in_flight_metrics_ += metrics;
}

bool DeliveryLedger::waitForRoom(std::uint64_t limit, const std::atomic<bool>& stopping) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (failed_ || stopping) return false;
    if (in_flight_metrics_ < limit) return true;
    // stop() sets the flag without notifying: look again now and then.
    settled_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void DeliveryLedger::settle(std::uint64_t epoch, std::uint64_t seq, bool delivered) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_ || seq < first_seq_ || seq >= first_seq_ + chunks_.size()) return;
  Chunk& chunk = chunks_[seq - first_seq_];
  chunk.state = delivered ? State::kDelivered : State::kFailed;
  in_flight_metrics_ -= std::min(in_flight_metrics_, chunk.metrics);
  settled_.notify_all();
  if (!delivered) failed_ = true;
  bool moved = false;
  while (!chunks_.empty() && chunks_.front().closed && chunks_.front().state == State::kDelivered) {
    delivered_ = chunks_.front().end;
    chunks_.pop_front();
    ++first_seq_;
    moved = true;
  }
  if (!moved) return;
  dirty_ = true;
  if (state_ && std::chrono::steady_clock::now() - last_save_ >= kSaveInterval) {
    try {
      saveLocked();
    } catch (const std::exception& e) {
      save_error_ = e.what();  // reported by the next gather
    }
  }
}

std::optional<DeliveryLedger::Rewind> DeliveryLedger::takeRewind(bool even_without_failure) {
  std::lock_guard lock(mu_);
  if (!failed_ && !even_without_failure) return std::nullopt;
  for (const auto& chunk : chunks_) {
    if (chunk.state == State::kPending) return std::nullopt;
  }
  first_seq_ += chunks_.size();
  chunks_.clear();
  in_flight_metrics_ = 0;
  ++epoch_;
  return Rewind{delivered_, std::exchange(failed_, false)};
}

bool DeliveryLedger::waitingToRewind() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void DeliveryLedger::saveNow(bool force) {
  std::lock_guard lock(mu_);
  if (!save_error_.empty()) {
    std::string error = std::move(save_error_);
    save_error_.clear();
    throw std::runtime_error(error);
  }
  if (!dirty_) return;
  if (force || std::chrono::steady_clock::now() - last_save_ >= kSaveInterval) saveLocked();
}

void DeliveryLedger::saveLocked() {
  if (state_) state_->save(delivered_.encode());
  dirty_ = false;
  last_save_ = std::chrono::steady_clock::now();
}

// ---- FileInput ----

FileInput::FileInput(const FileInputOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      format_(options.format == "json" ? codec::Format::kJson : codec::Format::kInflux),
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
  fingerprint(fd, file.id);
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
    std::uint64_t suppressed = 0;
    if (bad_line_log_.allow(suppressed)) {
      context_.logger().warn("{}:{}: skipped a line: {}{}", file.name, file.line, error,
                             suppressedNote(suppressed));
    }
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
  std::uint64_t suppressed = 0;
  if (long_line_log_.allow(suppressed)) {
    context_.logger().warn("{}:{}: skipped a line longer than max_line_bytes ({}) at byte {}{}",
                           file.name, file.line, options_.max_line_bytes, at,
                           suppressedNote(suppressed));
  }
}

bool FileInput::readToEnd(OpenFile& file, Emitter& out) {
  if (file.id.fingerprint_bytes == 0) fingerprint(file.fd, file.id);
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
  fingerprint(current.fd, current.id);
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
      std::uint64_t suppressed = 0;
      if (reread_log_.allow(suppressed)) {
        context_.logger().warn(
            "an output dropped or rejected metrics read from {}; reading again from byte {} (what "
            "followed and was stored is sent again){}",
            options_.path, rewind->position.offset, suppressedNote(suppressed));
      }
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

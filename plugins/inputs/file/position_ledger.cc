#include "position_ledger.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace cvagent::inputs::file {

namespace {

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

}  // namespace

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

// The first line (newline included), or the first kFingerprintBytes bytes of a longer one; none
// (0 bytes) until the first line is complete.
void takeFingerprint(int fd, FileIdentity& id) {
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

bool sameFile(int fd, const FileIdentity& have, const FileIdentity& want) {
  if (have.inode != want.inode || (want.device != 0 && have.device != want.device)) return false;
  return want.fingerprint_bytes == 0 ||
         fingerprintOf(fd, want.fingerprint_bytes) == std::optional(want.fingerprint);
}

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

}  // namespace cvagent::inputs::file

#include "runtime/disk_buffer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "runtime/crc32c.h"
#include "runtime/metric_record.h"

namespace cvagent::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kSegmentMagic[8] = {'c', 'v', 'a', 'g', 'b', 'u', 'f', '\n'};
constexpr std::uint32_t kSegmentVersion = 1;
constexpr std::uint64_t kHeaderBytes = 16;
constexpr std::uint64_t kRecordHeaderBytes = 8;
// A record larger than this is damage, not data (no metric comes near it).
constexpr std::uint32_t kMaxRecordBytes = 16u << 20;
constexpr std::size_t kReadChunk = 1u << 20;
constexpr char kAckMagic[4] = {'c', 'v', 'a', 'k'};

void putU32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void putU64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
std::uint32_t getU32(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
std::uint64_t getU64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

std::string errnoText(int err) { return std::strerror(err); }

// Writes all of `data` at the end of `fd`; false with errno set when the kernel refuses part.
bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void syncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string segmentHeader() {
  std::string h(kHeaderBytes, '\0');
  std::memcpy(h.data(), kSegmentMagic, 8);
  putU32(h.data() + 8, kSegmentVersion);
  putU32(h.data() + 12, crc32c(h.data(), 12));
  return h;
}

std::optional<std::uint64_t> segmentSeq(const std::string& name) {
  // segment-<20 digits>.cvb
  if (name.size() != 8 + 20 + 4 || name.compare(0, 8, "segment-") != 0 ||
      name.compare(28, 4, ".cvb") != 0)
    return std::nullopt;
  std::uint64_t seq = 0;
  for (std::size_t i = 8; i < 28; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

}  // namespace

struct DiskBuffer::File {
  int fd = -1;
  explicit File(int f) : fd(f) {}
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

struct DiskBuffer::Segment {
  std::uint64_t seq = 0;
  std::string path;
  std::uint64_t size = 0;     // committed bytes (the reader never reads past them)
  std::uint64_t records = 0;  // valid records from where reading starts
  bool recovered = false;     // scanned at start: its damage is already reported
};

// Walks the records of one segment file from an offset up to a limit (the committed size),
// reporting each record, or each damaged region and where the next valid record starts. Every
// call moves forward, so it cannot loop.
class DiskBuffer::Scanner {
 public:
  enum class Kind { kRecord, kDamage, kEnd };
  struct Item {
    Kind kind = Kind::kEnd;
    std::uint64_t offset = 0;  // record or damage start
    std::uint64_t next = 0;    // where the next item starts
    std::span<const std::byte> payload;
    std::string why;
  };

  Scanner(int fd, std::uint64_t offset, std::uint64_t limit)
      : fd_(fd), pos_(offset), limit_(limit) {}

  void setLimit(std::uint64_t limit) { limit_ = limit; }
  std::uint64_t position() const { return pos_; }

  Item next() {
    Item item;
    if (pos_ >= limit_) {
      item.kind = Kind::kEnd;
      item.offset = item.next = pos_;
      return item;
    }
    std::string why;
    if (auto len = validRecord(pos_, why)) {
      item.kind = Kind::kRecord;
      item.offset = pos_;
      item.payload = bytes(pos_ + kRecordHeaderBytes, *len);
      item.next = pos_ + kRecordHeaderBytes + *len;
      pos_ = item.next;
      return item;
    }
    // Damage: the next valid record is the first offset after this one where a whole record
    // checks out (a wrong length only costs the records it covers).
    item.kind = Kind::kDamage;
    item.offset = pos_;
    item.why = why;
    std::uint64_t s = pos_ + 1;
    std::string ignored;
    while (s + kRecordHeaderBytes < limit_ && !validRecord(s, ignored)) ++s;
    if (s + kRecordHeaderBytes >= limit_) s = limit_;
    item.next = pos_ = s;
    return item;
  }

 private:
  // The payload length when a valid record starts at `offset`.
  std::optional<std::uint32_t> validRecord(std::uint64_t offset, std::string& why) {
    if (limit_ - offset < kRecordHeaderBytes) {
      why = "torn record header at the end";
      return std::nullopt;
    }
    auto header = bytes(offset, kRecordHeaderBytes);
    if (header.empty()) {
      why = read_error_;
      return std::nullopt;
    }
    const std::uint32_t len = getU32(header.data());
    const std::uint32_t stored_crc = getU32(header.data() + 4);
    if (len == 0 || len > kMaxRecordBytes) {
      why = "impossible record length " + std::to_string(len);
      return std::nullopt;
    }
    if (len > limit_ - offset - kRecordHeaderBytes) {
      why = "record runs past the end of the file (torn write)";
      return std::nullopt;
    }
    const auto whole = bytes(offset, kRecordHeaderBytes + len);
    if (whole.empty()) {
      why = read_error_;
      return std::nullopt;
    }
    const auto payload = whole.subspan(kRecordHeaderBytes);
    if (static_cast<std::uint8_t>(payload[0]) != kMetricRecordVersion) {
      why = "unknown record version";
      return std::nullopt;
    }
    std::uint32_t crc = crc32c(whole.data(), 4);
    crc = crc32c(payload.data(), payload.size(), crc);
    if (crc != stored_crc) {
      why = "checksum mismatch";
      return std::nullopt;
    }
    return len;
  }

  // `size` bytes at `offset` (below limit_), read through a chunk buffer; empty on a read error.
  std::span<const std::byte> bytes(std::uint64_t offset, std::size_t size) {
    if (offset >= buf_start_ && offset + size <= buf_start_ + buf_len_) {
      return {buf_.data() + (offset - buf_start_), size};
    }
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::max(size, kReadChunk), limit_ - offset));
    // Back to one chunk after an unusually large record, so memory stays bounded.
    if (buf_.size() > 4 * kReadChunk && want <= kReadChunk) std::vector<std::byte>(want).swap(buf_);
    if (buf_.size() < want) buf_.resize(want);
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n =
          ::pread(fd_, buf_.data() + got, want - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        read_error_ = n < 0 ? "read error: " + errnoText(errno) : "file shorter than expected";
        buf_len_ = 0;
        return {};
      }
      got += static_cast<std::size_t>(n);
    }
    buf_start_ = offset;
    buf_len_ = got;
    return {buf_.data(), size};
  }

  int fd_;
  std::uint64_t pos_;
  std::uint64_t limit_;
  std::vector<std::byte> buf_;
  std::uint64_t buf_start_ = 0;
  std::size_t buf_len_ = 0;
  std::string read_error_;
};

struct DiskBuffer::Reader {
  std::uint64_t seq = 0;
  std::unique_ptr<File> file;
  std::unique_ptr<Scanner> scanner;
  std::uint64_t records_read = 0;
};

// ---------------------------------------------------------------- opening and recovery

DiskBuffer::DiskBuffer(DiskBufferOptions options, Logger& logger, Listener listener)
    : options_(std::move(options)), logger_(logger), listener_(std::move(listener)) {
  options_.sync_interval = std::max(options_.sync_interval, std::chrono::milliseconds(1));
  if (options_.segment_bytes == 0) {
    options_.segment_bytes =
        std::clamp<std::uint64_t>(options_.max_bytes / 8, 1u << 20, 128u << 20);
  }
  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec) {
    throw std::runtime_error("cannot create the disk buffer directory " + options_.directory +
                             ": " + ec.message());
  }
  openLock();
  try {
    recover();
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
  if (options_.sync == DiskSync::kInterval) sync_thread_ = std::thread([this] { syncLoop(); });
}

DiskBuffer::~DiskBuffer() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    interrupted_ = true;
  }
  space_.notify_all();
  sync_wake_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  sync();
  {
    std::lock_guard lock(mu_);
    reader_.reset();
    write_file_.reset();
    // A segment this run opened and never wrote to is not kept.
    if (!segments_.empty() && segments_.back()->size <= kHeaderBytes) {
      ::unlink(segments_.back()->path.c_str());
    }
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void DiskBuffer::openLock() {
  const std::string path = options_.directory + "/lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    throw std::runtime_error("cannot open the disk buffer lock file " + path + ": " +
                             errnoText(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw DiskBufferLocked("the disk buffer directory " + options_.directory +
                             " is in use by another cvagent (or another output of this one); "
                             "give each agent and output its own buffer.path or agent.state_dir");
    }
    throw std::runtime_error("cannot lock " + path + ": " + errnoText(err));
  }
}

void DiskBuffer::loadAck() {
  const std::string path = options_.directory + "/ack";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // a new buffer
  std::byte data[24];
  const ssize_t n = ::pread(fd, data, sizeof data, 0);
  ::close(fd);
  if (n == 24 && std::memcmp(data, kAckMagic, 4) == 0 && getU32(data + 20) == crc32c(data, 20)) {
    ack_ = {getU64(data + 4), getU64(data + 12)};
    ack_persisted_ = ack_;
    return;
  }
  // Replaying from the oldest segment may duplicate, never lose.
  logger_.error(
      "disk buffer {}: the acknowledged position in {} is damaged; replaying from the "
      "oldest segment (metrics may be written twice)",
      options_.directory, path);
}

void DiskBuffer::reportDamage(const std::string& file, std::uint64_t offset, std::uint64_t bytes,
                              const std::string& why) {
  ++damaged_;
  if (listener_.damaged) listener_.damaged();
  damage_log_.error(logger_,
                    "disk buffer: damaged data in {} at byte {}: {}; skipped {} bytes to the next "
                    "valid record",
                    file, offset, why, bytes);
}

void DiskBuffer::recover() {
  loadAck();
  std::vector<std::uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(options_.directory)) {
    const std::string name = entry.path().filename().string();
    if (auto seq = segmentSeq(name)) {
      seqs.push_back(*seq);
    } else if (name != "lock" && name != "ack" && name != "ack.tmp") {
      logger_.warn("disk buffer {}: ignoring {}, not a buffer file", options_.directory, name);
    }
  }
  std::sort(seqs.begin(), seqs.end());
  std::uint64_t records = 0, segments = 0;
  for (const std::uint64_t seq : seqs) {
    last_seq_ = std::max(last_seq_, seq);
    const std::string path = segmentPath(seq);
    if (seq < ack_.segment) {  // fully acknowledged before a crash
      ::unlink(path.c_str());
      continue;
    }
    auto seg = std::make_unique<Segment>();
    seg->seq = seq;
    seg->path = path;
    seg->recovered = true;
    File file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0) {
      logger_.error("disk buffer: cannot read {}: {}; skipped", path, errnoText(errno));
      ++damaged_;
      continue;
    }
    seg->size = static_cast<std::uint64_t>(st.st_size);
    std::byte header[kHeaderBytes];
    const std::string expected = segmentHeader();
    if (seg->size < kHeaderBytes || ::pread(file.fd, header, kHeaderBytes, 0) != kHeaderBytes ||
        std::memcmp(header, expected.data(), kHeaderBytes) != 0) {
      // Records check themselves: a bad header costs nothing more than itself.
      reportDamage(path, 0, std::min(seg->size, kHeaderBytes), "bad segment header");
    }
    std::uint64_t from = kHeaderBytes;
    if (seq == ack_.segment) from = std::max(from, ack_.offset);
    Scanner scanner(file.fd, from, seg->size);
    for (auto item = scanner.next(); item.kind != Scanner::Kind::kEnd; item = scanner.next()) {
      if (item.kind == Scanner::Kind::kRecord) {
        ++seg->records;
      } else {
        reportDamage(path, item.offset, item.next - item.offset, item.why);
      }
    }
    records += seg->records;
    total_bytes_ += seg->size;
    ++segments;
    segments_.push_back(std::move(seg));
  }
  last_seq_ = std::max(last_seq_, ack_.segment);
  unread_ = records;
  if (records || damaged_) {
    logger_.info(
        "disk buffer {}: {} metrics to replay in {} segments ({} bytes), {} damaged regions "
        "skipped",
        options_.directory, records, segments, total_bytes_, damaged_);
  }
  std::lock_guard lock(mu_);
  openWriteSegment();
  const auto& front = segments_.front();
  openReader(front->seq,
             front->seq == ack_.segment ? std::max(ack_.offset, kHeaderBytes) : kHeaderBytes);
}

std::string DiskBuffer::segmentPath(std::uint64_t seq) const {
  return fmt::format("{}/segment-{:020}.cvb", options_.directory, seq);
}

void DiskBuffer::openWriteSegment() {
  const std::uint64_t seq = last_seq_ + 1;
  auto seg = std::make_unique<Segment>();
  seg->seq = seq;
  seg->path = segmentPath(seq);
  const int fd =
      ::open(seg->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot create disk buffer segment " + seg->path + ": " +
                             errnoText(errno));
  }
  auto file = std::make_shared<File>(fd);
  const std::string header = segmentHeader();
  if (!writeAll(fd, header.data(), header.size())) {
    const int err = errno;
    ::unlink(seg->path.c_str());
    throw std::runtime_error("cannot write disk buffer segment " + seg->path + ": " +
                             errnoText(err));
  }
  seg->size = kHeaderBytes;
  total_bytes_ += kHeaderBytes;
  syncDirectory(options_.directory);
  // Closed segments are always durable: only the one being written can lose its tail.
  if (write_file_) ::fdatasync(write_file_->fd);
  last_seq_ = seq;
  segments_.push_back(std::move(seg));
  write_file_ = std::move(file);
}

void DiskBuffer::openReader(std::uint64_t seq, std::uint64_t offset) {
  reader_ = std::make_unique<Reader>();
  reader_->seq = seq;
  const std::string path = segmentPath(seq);
  reader_->file = std::make_unique<File>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (reader_->file->fd < 0) {
    logger_.error("disk buffer: cannot open {}: {}", path, errnoText(errno));
  }
  reader_->scanner = std::make_unique<Scanner>(reader_->file->fd, offset, offset);
}

// ---------------------------------------------------------------- writing

bool DiskBuffer::writeRecords(std::size_t records) {
  Segment& seg = *segments_.back();
  if (writeAll(write_file_->fd, scratch_.data(), scratch_.size())) {
    seg.size += scratch_.size();
    seg.records += records;
    total_bytes_ += scratch_.size();
    unread_ += records;
    data_dirty_ = true;
    if (disk_failing_) {
      disk_failing_ = false;
      logger_.info("disk buffer {}: writing works again", options_.directory);
      if (listener_.disk_state) listener_.disk_state(false, "");
    }
    return true;
  }
  const int err = errno;
  // A partial write is cut off again, so the file holds only whole records.
  if (::ftruncate(write_file_->fd, static_cast<off_t>(seg.size)) != 0) {
    // The tail stays torn on disk; recovery skips it. New records go to a fresh segment.
    try {
      openWriteSegment();
    } catch (const std::exception&) {
    }
  }
  const std::string detail = "disk buffer write to " + seg.path + " failed: " + errnoText(err);
  if (!disk_failing_) {
    disk_failing_ = true;
    logger_.error("{}", detail);
  }
  if (listener_.disk_state) listener_.disk_state(true, detail);
  return false;
}

bool DiskBuffer::dropOldestSegment() {
  if (segments_.size() < 2) {
    // Only the segment being written: start another so the old one can go.
    if (segments_.empty() || segments_.back()->records == 0) return false;
    try {
      openWriteSegment();
    } catch (const std::exception&) {
      return false;
    }
  }
  Segment& seg = *segments_.front();
  std::uint64_t lost = 0;
  if (reader_ && reader_->seq == seg.seq) {
    lost = seg.records - std::min(seg.records, reader_->records_read);
    reader_.reset();  // read() reopens at the next segment
  } else if (!reader_ || reader_->seq < seg.seq) {
    lost = seg.records;
  }
  unread_ -= std::min(unread_, lost);
  ::unlink(seg.path.c_str());
  total_bytes_ -= std::min(total_bytes_, seg.size);
  const std::uint64_t next = seg.seq + 1;
  segments_.pop_front();
  if (ack_ < DiskPosition{next, 0}) ack_ = {next, 0};
  if (lost) {
    logger_.warn(
        "disk buffer {}: full; dropped the oldest segment with {} unwritten metrics "
        "(raise buffer.max_bytes or set buffer.when_full: block)",
        options_.directory, lost);
    if (listener_.dropped) listener_.dropped(lost, "buffer_full");
  }
  return true;
}

std::size_t DiskBuffer::append(std::span<const Metric> metrics) {
  std::unique_lock lock(mu_);
  std::size_t written = 0;
  const bool per_record = options_.sync == DiskSync::kAlways;
  while (written < metrics.size()) {
    if (segments_.back()->size >= options_.segment_bytes) {
      try {
        openWriteSegment();
      } catch (const std::exception& e) {
        if (!disk_failing_) logger_.error("{}", e.what());
      }
    }
    // One write per call (per record with sync: always), cut where the segment is full.
    scratch_.clear();
    std::size_t count = 0;
    const std::uint64_t room =
        options_.segment_bytes - std::min(options_.segment_bytes, segments_.back()->size);
    for (std::size_t i = written;
         i < metrics.size() && (count == 0 || (!per_record && scratch_.size() < room)); ++i) {
      const std::size_t at = scratch_.size();
      scratch_.append(kRecordHeaderBytes, '\0');
      encodeMetric(metrics[i], scratch_);
      const std::size_t len = scratch_.size() - at - kRecordHeaderBytes;
      putU32(scratch_.data() + at, static_cast<std::uint32_t>(len));
      std::uint32_t crc = crc32c(scratch_.data() + at, 4);
      crc = crc32c(scratch_.data() + at + kRecordHeaderBytes, len, crc);
      putU32(scratch_.data() + at + 4, crc);
      ++count;
    }
    // Room under max_bytes.
    bool gave_up = false;
    while (total_bytes_ + scratch_.size() > options_.max_bytes && !gave_up) {
      if (segments_.size() == 1 && segments_.back()->records == 0) break;  // nothing to free
      if (options_.block_when_full) {
        if (interrupted_) return written;
        space_.wait(lock);
      } else if (!dropOldestSegment()) {
        gave_up = true;  // one append larger than the whole buffer: written anyway
      }
    }
    // The write itself. On a full disk, block retries every second; drop_oldest gives up on the
    // new metrics (the caller drops them, reason disk_full): what is already written stays, as
    // deleting it would trade safely stored data for space something else may take.
    while (!writeRecords(count)) {
      if (!options_.block_when_full || interrupted_) return written;
      space_.wait_for(lock, std::chrono::seconds(1));
    }
    written += count;
    if (options_.sync != DiskSync::kInterval) {
      auto file = write_file_;
      data_dirty_ = false;
      lock.unlock();
      ::fdatasync(file->fd);
      lock.lock();
    }
  }
  return written;
}

// ---------------------------------------------------------------- reading and acknowledging

std::size_t DiskBuffer::read(std::vector<Metric>& out, std::size_t max, DiskPosition& end) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  while (n < max && !segments_.empty()) {
    const Segment& front = *segments_.front();
    if (!reader_ || reader_->seq < front.seq) {
      openReader(front.seq,
                 front.seq == ack_.segment ? std::max(ack_.offset, kHeaderBytes) : kHeaderBytes);
    }
    // Usually the oldest segment; a few at most to walk past.
    auto at = segments_.begin();
    while ((*at)->seq < reader_->seq && std::next(at) != segments_.end()) ++at;
    if ((*at)->seq != reader_->seq) openReader((*at)->seq, kHeaderBytes);  // a missing file
    Segment& seg = **at;
    const bool writing = &seg == segments_.back().get();
    reader_->scanner->setLimit(seg.size);
    const auto item = reader_->scanner->next();
    if (item.kind == Scanner::Kind::kEnd) {
      if (writing) {
        unread_ = 0;  // caught up with the writer
        break;
      }
      openReader((*std::next(at))->seq, kHeaderBytes);
      end = {reader_->seq, kHeaderBytes};
      continue;
    }
    end = {reader_->seq, item.next};
    if (item.kind == Scanner::Kind::kDamage) {
      if (!seg.recovered) reportDamage(seg.path, item.offset, item.next - item.offset, item.why);
      continue;
    }
    ++reader_->records_read;
    if (unread_) --unread_;
    auto decoded = decodeMetric(item.payload);
    if (!decoded) {
      reportDamage(seg.path, item.offset, item.next - item.offset,
                   "undecodable record: " + decoded.error().message);
      continue;
    }
    out.push_back(std::move(decoded.metric()));
    ++n;
  }
  return n;
}

void DiskBuffer::deleteAcknowledgedSegments() {
  while (segments_.size() > 1) {
    Segment& front = *segments_.front();
    const bool done =
        front.seq < ack_.segment || (front.seq == ack_.segment && ack_.offset >= front.size);
    if (!done) break;
    if (reader_ && reader_->seq == front.seq) reader_.reset();
    ::unlink(front.path.c_str());
    total_bytes_ -= std::min(total_bytes_, front.size);
    segments_.pop_front();
  }
}

void DiskBuffer::acknowledge(DiskPosition end) {
  {
    std::lock_guard lock(mu_);
    if (end <= ack_) return;
    ack_ = end;
    deleteAcknowledgedSegments();
  }
  space_.notify_all();
  if (options_.sync != DiskSync::kInterval) persistAck(true);
}

void DiskBuffer::persistAck(bool force_sync) {
  std::lock_guard file_lock(ack_file_mu_);
  DiskPosition ack;
  {
    std::lock_guard lock(mu_);
    ack = ack_;
  }
  if (ack == ack_persisted_) return;
  char data[24];
  std::memcpy(data, kAckMagic, 4);
  putU64(data + 4, ack.segment);
  putU64(data + 12, ack.offset);
  putU32(data + 20, crc32c(data, 20));
  const std::string tmp = options_.directory + "/ack.tmp";
  const std::string path = options_.directory + "/ack";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && writeAll(fd, data, sizeof data);
  if (ok && force_sync) ok = ::fdatasync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    // Only costs duplicates after a restart: the old position stays valid.
    logger_.warn("disk buffer {}: cannot save the acknowledged position: {}", options_.directory,
                 errnoText(errno));
    return;
  }
  if (force_sync) syncDirectory(options_.directory);
  ack_persisted_ = ack;
}

void DiskBuffer::sync() {
  std::shared_ptr<File> file;
  {
    std::lock_guard lock(mu_);
    if (data_dirty_) file = write_file_;
    data_dirty_ = false;
  }
  if (file && ::fdatasync(file->fd) != 0) {
    logger_.error("disk buffer {}: fdatasync failed: {}", options_.directory, errnoText(errno));
  }
  persistAck(true);
}

void DiskBuffer::syncLoop() {
  std::unique_lock lock(mu_);
  while (!closing_) {
    sync_wake_.wait_for(lock, options_.sync_interval);
    if (closing_) break;
    lock.unlock();
    sync();
    lock.lock();
  }
}

void DiskBuffer::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  space_.notify_all();
}

std::uint64_t DiskBuffer::unread() const {
  std::lock_guard lock(mu_);
  return unread_;
}
std::uint64_t DiskBuffer::diskBytes() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}
std::uint64_t DiskBuffer::damaged() const {
  std::lock_guard lock(mu_);
  return damaged_;
}
bool DiskBuffer::diskFailing() const {
  std::lock_guard lock(mu_);
  return disk_failing_;
}

}  // namespace cvagent::runtime

#include "runtime/output_worker.h"

#include <algorithm>
#include <cmath>

namespace cvagent::runtime {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds RetryPolicy::delay(int attempt, std::mt19937_64& rng) const {
  const double initial = static_cast<double>(options_.initial.count());
  const double cap = static_cast<double>(options_.max.count());
  double ms = std::min(cap, initial * std::pow(options_.multiplier, std::min(attempt, 64)));
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> spread(-options_.jitter, options_.jitter);
    ms *= 1.0 + spread(rng);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, ms)));
}

OutputWorker::OutputWorker(const config::PluginInstanceConfig& config,
                           std::chrono::milliseconds flush_interval, plugins::PluginHandle plugin,
                           std::unique_ptr<observability::InstanceContext> context,
                           std::unique_ptr<Output> output, std::string disk_buffer_dir)
    : id_(config.id),
      plugin_(std::move(plugin)),
      context_(std::move(context)),
      output_(std::move(output)),
      filter_(config.output),
      batch_size_(config.output.batch_size),
      max_buffer_(std::max(config.output.buffer.max, config.output.batch_size)),
      block_when_full_(config.output.buffer.when_full == "block"),
      flush_interval_(flush_interval),
      retry_(config.output.retry),
      rng_(std::random_device{}()),
      written_counter_(context_->telemetry().counter(
          "output_metrics_written_total", "Metrics an output stored", {{"plugin", id_}})),
      write_errors_(context_->telemetry().counter(
          "output_write_errors_total", "Failed writes and connects (retried)", {{"plugin", id_}})),
      buffer_gauge_(context_->telemetry().gauge(
          "output_buffer_metrics", "Metrics waiting in an output's buffer", {{"plugin", id_}})),
      write_seconds_(context_->telemetry().histogram(
          "output_write_duration_seconds", "Time one write() took", {{"plugin", id_}},
          {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30})) {
  batch_.reserve(batch_size_);
  const auto& buffer = config.output.buffer;
  if (buffer.type == "disk") {
    DiskBufferOptions options;
    options.directory = buffer.path.empty() ? std::move(disk_buffer_dir) : buffer.path;
    options.max_bytes = buffer.max_bytes.bytes;
    options.block_when_full = block_when_full_;
    options.sync = buffer.sync == "always"  ? DiskSync::kAlways
                   : buffer.sync == "batch" ? DiskSync::kBatch
                                            : DiskSync::kInterval;
    options.sync_interval = buffer.sync_interval;
    // Called with the disk buffer's lock held: nothing here takes mu_.
    DiskBuffer::Listener listener;
    listener.dropped = [this](std::uint64_t count, const char* reason) {
      dropped_.fetch_add(count, std::memory_order_relaxed);
      context_->telemetry()
          .counter("output_metrics_dropped_total", "Metrics an output dropped, by reason",
                   {{"plugin", id_}, {"reason", reason}})
          .Increment(static_cast<double>(count));
    };
    // Back to ok after the next successful write (setHealthy), not before: the output may be
    // failing too.
    listener.disk_state = [this](bool failing, const std::string& detail) {
      if (failing) context_->setHealth(HealthState::kDegraded, detail);
    };
    auto& damaged = context_->telemetry().counter(
        "output_buffer_damaged_total",
        "Damaged regions (torn or corrupt records) a disk buffer skipped", {{"plugin", id_}});
    listener.damaged = [&damaged] { damaged.Increment(); };
    disk_ =
        std::make_unique<DiskBuffer>(std::move(options), context_->logger(), std::move(listener));
  }
}

OutputWorker::~OutputWorker() {
  if (thread_.joinable()) stopAndTakeBuffer();
  disk_.reset();
  output_.reset();  // before plugin_ unloads the library
}

void OutputWorker::seed(std::deque<Metric>&& metrics) {
  if (disk_) {  // a memory buffer carried into a disk buffer
    std::vector<Metric> moved(std::make_move_iterator(metrics.begin()),
                              std::make_move_iterator(metrics.end()));
    pushToDisk(moved);
    return;
  }
  std::lock_guard lock(mu_);
  for (auto it = metrics.rbegin(); it != metrics.rend(); ++it) buffer_.push_front(std::move(*it));
}

void OutputWorker::start() {
  last_flush_ = Clock::now();
  thread_ = std::thread([this] { run(); });
}

std::size_t OutputWorker::buffered() const {
  std::lock_guard lock(mu_);
  return waiting() + inflight_.load();
}

std::size_t OutputWorker::waiting() const {
  return disk_ ? static_cast<std::size_t>(disk_->unread()) : buffer_.size();
}

void OutputWorker::takeBatch() {
  if (disk_) {
    disk_->read(batch_, batch_size_, batch_end_);
  } else {
    const std::size_t n = std::min(batch_size_, buffer_.size());
    for (std::size_t i = 0; i < n; ++i) {
      batch_.push_back(std::move(buffer_.front()));
      buffer_.pop_front();
    }
  }
  inflight_.store(batch_.size());
}

void OutputWorker::setHealthy() {
  // A failing disk buffer keeps the output degraded though writes succeed.
  if (disk_ && disk_->diskFailing()) return;
  context_->setHealth(HealthState::kOk, "");
}

void OutputWorker::pushToDisk(std::vector<Metric>& metrics) {
  const std::size_t stored = disk_->append(metrics);
  // On disk counts as delivered (the disk buffer's promise): the input may move on.
  for (std::size_t i = 0; i < stored; ++i) metrics[i].setDelivery(nullptr);
  const bool disk_full = disk_->diskFailing();
  for (std::size_t i = stored; i < metrics.size(); ++i) {
    drop(metrics[i], disk_full ? "disk_full" : "shutdown",
         disk_full ? "the disk buffer cannot write (disk full?) and buffer.when_full is "
                     "drop_oldest"
                   : "stopping while the disk buffer was full");
  }
  metrics.clear();
  const std::size_t unread = static_cast<std::size_t>(disk_->unread());
  buffer_gauge_.Set(static_cast<double>(unread + inflight_.load()));
  if (unread >= batch_size_) {
    { std::lock_guard lock(mu_); }  // the worker is waiting or will see the count
    wake_.notify_one();
  }
}

void OutputWorker::drop(Metric& metric, const char* reason, std::string_view detail) {
  if (const auto& d = metric.delivery()) d->markFailed();
  metric.setDelivery(nullptr);
  dropped_.fetch_add(1, std::memory_order_relaxed);
  context_->telemetry()
      .counter("output_metrics_dropped_total", "Metrics an output dropped, by reason",
               {{"plugin", id_}, {"reason", reason}})
      .Increment();
  std::uint64_t suppressed = 0;
  if (drop_log_.allow(suppressed)) {
    context_->logger().warn("dropped a '{}' metric ({}): {}{}", metric.name(), reason, detail,
                            suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
  }
}

void OutputWorker::push(std::vector<Metric>& metrics) {
  if (disk_) {
    pushToDisk(metrics);
    return;
  }
  std::unique_lock lock(mu_);
  for (auto& m : metrics) {
    while (buffer_.size() + inflight_.load() >= max_buffer_) {
      if (block_when_full_ && mode_ != Mode::kStopping) {
        space_.wait(lock, [&] {
          return buffer_.size() + inflight_.load() < max_buffer_ || mode_ == Mode::kStopping;
        });
        if (mode_ == Mode::kStopping) break;
      } else if (!buffer_.empty()) {
        drop(buffer_.front(), "buffer_full",
             "the buffer is full; raise buffer.max or set buffer.when_full: block");
        buffer_.pop_front();
      } else {
        break;  // a whole buffer is in flight: the newest goes
      }
    }
    if (buffer_.size() + inflight_.load() >= max_buffer_ && mode_ != Mode::kStopping) {
      drop(m, "buffer_full", "the buffer is full; raise buffer.max or set buffer.when_full: block");
      continue;
    }
    buffer_.push_back(std::move(m));
  }
  metrics.clear();
  buffer_gauge_.Set(static_cast<double>(buffer_.size() + inflight_.load()));
  if (buffer_.size() >= batch_size_) wake_.notify_one();
}

bool OutputWorker::pastDeadline() const {
  return mode_ == Mode::kDraining && Clock::now() >= deadline_;
}

bool OutputWorker::backoff(int& attempt) {
  const auto wait = retry_.delay(attempt++, rng_);
  std::unique_lock lock(mu_);
  auto until = Clock::now() + wait;
  if (mode_ == Mode::kDraining) until = std::min(until, deadline_);
  const Mode entered = mode_;
  wake_.wait_until(lock, until, [&] { return mode_ == Mode::kStopping || mode_ != entered; });
  if (mode_ == Mode::kStopping) return false;
  if (mode_ == Mode::kDraining && Clock::now() >= deadline_) return false;
  return true;
}

bool OutputWorker::connect(int& attempt) {
  try {
    output_->connect();
    setHealthy();
    attempt = 0;
    return true;
  } catch (const std::exception& e) {
    write_errors_.Increment();
    context_->setHealth(HealthState::kDegraded, std::string("connect failed: ") + e.what());
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed)) {
      context_->logger().error(
          "cannot connect: {}; retrying with backoff{}", e.what(),
          suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
    }
    return false;
  }
}

void OutputWorker::writeBatch(int& attempt, bool& connected) {
  WriteResult result = WriteResult::retry("");
  bool threw = false;
  const auto start = Clock::now();
  try {
    result = output_->write(std::span<const Metric>(batch_.data(), batch_.size()));
  } catch (const std::exception& e) {
    result = WriteResult::retry(e.what());
    threw = true;
  }
  write_seconds_.Observe(std::chrono::duration<double>(Clock::now() - start).count());

  std::vector<WriteStatus> status(batch_.size(), result.status());
  std::vector<const std::string*> reason(batch_.size(), &result.reason());
  for (const auto& ex : result.exceptions()) {
    if (ex.index < status.size()) {
      status[ex.index] = ex.status;
      reason[ex.index] = &ex.reason;
    }
  }
  std::size_t kept = 0, stored = 0;
  const std::string* retry_reason = nullptr;
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    switch (status[i]) {
      case WriteStatus::kOk:
        ++stored;
        break;
      case WriteStatus::kReject:
        drop(batch_[i], "rejected", *reason[i]);
        break;
      case WriteStatus::kRetry:
        if (!retry_reason) retry_reason = reason[i];
        if (kept != i) batch_[kept] = std::move(batch_[i]);
        ++kept;
        continue;
    }
  }
  // Stored and rejected metrics leave here: their delivery handles are released.
  batch_.resize(kept);
  if (disk_ && batch_.empty()) disk_->acknowledge(batch_end_);
  written_.fetch_add(stored, std::memory_order_relaxed);
  written_counter_.Increment(static_cast<double>(stored));
  if (stored) context_->telemetry().markData(id_, context_->clock().nowNanos());
  inflight_.store(batch_.size());
  {
    std::lock_guard lock(mu_);
    buffer_gauge_.Set(static_cast<double>(waiting() + inflight_.load()));
  }
  space_.notify_all();
  if (batch_.empty()) {
    attempt = 0;
    setHealthy();
    return;
  }
  write_errors_.Increment();
  const std::string why =
      retry_reason && !retry_reason->empty() ? *retry_reason : "no reason given";
  context_->setHealth(HealthState::kDegraded, "write failed: " + why);
  std::uint64_t suppressed = 0;
  if (log_limit_.allow(suppressed)) {
    context_->logger().warn("write of {} metrics failed: {}; retrying with backoff{}",
                            batch_.size(), why,
                            suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : "");
  }
  if (threw) connected = false;  // an exception means the connection is suspect: reconnect
  if (!backoff(attempt)) return;
}

void OutputWorker::run() {
  bool connected = false;
  int attempt = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (mode_ == Mode::kStopping) break;
      if (mode_ == Mode::kDraining &&
          (Clock::now() >= deadline_ || (waiting() == 0 && batch_.empty())))
        break;
    }
    if (!connected) {
      connected = connect(attempt);
      if (!connected) {
        if (!backoff(attempt)) break;
        continue;
      }
    }
    if (batch_.empty()) {
      std::unique_lock lock(mu_);
      const auto flush_at = last_flush_ + flush_interval_;
      wake_.wait_until(lock, flush_at,
                       [&] { return mode_ != Mode::kRunning || waiting() >= batch_size_; });
      if (mode_ == Mode::kStopping) break;
      const bool due =
          mode_ == Mode::kDraining || waiting() >= batch_size_ || Clock::now() >= flush_at;
      if (!due) continue;
      last_flush_ = Clock::now();
      if (waiting() == 0) continue;
      takeBatch();
      if (batch_.empty()) {  // only damaged records were left: skip them for good
        if (disk_) disk_->acknowledge(batch_end_);
        continue;
      }
    }
    writeBatch(attempt, connected);
    if (pastDeadline()) break;
  }
  try {
    output_->close();
  } catch (const std::exception& e) {
    context_->logger().warn("close failed: {}", e.what());
  }
}

std::size_t OutputWorker::drainAndStop(Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    if (mode_ == Mode::kRunning) {
      mode_ = Mode::kDraining;
      deadline_ = deadline;
    }
  }
  wake_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (disk_) {
    // Nothing is dropped: what is on disk is written after the next start.
    const std::size_t left = batch_.size() + waiting();
    if (left) {
      context_->logger().warn(
          "{} metrics were not written before the shutdown deadline; they stay in the disk "
          "buffer {} and are written after the next start",
          left, disk_->directory());
    }
    batch_.clear();
    inflight_.store(0);
    disk_.reset();  // syncs and releases the directory's lock
    return 0;
  }
  const std::size_t left = batch_.size() + buffer_.size();
  for (auto& m : batch_) drop(m, "shutdown", "not written before the shutdown deadline");
  for (auto& m : buffer_) drop(m, "shutdown", "not written before the shutdown deadline");
  if (left) {
    context_->logger().error("{} metrics were not written before the shutdown deadline", left);
  }
  batch_.clear();
  buffer_.clear();
  inflight_.store(0);
  buffer_gauge_.Set(0);
  return left;
}

std::deque<Metric> OutputWorker::stopAndTakeBuffer() {
  {
    std::lock_guard lock(mu_);
    mode_ = Mode::kStopping;
  }
  if (disk_) disk_->interrupt();
  wake_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  std::deque<Metric> out;
  if (disk_) {
    // What was read and not acknowledged is still on disk: the next owner reads it again.
    batch_.clear();
    inflight_.store(0);
    disk_.reset();  // syncs and releases the directory's lock
    return out;
  }
  for (auto& m : batch_) out.push_back(std::move(m));
  for (auto& m : buffer_) out.push_back(std::move(m));
  batch_.clear();
  buffer_.clear();
  inflight_.store(0);
  return out;
}

}  // namespace cvagent::runtime

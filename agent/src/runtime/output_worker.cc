#include "runtime/output_worker.h"

#include <algorithm>
#include <cmath>

namespace cvagent::runtime {

using Clock = std::chrono::steady_clock;

OutputWorker::OutputWorker(const config::PluginInstanceConfig& config,
                           std::chrono::milliseconds flush_interval, plugins::PluginHandle plugin,
                           std::unique_ptr<observability::InstanceContext> context,
                           std::unique_ptr<Output> output)
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
}

OutputWorker::~OutputWorker() {
  if (thread_.joinable()) stopAndTakeBuffer();
  output_.reset();  // before plugin_ unloads the library
}

void OutputWorker::seed(std::deque<Metric>&& metrics) {
  std::lock_guard lock(mu_);
  for (auto it = metrics.rbegin(); it != metrics.rend(); ++it) buffer_.push_front(std::move(*it));
}

void OutputWorker::start() {
  last_flush_ = Clock::now();
  thread_ = std::thread([this] { run(); });
}

std::size_t OutputWorker::buffered() const {
  std::lock_guard lock(mu_);
  return buffer_.size() + inflight_.load();
}

void OutputWorker::drop(Metric& metric, const char* reason, std::string_view detail) {
  if (const auto& d = metric.delivery()) d->markFailed();
  metric.setDelivery(nullptr);
  dropped_.fetch_add(1, std::memory_order_relaxed);
  context_->telemetry()
      .counter("output_metrics_dropped_total", "Metrics an output dropped, by reason",
               {{"plugin", id_}, {"reason", reason}})
      .Increment();
  drop_log_.warn(context_->logger(), "dropped a '{}' metric ({}): {}", metric.name(), reason,
                 detail);
}

void OutputWorker::push(std::vector<Metric>& metrics) {
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
    context_->setHealth(HealthState::kOk, "");
    attempt = 0;
    return true;
  } catch (const std::exception& e) {
    write_errors_.Increment();
    context_->setHealth(HealthState::kDegraded, std::string("connect failed: ") + e.what());
    log_limit_.error(context_->logger(), "cannot connect: {}; retrying with backoff", e.what());
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
  written_.fetch_add(stored, std::memory_order_relaxed);
  written_counter_.Increment(static_cast<double>(stored));
  if (stored) context_->telemetry().markData(id_, context_->clock().nowNanos());
  inflight_.store(batch_.size());
  {
    std::lock_guard lock(mu_);
    buffer_gauge_.Set(static_cast<double>(buffer_.size() + inflight_.load()));
  }
  space_.notify_all();
  if (batch_.empty()) {
    attempt = 0;
    context_->setHealth(HealthState::kOk, "");
    return;
  }
  write_errors_.Increment();
  const std::string why =
      retry_reason && !retry_reason->empty() ? *retry_reason : "no reason given";
  context_->setHealth(HealthState::kDegraded, "write failed: " + why);
  log_limit_.warn(context_->logger(), "write of {} metrics failed: {}; retrying with backoff",
                  batch_.size(), why);
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
          (Clock::now() >= deadline_ || (buffer_.empty() && batch_.empty())))
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
                       [&] { return mode_ != Mode::kRunning || buffer_.size() >= batch_size_; });
      if (mode_ == Mode::kStopping) break;
      const bool due =
          mode_ == Mode::kDraining || buffer_.size() >= batch_size_ || Clock::now() >= flush_at;
      if (!due) continue;
      last_flush_ = Clock::now();
      if (buffer_.empty()) continue;
      const std::size_t n = std::min(batch_size_, buffer_.size());
      for (std::size_t i = 0; i < n; ++i) {
        batch_.push_back(std::move(buffer_.front()));
        buffer_.pop_front();
      }
      inflight_.store(batch_.size());
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
  wake_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  std::deque<Metric> out;
  for (auto& m : batch_) out.push_back(std::move(m));
  for (auto& m : buffer_) out.push_back(std::move(m));
  batch_.clear();
  buffer_.clear();
  inflight_.store(0);
  return out;
}

}  // namespace cvagent::runtime

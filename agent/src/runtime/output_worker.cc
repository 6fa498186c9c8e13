#include "runtime/output_worker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cvagent::runtime {

using Clock = std::chrono::steady_clock;

namespace {
// A drop keeps the output degraded this long, so a scrape of /health every few seconds sees it.
constexpr auto kDropVisibleFor = std::chrono::seconds(10);
// One wait of the pipeline for room in a `block` buffer longer than this is no longer ordinary
// back-pressure (a batch takes milliseconds to write) but an output that does not move.
constexpr auto kSustainedBlock = std::chrono::seconds(5);
// A drop_oldest buffer this full is about to drop.
constexpr double kNearlyFull = 0.9;
// Least time a close() gets, even past the shutdown deadline.
constexpr auto kCloseGrace = std::chrono::seconds(1);
// The watchdog refreshes /health this often.
constexpr auto kHealthRefresh = std::chrono::seconds(1);

std::int64_t steadyNanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string seconds(std::chrono::milliseconds d) {
  return fmt::format("{:g}s", static_cast<double>(d.count()) / 1000.0);
}
}  // namespace

// Marks one call into the output for the watchdog; end() says how it ended.
class OutputWorker::WatchedCall {
 public:
  WatchedCall(OutputWorker& worker, const char* what, Clock::duration grace = {})
      : worker_(worker) {
    worker_.beginCall(what, grace);
  }
  ~WatchedCall() {
    if (!ended_) worker_.endCall();
  }
  WatchedCall(const WatchedCall&) = delete;
  WatchedCall& operator=(const WatchedCall&) = delete;
  CallEnd end() {
    ended_ = true;
    return worker_.endCall();
  }

 private:
  OutputWorker& worker_;
  bool ended_ = false;
};

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
      depth_(std::max<std::size_t>(1, output_->batchesInFlight())),
      window_(block_when_full_ ? std::min(max_buffer_, (depth_ + 1) * batch_size_) : max_buffer_),
      rng_(std::random_device{}()),
      write_timeout_(config.output.write_timeout),
      written_counter_(context_->telemetry().counter(
          "output_metrics_written_total", "Metrics an output stored", {{"plugin", id_}})),
      write_errors_(context_->telemetry().counter(
          "output_write_errors_total", "Failed writes and connects (retried)", {{"plugin", id_}})),
      timeouts_counter_(context_->telemetry().counter(
          "output_write_timeouts_total",
          "Connects, writes and closes cancelled after write_timeout (then retried)",
          {{"plugin", id_}})),
      blocked_seconds_(context_->telemetry().counter(
          "output_blocked_seconds_total",
          "Time the pipeline waited for room in this output's full buffer (when_full: block)",
          {{"plugin", id_}})),
      buffer_gauge_(context_->telemetry().gauge(
          "output_buffer_metrics", "Metrics waiting in an output's buffer", {{"plugin", id_}})),
      write_seconds_(context_->telemetry().histogram(
          "output_write_duration_seconds", "Time one write() took", {{"plugin", id_}},
          {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30})) {
  batch_.reserve(batch_size_);
  const auto& buffer = config.output.buffer;
  if (buffer.type == "disk") {
    DiskBufferOptions options;
    if (buffer.path.empty()) {
      options.directory = std::move(disk_buffer_dir);
    } else {
      options.directory = buffer.path;
    }
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
    // Called with the disk buffer's lock held: only the leaf disk_state_mu_ is taken here;
    // refreshHealth (the watchdog, every second, and after each call) shows it on /health.
    listener.disk_state = [this](bool failing, const std::string& detail) {
      std::lock_guard lock(disk_state_mu_);
      disk_failure_ = failing ? detail : std::string();
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
  if (thread_.joinable()) {
    for (auto& m : stopAndTakeBuffer()) drop(m, "discarded", "the output stopped without a drain");
  }
  stopWatchdog();
  // Never started (a reload whose pipeline failed to build): what it holds is not delivered. A
  // disk buffer's batch is still on disk (its delivery was acknowledged there): nothing to drop.
  reclaimFlights();
  if (disk_) batch_.clear();
  for (auto& m : batch_) drop(m, "discarded", "the output was discarded before it ran");
  for (auto& m : buffer_) drop(m, "discarded", "the output was discarded before it ran");
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
  watchdog_ = std::thread([this] { watch(); });
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
    batch_.reserve(n);  // a stored batch_ went to returns_ whole, capacity and all
    for (std::size_t i = 0; i < n; ++i) {
      batch_.push_back(std::move(buffer_.front()));
      buffer_.pop_front();
    }
  }
  updateInflight();
}

void OutputWorker::pushToDisk(std::vector<Metric>& metrics) {
  const std::size_t metrics_count = metrics.size();
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
  // A disk that fails, or drops, show on /health now, not at the watchdog's next refresh.
  if (stored < metrics_count || disk_full) refreshHealth();
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
  last_drop_ns_.store(steadyNanos(Clock::now()), std::memory_order_relaxed);
  context_->telemetry()
      .counter("output_metrics_dropped_total", "Metrics an output dropped, by reason",
               {{"plugin", id_}, {"reason", reason}})
      .Increment();
  drop_log_.warn(context_->logger(), "dropped a '{}' metric ({}): {}", metric.name(), reason,
                 detail);
}

// ---------------------------------------------------------------- buffer (memory)
bool OutputWorker::full() const {
  return buffer_.size() + inflight_.load() >= (failing_ ? max_buffer_ : window_);
}

void OutputWorker::push(std::vector<Metric>& metrics) {
  if (disk_) {
    pushToDisk(metrics);
    return;
  }
  std::unique_lock lock(mu_);
  for (auto& m : metrics) {
    if (full()) makeRoom(lock);
    // Still full: drop_oldest with a whole buffer in flight, or block past the shutdown deadline.
    // While stopping for a reload the buffer may overflow: it is handed over whole.
    if (full() && mode_ != Mode::kStopping) {
      if (Clock::now() >= shutdown_deadline_) {
        drop(m, "shutdown", "the output had no room for it before the shutdown deadline");
      } else {
        drop(m, "buffer_full",
             "the buffer is full; raise buffer.max or set buffer.when_full: block");
      }
      continue;
    }
    buffer_.push_back(std::move(m));
  }
  metrics.clear();
  buffer_gauge_.Set(static_cast<double>(buffer_.size() + inflight_.load()));
  if (buffer_.size() >= batch_size_) wake_.notify_one();
}

void OutputWorker::makeRoom(std::unique_lock<std::mutex>& lock) {
  if (!block_when_full_) {
    while (full() && !buffer_.empty()) {
      drop(buffer_.front(), "buffer_full",
           "the buffer is full; raise buffer.max or set buffer.when_full: block");
      buffer_.pop_front();
    }
    return;
  }
  // Back-pressure: the chain thread waits, then the queue fills, then the inputs wait. Until the
  // shutdown deadline at most: past it, shutdown must end.
  const auto since = Clock::now();
  blocked_since_ns_.store(steadyNanos(since), std::memory_order_relaxed);
  wake_.notify_one();  // a full buffer holds a batch: the worker must not wait for the interval
  while (full() && mode_ != Mode::kStopping && Clock::now() < shutdown_deadline_) {
    space_.wait_until(lock, std::min(shutdown_deadline_, Clock::now() + kHealthRefresh));
  }
  blocked_since_ns_.store(0, std::memory_order_relaxed);
  blocked_seconds_.Increment(std::chrono::duration<double>(Clock::now() - since).count());
}

bool OutputWorker::pastDeadline() const {
  // mode_ and deadline_ are set by drainAndStop() on another thread (a race ThreadSanitizer found).
  std::lock_guard lock(mu_);
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
  std::string error;
  WatchedCall call(*this, "connect");
  try {
    output_->connect();
  } catch (const std::exception& e) {
    error = e.what();
  }
  const CallEnd end = call.end();
  if (error.empty() && end == CallEnd::kReturned) {
    connected_once_.store(true);
    setFailure("");
    attempt = 0;
    return true;
  }
  if (end == CallEnd::kTimedOut) {
    error = fmt::format("timed out after {} (write_timeout){}", seconds(write_timeout_),
                        error.empty() ? "" : ": " + error);
  } else if (error.empty()) {
    error = "cancelled at the shutdown deadline";
  }
  write_errors_.Increment();
  setFailure("connect failed: " + error);
  log_limit_.error(context_->logger(), "cannot connect: {}; retrying with backoff", error);
  return false;
}

std::size_t OutputWorker::settle(std::vector<Metric>& batch, const WriteResult& result,
                                 std::string& retry_reason) {
  std::vector<WriteStatus> status(batch.size(), result.status());
  std::vector<const std::string*> reason(batch.size(), &result.reason());
  for (const auto& ex : result.exceptions()) {
    if (ex.index < status.size()) {
      status[ex.index] = ex.status;
      reason[ex.index] = &ex.reason;
    }
  }
  std::size_t kept = 0, stored = 0;
  const std::string* first_retry = nullptr;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    switch (status[i]) {
      case WriteStatus::kOk:
        ++stored;
        break;
      case WriteStatus::kReject:
        drop(batch[i], "rejected", *reason[i]);
        break;
      case WriteStatus::kRetry:
        if (!first_retry) first_retry = reason[i];
        if (kept != i) batch[kept] = std::move(batch[i]);
        ++kept;
        continue;
    }
  }
  // Stored and rejected metrics leave here: their delivery handles are released. A disk buffer's
  // metrics were read back on this thread, so they are freed here too.
  if (kept == 0 && returns_ && !disk_ && !batch.empty()) {
    for (Metric& metric : batch) {
      if (metric.delivery()) metric.setDelivery(nullptr);
    }
    returns_->give(std::move(batch));
    batch.clear();  // moved from: valid, and now surely empty
  } else {
    batch.resize(kept);
  }
  if (first_retry && retry_reason.empty()) {
    retry_reason = first_retry->empty() ? "no reason given" : *first_retry;
  }
  return stored;
}

void OutputWorker::updateInflight() { inflight_.store(batch_.size() + flight_metrics_); }

void OutputWorker::reclaimFlights() {
  for (auto& flight : flights_) {
    batch_.insert(batch_.end(), std::make_move_iterator(flight.metrics.begin()),
                  std::make_move_iterator(flight.metrics.end()));
    batch_end_ = flight.end;
  }
  flights_.clear();
  flight_metrics_ = 0;
  updateInflight();
}

void OutputWorker::afterSettle(std::size_t stored) {
  written_.fetch_add(stored, std::memory_order_relaxed);
  written_counter_.Increment(static_cast<double>(stored));
  if (stored) context_->telemetry().markData(id_, context_->clock().nowNanos());
  updateInflight();
  {
    std::lock_guard lock(mu_);
    buffer_gauge_.Set(static_cast<double>(waiting() + inflight_.load()));
  }
  space_.notify_all();
}

void OutputWorker::writeBatch(int& attempt, bool& connected) {
  WriteResult result = WriteResult::retry("");
  bool threw = false;
  const auto start = Clock::now();
  WatchedCall call(*this, "write");
  try {
    result = output_->write(std::span<const Metric>(batch_.data(), batch_.size()));
  } catch (const std::exception& e) {
    result = WriteResult::retry(e.what());
    threw = true;
  }
  const CallEnd end = call.end();
  write_seconds_.Observe(std::chrono::duration<double>(Clock::now() - start).count());

  std::string why;
  const std::size_t stored = settle(batch_, result, why);
  if (disk_ && batch_.empty()) disk_->acknowledge(batch_end_);
  afterSettle(stored);
  if (batch_.empty()) {
    attempt = 0;
    setFailure("");
    return;
  }
  failedWrite(attempt, connected, std::move(why), threw, end);
}

void OutputWorker::failedWrite(int& attempt, bool& connected, std::string why, bool threw,
                               CallEnd end) {
  write_errors_.Increment();
  if (why.empty()) why = "no reason given";
  if (end == CallEnd::kTimedOut) {
    why = fmt::format("timed out after {} (write_timeout), cancelled: {}", seconds(write_timeout_),
                      why);
  }
  setFailure("write failed: " + why);
  log_limit_.warn(context_->logger(), "write of {} metrics failed: {}; retrying with backoff",
                  batch_.size(), why);
  // An exception or a cancelled call leaves the connection suspect: reconnect.
  if (threw || end != CallEnd::kReturned) connected = false;
  backoff(attempt);
}

void OutputWorker::reapWhileIdle(std::unique_lock<std::mutex>& lock) {
  if (!returns_) return;
  // A flush interval passed with nothing to write: no input is emitting to free what this worker
  // gave back, so it frees it itself (not under mu_: pushes must not wait for that).
  lock.unlock();
  returns_->reap();
  lock.lock();
}

void OutputWorker::pump(int& attempt, bool& connected) {
  bool stopping = false;
  if (flights_.size() < depth_) {
    bool sending = false;
    {
      std::unique_lock lock(mu_);
      stopping = mode_ == Mode::kStopping;
      if (stopping && flights_.empty()) return;
      if (mode_ != Mode::kStopping) {
        const auto flush_at = last_flush_ + flush_interval_;
        if (flights_.empty()) {  // nothing to collect meanwhile: sleep until a batch is due
          wake_.wait_until(lock, flush_at,
                           [&] { return mode_ != Mode::kRunning || waiting() >= batch_size_; });
          if (mode_ == Mode::kStopping) return;
          if (waiting() == 0) {
            reapWhileIdle(lock);
            if (mode_ == Mode::kStopping) return;  // requested while mu_ was let go
          }
        }
        const auto now = Clock::now();
        if (waiting() > 0 &&
            (mode_ == Mode::kDraining || waiting() >= batch_size_ || now >= flush_at)) {
          last_flush_ = now;
          takeBatch();
          sending = true;
        } else if (waiting() == 0 && now >= flush_at) {
          last_flush_ = now;
        }
      }
    }
    if (sending) {
      if (batch_.empty()) {  // only damaged records were read: skip them for good, in order
        if (!disk_) return;
        if (flights_.empty()) {
          disk_->acknowledge(batch_end_);
        } else {
          flights_.back().end = batch_end_;
        }
        return;
      }
      Flight& flight = flights_.emplace_back(Flight{std::move(batch_), batch_end_, Clock::now()});
      batch_ = {};
      batch_.reserve(batch_size_);
      flight_metrics_ += flight.metrics.size();
      updateInflight();
      std::string refused;
      {
        WatchedCall call(*this, "write");
        try {
          output_->send(std::span<const Metric>(flight.metrics.data(), flight.metrics.size()));
        } catch (const std::exception& e) {
          refused = e.what();
        }
      }
      if (!refused.empty()) {  // not taken: retried with what is in flight before it
        std::string why = refused;
        Flight failed = std::move(flights_.back());
        flights_.pop_back();
        flight_metrics_ -= failed.metrics.size();
        bool threw = true;
        CallEnd end = CallEnd::kReturned;
        collectAll(why, threw, end);
        batch_.insert(batch_.end(), std::make_move_iterator(failed.metrics.begin()),
                      std::make_move_iterator(failed.metrics.end()));
        batch_end_ = failed.end;
        updateInflight();
        failedWrite(attempt, connected, std::move(why), true, end);
      }
      return;
    }
    if (flights_.empty()) return;
  }

  // Nothing to send now: the oldest batch's result. A short wait while more could be sent, so a
  // batch that becomes due meanwhile is not held back by the one in flight.
  const bool room = flights_.size() < depth_ && !stopping;
  std::optional<WriteResult> result;
  bool threw = false;
  CallEnd end = CallEnd::kReturned;
  {
    WatchedCall call(*this, "write");
    try {
      result =
          output_->collect(room ? std::chrono::milliseconds(1) : std::chrono::milliseconds(50));
    } catch (const std::exception& e) {
      result = WriteResult::retry(e.what());
      threw = true;
    }
    end = call.end();
  }
  if (!result) return;
  Flight flight = std::move(flights_.front());
  flights_.pop_front();
  flight_metrics_ -= flight.metrics.size();
  write_seconds_.Observe(std::chrono::duration<double>(Clock::now() - flight.sent).count());
  std::string why;
  const std::size_t stored = settle(flight.metrics, *result, why);
  if (flight.metrics.empty()) {
    if (disk_) disk_->acknowledge(flight.end);  // every earlier batch is stored already
    afterSettle(stored);
    attempt = 0;
    setFailure("");
    return;
  }
  // A retry: the batches after it are collected first, then it is retried with their leftovers,
  // in order, through write().
  batch_ = std::move(flight.metrics);
  batch_end_ = flight.end;
  collectAll(why, threw, end);
  afterSettle(stored);
  failedWrite(attempt, connected, std::move(why), threw, end);
}

void OutputWorker::collectAll(std::string& retry_reason, bool& threw, CallEnd& end) {
  while (!flights_.empty()) {
    std::optional<WriteResult> result;
    {
      WatchedCall call(*this, "write");
      try {
        result = output_->collect(std::chrono::milliseconds(50));
      } catch (const std::exception& e) {
        result = WriteResult::retry(e.what());
        threw = true;
      }
      const CallEnd this_end = call.end();
      if (this_end != CallEnd::kReturned) end = this_end;
    }
    if (!result) continue;
    Flight flight = std::move(flights_.front());
    flights_.pop_front();
    flight_metrics_ -= flight.metrics.size();
    const std::size_t stored = settle(flight.metrics, *result, retry_reason);
    batch_.insert(batch_.end(), std::make_move_iterator(flight.metrics.begin()),
                  std::make_move_iterator(flight.metrics.end()));
    batch_end_ = flight.end;
    afterSettle(stored);
  }
}

void OutputWorker::closeOutput() {
  // A close comes after the shutdown deadline has often passed: it still gets a moment to say
  // goodbye to the server before it is cancelled.
  WatchedCall call(*this, "close", kCloseGrace);
  try {
    output_->close();
  } catch (const std::exception& e) {
    context_->logger().warn("close failed: {}", e.what());
  }
}

void OutputWorker::setFailure(std::string why) {
  const bool failing = !why.empty();
  {
    std::lock_guard lock(mu_);
    if (failing_ != failing) {
      failing_ = failing;
      if (failing) space_.notify_all();  // the buffer may now fill up to buffer.max
    }
  }
  {
    std::lock_guard lock(health_mu_);
    failure_ = std::move(why);
    context_->telemetry().setConnected(id_, failure_.empty() && connected_once_.load());
  }
  refreshHealth();
}

void OutputWorker::refreshHealth() {
  std::lock_guard health_lock(health_mu_);
  std::string why = failure_;
  auto add = [&why](const std::string& reason) { why += (why.empty() ? "" : "; ") + reason; };
  const std::int64_t now = steadyNanos(Clock::now());
  const std::int64_t last_drop = last_drop_ns_.load(std::memory_order_relaxed);
  if (last_drop && now - last_drop < std::chrono::nanoseconds(kDropVisibleFor).count()) {
    add(fmt::format("dropping metrics ({} dropped so far, see output_metrics_dropped_total)",
                    dropped_.load()));
  }
  const std::int64_t blocked = blocked_since_ns_.load(std::memory_order_relaxed);
  if (blocked && now - blocked >= std::chrono::nanoseconds(kSustainedBlock).count()) {
    add(fmt::format("falling behind: inputs have waited {}s for room (when_full: block)",
                    (now - blocked) / 1'000'000'000));
  }
  {
    std::lock_guard lock(disk_state_mu_);
    if (!disk_failure_.empty()) add(disk_failure_);  // a failing disk buffer, though writes work
  }
  if (!block_when_full_ && !disk_) {
    const std::size_t held = buffered();
    if (static_cast<double>(held) >= kNearlyFull * static_cast<double>(max_buffer_)) {
      add(fmt::format("buffer nearly full ({} of {}), the oldest metrics will be dropped", held,
                      max_buffer_));
    }
  }
  if (why.empty() && !connected_once_.load()) return;  // still starting
  context_->setHealth(why.empty() ? HealthState::kOk : HealthState::kDegraded, why);
}

// ---------------------------------------------------------------- watchdog
void OutputWorker::beginCall(const char* what, Clock::duration grace) {
  {
    std::lock_guard lock(call_mu_);
    const auto now = Clock::now();
    call_.what = what;
    call_.active = true;
    call_.cancelled = false;
    call_.at_shutdown = false;
    call_.deadline = write_timeout_.count() > 0 ? now + write_timeout_ : Clock::time_point::max();
    const auto stop = std::max(stop_deadline_, now + grace);
    if (stop < call_.deadline) {
      call_.deadline = stop;
      call_.at_shutdown = true;
    }
  }
  call_cv_.notify_all();
}

OutputWorker::CallEnd OutputWorker::endCall() {
  // Waits while the watchdog is inside cancel(): once this returns, no cancel() of this call runs.
  std::lock_guard lock(call_mu_);
  call_.active = false;
  if (!call_.cancelled) return CallEnd::kReturned;
  return call_.at_shutdown ? CallEnd::kCancelledAtShutdown : CallEnd::kTimedOut;
}

void OutputWorker::watch() {
  std::unique_lock lock(call_mu_);
  auto next_refresh = Clock::now() + kHealthRefresh;
  while (!watch_stop_) {
    const auto now = Clock::now();
    if (now >= next_refresh) {
      lock.unlock();
      refreshHealth();
      lock.lock();
      next_refresh = now + kHealthRefresh;
      continue;
    }
    const bool armed = call_.active && !call_.cancelled;
    if (!armed || now < call_.deadline) {
      call_cv_.wait_until(lock, armed ? std::min(call_.deadline, next_refresh) : next_refresh);
      continue;
    }
    call_.cancelled = true;
    if (call_.at_shutdown) {
      context_->logger().warn("cancelling the {} in progress: the shutdown deadline passed",
                              call_.what);
    } else {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      timeouts_counter_.Increment();
      std::string why = fmt::format("{} hung for {} (write_timeout): cancelled, will retry",
                                    call_.what, seconds(write_timeout_));
      log_limit_.error(context_->logger(), "{}", why);
      {
        std::lock_guard health_lock(health_mu_);
        failure_ = why;
        context_->telemetry().setConnected(id_, false);
      }
      context_->setHealth(HealthState::kDegraded, why);
    }
    // Under call_mu_, so the call cannot end and the next one begin before cancel() returns.
    try {
      output_->cancel();
    } catch (const std::exception& e) {
      context_->logger().warn("cancel failed: {}", e.what());
    }
  }
}

void OutputWorker::stopWatchdog() {
  {
    std::lock_guard lock(call_mu_);
    watch_stop_ = true;
  }
  call_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void OutputWorker::run() {
  bool connected = false;
  int attempt = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      // Stopping: the batches in flight are finished first (as a write in progress is).
      if (mode_ == Mode::kStopping && flights_.empty()) break;
      if (mode_ == Mode::kDraining &&
          (Clock::now() >= deadline_ || (waiting() == 0 && batch_.empty() && flights_.empty())))
        break;
    }
    if (!connected) {
      connected = connect(attempt);
      if (!connected) {
        if (!backoff(attempt)) break;
        continue;
      }
    }
    if (depth_ > 1 && batch_.empty()) {
      pump(attempt, connected);
      if (pastDeadline()) break;
      continue;
    }
    if (batch_.empty()) {
      std::unique_lock lock(mu_);
      const auto flush_at = last_flush_ + flush_interval_;
      wake_.wait_until(lock, flush_at,
                       [&] { return mode_ != Mode::kRunning || waiting() >= batch_size_; });
      if (mode_ == Mode::kStopping) break;
      if (waiting() == 0) {
        reapWhileIdle(lock);
        if (mode_ == Mode::kStopping) break;  // requested while mu_ was let go
      }
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
  closeOutput();
}

void OutputWorker::beginShutdown(Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    shutdown_deadline_ = std::min(shutdown_deadline_, deadline);
  }
  space_.notify_all();
  {
    // A call still running at the deadline is cancelled, so shutdown ends on time even when the
    // output hangs.
    std::lock_guard lock(call_mu_);
    stop_deadline_ = std::min(stop_deadline_, deadline);
    if (call_.active && stop_deadline_ < call_.deadline) {
      call_.deadline = stop_deadline_;
      call_.at_shutdown = true;
    }
  }
  call_cv_.notify_all();
}

std::size_t OutputWorker::drainAndStop(Clock::time_point deadline) {
  beginShutdown(deadline);
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
  stopWatchdog();
  reclaimFlights();  // unconfirmed: not stored as far as anyone knows
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

void OutputWorker::requestStop() {
  {
    std::lock_guard lock(mu_);
    mode_ = Mode::kStopping;
  }
  if (disk_) disk_->interrupt();
  wake_.notify_all();
  space_.notify_all();
}

std::deque<Metric> OutputWorker::stopAndTakeBuffer() {
  requestStop();
  if (thread_.joinable()) thread_.join();
  stopWatchdog();
  reclaimFlights();  // unconfirmed: not stored as far as anyone knows
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

#include "kraken_input.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include "cvagent/codec.h"
#include "decoder.h"
#include "gulping_stream.h"
#include "recording.h"
#include "rest_client.h"
#include "tls_client.h"

namespace cvagent::inputs::kraken {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using SteadyClock = std::chrono::steady_clock;

// Channel names in subscription order; a subscribe's req_id is its index + 1, so a failure ack
// that names no channel can still be tied to one.
constexpr std::array<std::string_view, 4> kChannels = {"ticker", "trade", "ohlc", "book"};
constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;
constexpr std::size_t kRestPageRows = 1000;  // Kraken's page size for /0/public/Trades
constexpr int kMaxBackfillPages = 50;

int channelReqId(std::string_view channel) {
  for (std::size_t i = 0; i < kChannels.size(); ++i) {
    if (kChannels[i] == channel) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::int64_t intervalMinutes(std::string_view name) {
  static constexpr std::pair<std::string_view, std::int64_t> kIntervals[] = {
      {"1m", 1},   {"5m", 5},    {"15m", 15},   {"30m", 30},   {"1h", 60},
      {"4h", 240}, {"1d", 1440}, {"1w", 10080}, {"15d", 21600}};
  for (const auto& [n, m] : kIntervals) {
    if (n == name) return m;
  }
  return 1;
}

// A short printable excerpt of a frame for log lines (frames can be megabytes of anything).
std::string excerpt(std::string_view frame) {
  std::string out;
  for (std::size_t i = 0; i < frame.size() && i < 120; ++i) {
    const auto u = static_cast<unsigned char>(frame[i]);
    if (u >= 0x20 && u < 0x7f) {
      out += frame[i];
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (frame.size() > 120) out += fmt::format("... ({} bytes)", frame.size());
  return out;
}

// Where the frame loop's reads complete. Beast completes a message already in its read buffer
// with a post, and Asio's scheduler polls the reactor (a non-blocking epoll_wait) between any two
// handlers, so without this every frame of a burst costs a scheduler round trip and a system call
// (more than half the input thread's time at a few hundred thousand frames/s). This executor runs
// a completion at once when it is already on the input's thread, nested at most kMaxDepth deep so
// a long burst cannot grow the stack, and queues it otherwise. Only the frame loop's own
// completions use it; Beast's and Asio's internal work stays on the io_context's executor.
class InlineCompletions {
 public:
  using Inner = asio::io_context::executor_type;
  explicit InlineCompletions(Inner inner) : inner_(inner) {}

  asio::execution_context& query(asio::execution::context_t) const noexcept {
    return inner_.context();
  }
  static constexpr asio::execution::blocking_t query(asio::execution::blocking_t) noexcept {
    return asio::execution::blocking.possibly;
  }
  // post() asks for this: a completion is still never run inside the initiating call from another
  // thread, only on the input's own thread, where the frame loop waits for it.
  InlineCompletions require(asio::execution::blocking_t::never_t) const noexcept { return *this; }

  template <typename Function>
  void execute(Function&& f) const {
    if (depth_ < kMaxDepth && inner_.running_in_this_thread()) {
      ++depth_;
      struct Unnest {
        ~Unnest() { --depth_; }
      } unnest;
      std::forward<Function>(f)();
      return;
    }
    asio::execution::execute(asio::require(inner_, asio::execution::blocking.never),
                             std::forward<Function>(f));
  }

  friend bool operator==(const InlineCompletions& a, const InlineCompletions& b) noexcept {
    return a.inner_ == b.inner_;
  }
  friend bool operator!=(const InlineCompletions& a, const InlineCompletions& b) noexcept {
    return !(a == b);
  }

 private:
  static constexpr int kMaxDepth = 8;
  static inline thread_local int depth_ = 0;
  Inner inner_;
};

// The socket's executor is the io_context's own type, not the type-erased any_io_executor:
// Beast copies and compares the stream's executor in every operation (work guards, dispatch
// checks), several times per frame.
using TcpStream = beast::basic_stream<tcp, asio::io_context::executor_type>;

}  // namespace

bool parseEndpoint(std::string_view url, Endpoint& out, std::string& error, std::string_view plain,
                   std::string_view secure) {
  Endpoint ep;
  std::string_view rest;
  const auto scheme_end = url.find("://");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme_end != std::string_view::npos && (scheme == secure || scheme == plain)) {
    ep.tls = scheme == secure;
    rest = url.substr(scheme_end + 3);
  } else {
    error = fmt::format("url '{}' must start with {}:// or {}://", url, plain, secure);
    return false;
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) ep.target = std::string(rest.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    ep.host = std::string(authority.substr(0, colon));
    ep.port = std::string(authority.substr(colon + 1));
  } else {
    ep.host = std::string(authority);
    ep.port = ep.tls ? "443" : "80";
  }
  if (ep.host.empty() || ep.port.empty() ||
      !std::all_of(ep.port.begin(), ep.port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    error = fmt::format("url '{}' has no valid host and port", url);
    return false;
  }
  out = std::move(ep);
  return true;
}

class KrakenInput::Impl {
 public:
  Impl(const KrakenOptions& options, PluginContext& context)
      : options_(options),
        ctx_(context),
        decoder_(std::make_unique<Decoder>(
            DecoderConfig{.pairs = options.pairs,
                          .book_depth = static_cast<std::size_t>(options.book_depth),
                          .book_levels = static_cast<std::size_t>(options.book_levels)})),
        rest_(options.rest_url, options.tls_ca_file, options.connect_timeout, stopping_),
        reconnects_(context.counter("reconnects_total", "Reconnects to the Kraken WebSocket.")),
        malformed_(context.counter("malformed_frames_total",
                                   "Frames dropped (wholly or in part) as malformed.")),
        stalls_(context.counter("stalls_total", "Connections dropped after stall_timeout.")),
        subscription_errors_(
            context.counter("subscription_errors_total", "Subscriptions Kraken refused.")),
        book_resyncs_(context.counter("book_resyncs_total",
                                      "Book checksum mismatches, each followed by a resubscribe.")),
        backfilled_(context.counter("backfilled_trades_total",
                                    "Trades fetched from REST after a reconnect.")),
        rest_errors_(context.counter("rest_errors_total", "Failed REST backfill requests.")),
        foreign_(context.counter("foreign_records_total",
                                 "Records for symbols that were not subscribed, dropped.")),
        duplicate_trades_(context.counter(
            "duplicate_trades_total",
            "Trades skipped as already delivered: Kraken's resend of recent trades on "
            "(re)subscribe, and REST backfill rows the stream had delivered.")),
        out_of_order_trades_(context.counter(
            "out_of_order_trades_total",
            "Trades of a live update skipped because their id was at or below one already "
            "delivered for the pair (out of order or sent twice).")) {
    if (options_.replay.empty()) {
      std::string error;
      if (!parseEndpoint(options_.url, endpoint_, error)) throw std::invalid_argument(error);
      if (endpoint_.tls) ssl_ = makeVerifyingTlsContext(options_.tls_ca_file);
    }
    if (!options_.record.empty()) recorder_ = std::make_unique<Recorder>(options_.record);
  }

  ~Impl() {
    stop();
    current_.reset();
  }

  void start(Emitter& out) {
    out_ = &out;
    ctx_.setHealth(HealthState::kStarting, "connecting");
    if (!options_.replay.empty()) {
      thread_ = std::thread([this] { replayLoop(); });
      return;
    }
    asio::co_spawn(io_, runLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    if (!stopping_.exchange(true)) {
      {
        std::lock_guard lock(replay_mu_);
        replay_cv_.notify_all();
      }
      asio::post(io_, [this] {
        backoff_timer_.cancel();
        if (current_) current_->close();
      });
    }
    if (thread_.joinable()) thread_.join();
    if (recorder_) recorder_->flush();
  }

 private:
  // What one WebSocket connection shares with its writer and watchdog coroutines.
  struct Session {
    explicit Session(const asio::any_io_executor& ex) : writer_wake(ex), watchdog(ex) {}
    bool alive = true;
    bool stalled = false;
    int helpers = 0;
    asio::steady_timer writer_wake;
    asio::steady_timer watchdog;
    std::deque<std::string> outbox;
    // Frames received so far: the watchdog sees progress by the count changing, so a frame
    // costs no clock read for it.
    std::uint64_t frames = 0;
    std::function<void()> close_socket;

    void close() {
      alive = false;
      writer_wake.cancel();
      watchdog.cancel();
      if (close_socket) close_socket();
    }
    void send(std::string message) {
      outbox.push_back(std::move(message));
      writer_wake.cancel();
    }
  };

  // --- connection loop -----------------------------------------------------------------------
  awaitable<void> runLoop() {
    const Backoff backoff(reconnectBackoff(options_));
    int attempt = 0;
    std::mt19937_64 rng{std::random_device{}()};
    while (!stopping_) {
      bool got_data = false;
      std::string error;
      try {
        co_await connectAndRun(got_data);
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (stopping_) break;
      if (got_data) attempt = 0;  // that session worked: start over
      const std::chrono::milliseconds delay = backoff.delay(attempt++, rng);
      reconnects_.inc();
      const std::string detail = fmt::format("{}; reconnecting in {} ms", error, delay.count());
      // Reconnecting is degraded, never failed: a restart would not bring Kraken back, and a
      // liveness probe answered 503 would restart the agent in a loop through an outage.
      ctx_.setHealth(HealthState::kDegraded, detail);
      health_ok_ = false;
      ctx_.logger().warn("connection to {} ended: {}", options_.url, detail);
      backoff_timer_.expires_after(delay);
      beast::error_code ec;
      co_await backoff_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<void> connectAndRun(bool& got_data) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    const auto endpoints =
        co_await resolver.async_resolve(endpoint_.host, endpoint_.port, use_awaitable);
    if (stopping_) co_return;
    if (endpoint_.tls) {
      websocket::stream<beast::ssl_stream<TcpStream>> ws(io_.get_executor(), *ssl_);
      beast::get_lowest_layer(ws).expires_after(options_.connect_timeout);
      co_await beast::get_lowest_layer(ws).async_connect(endpoints, use_awaitable);
      expectHost(ws.next_layer(), endpoint_.host);
      co_await ws.next_layer().async_handshake(ssl::stream_base::client, use_awaitable);
      co_await handshakeAndRun(ws, got_data);
    } else {
      websocket::stream<GulpingStream<TcpStream>> ws(io_.get_executor());
      beast::get_lowest_layer(ws).expires_after(options_.connect_timeout);
      co_await beast::get_lowest_layer(ws).async_connect(endpoints, use_awaitable);
      co_await handshakeAndRun(ws, got_data);
    }
  }

  template <typename Ws>
  awaitable<void> handshakeAndRun(Ws& ws, bool& got_data) {
    auto ex = co_await asio::this_coro::executor;
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // our watchdog judges liveness
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "cvagent-kraken");
    }));
    ws.read_message_max(kMaxMessageBytes);
    const bool default_port = endpoint_.port == (endpoint_.tls ? "443" : "80");
    const std::string host_header =
        default_port ? endpoint_.host : endpoint_.host + ":" + endpoint_.port;
    co_await ws.async_handshake(host_header, endpoint_.target, use_awaitable);
    ctx_.logger().info("connected to {}", options_.url);

    auto session = std::make_shared<Session>(ex);
    session->close_socket = [&ws] {
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);
    };
    current_ = session;
    decoder_->resetBooks();  // the new snapshots are authoritative

    std::exception_ptr failure;
    try {
      backfillTrades();
      for (const auto& request : subscribeRequests()) {
        if (!session->alive) break;
        co_await ws.async_write(asio::buffer(request), use_awaitable);
      }
      session->helpers = 2;
      asio::co_spawn(ex, writer(ws, session), asio::detached);
      asio::co_spawn(ex, watchdog(session), asio::detached);
      co_await asio::co_spawn(InlineCompletions(io_.get_executor()),
                              readFrames(ws, session.get(), got_data), use_awaitable);
    } catch (const std::exception&) {
      failure = std::current_exception();
    }
    const bool stalled = session->stalled;
    session->close();
    asio::steady_timer wait(ex);
    while (session->helpers > 0) {
      wait.expires_after(std::chrono::milliseconds(1));
      beast::error_code ec;
      co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    current_.reset();
    if (stalled) {
      throw std::runtime_error(
          fmt::format("stalled: no frame for {} ms", options_.stall_timeout.count()));
    }
    if (failure) std::rethrow_exception(failure);
    if (!stopping_) throw std::runtime_error("connection closed");
  }

  // The frame loop, run on InlineCompletions: a frame Beast already holds costs no trip through
  // the scheduler. Its coroutine is typed on that executor (not any_io_executor), so resuming it
  // per frame copies no type-erased executor.
  template <typename Ws>
  awaitable<void, InlineCompletions> readFrames(Ws& ws, Session* session, bool& got_data) {
    constexpr asio::use_awaitable_t<InlineCompletions> on_frame_loop;
    beast::flat_buffer buffer;
    while (session->alive) {
      buffer.clear();
      co_await ws.async_read(buffer, on_frame_loop);
      ++session->frames;
      got_data = true;
      const auto data = buffer.cdata();
      onFrame(std::string_view(static_cast<const char*>(data.data()), data.size()),
              ctx_.clock().nowNanos(), session);
    }
  }

  template <typename Ws>
  awaitable<void> writer(Ws& ws, std::shared_ptr<Session> s) {
    try {
      while (s->alive) {
        if (s->outbox.empty()) {
          s->writer_wake.expires_after(options_.ping_interval);
          beast::error_code ec;
          co_await s->writer_wake.async_wait(asio::redirect_error(use_awaitable, ec));
          if (!s->alive) break;
          if (!ec && s->outbox.empty()) {
            s->outbox.push_back(fmt::format(R"({{"method":"ping","req_id":{}}})", ++ping_id_));
          }
        }
        while (s->alive && !s->outbox.empty()) {
          const std::string message = std::move(s->outbox.front());
          s->outbox.pop_front();
          co_await ws.async_write(asio::buffer(message), use_awaitable);
        }
      }
    } catch (const std::exception& e) {
      if (s->alive) {
        ctx_.logger().warn("write to {} failed: {}", options_.url, e.what());
        s->close();
      }
    }
    --s->helpers;
  }

  awaitable<void> watchdog(std::shared_ptr<Session> s) {
    const auto period = std::max<std::chrono::milliseconds>(options_.stall_timeout / 4,
                                                            std::chrono::milliseconds(5));
    std::uint64_t frames_seen = s->frames;
    auto last_rx = SteadyClock::now();
    while (s->alive) {
      s->watchdog.expires_after(period);
      beast::error_code ec;
      co_await s->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
      if (!s->alive) break;
      const auto now = SteadyClock::now();
      if (s->frames != frames_seen) {
        frames_seen = s->frames;
        last_rx = now;
      }
      if (now - last_rx > options_.stall_timeout) {
        stalls_.inc();
        s->stalled = true;
        s->close();
        break;
      }
    }
    --s->helpers;
  }

  std::vector<std::string> subscribeRequests() const {
    std::vector<std::string> requests;
    for (const auto channel : kChannels) {
      if (std::find(options_.channels.begin(), options_.channels.end(), channel) ==
          options_.channels.end()) {
        continue;
      }
      std::vector<std::string> symbols;
      for (const auto& pair : options_.pairs) {
        if (!rejected_.count({std::string(channel), pair})) symbols.push_back(pair);
      }
      if (!symbols.empty()) {
        requests.push_back(subscription("subscribe", channel, symbols));
      }
    }
    return requests;
  }

  std::string subscription(std::string_view method, std::string_view channel,
                           const std::vector<std::string>& symbols) const {
    std::string out =
        fmt::format(R"({{"method":"{}","params":{{"channel":"{}","symbol":[)", method, channel);
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (i) out += ',';
      codec::appendJsonString(symbols[i], out);
    }
    out += ']';
    if (channel == "ohlc") {
      out += fmt::format(R"(,"interval":{})", intervalMinutes(options_.ohlc_interval));
    }
    if (channel == "book") out += fmt::format(R"(,"depth":{})", options_.book_depth);
    // The trade snapshot default is disputed between doc versions: always say it.
    if (method == "subscribe") out += R"(,"snapshot":true)";
    out += fmt::format(R"(}},"req_id":{}}})", channelReqId(channel));
    return out;
  }

  // Trades missed while disconnected, from REST, before the stream resumes. Blocking, on the
  // input's own thread, and only for pairs that already had trades (a first connect needs none).
  void backfillTrades() {
    if (!options_.rest_backfill || std::find(options_.channels.begin(), options_.channels.end(),
                                             "trade") == options_.channels.end()) {
      return;
    }
    for (const auto& pair : options_.pairs) {
      if (decoder_->lastTradeId(pair) < 0 || stopping_) continue;
      std::string cursor = std::to_string(decoder_->lastTradeTime(pair));
      std::size_t emitted = 0;
      std::size_t repeated = 0;
      try {
        for (int page = 0; page < kMaxBackfillPages && !stopping_; ++page) {
          const RestTradesPage trades = parseTradesResponse(rest_.get(
              fmt::format("/0/public/Trades?pair={}&since={}", restPairName(pair), cursor)));
          const std::int64_t now = ctx_.clock().nowNanos();
          for (const auto& t : trades.trades) {
            if (t.trade_id < 0) continue;  // rows without an id cannot be deduplicated
            if (decoder_->emitTrade(pair, t.buy, t.market, t.price, t.volume, t.trade_id, t.time_ns,
                                    now, *out_)) {
              ++emitted;
            } else {
              ++repeated;  // `since` is inclusive: the page starts with trades already delivered
            }
          }
          if (trades.trades.size() < kRestPageRows || trades.last.empty() ||
              trades.last == cursor) {
            break;
          }
          cursor = trades.last;
        }
      } catch (const std::exception& e) {
        rest_errors_.inc();
        ctx_.logger().error("REST backfill of {} trades failed: {}", pair, e.what());
      }
      backfilled_.inc(static_cast<double>(emitted));
      duplicate_trades_.inc(static_cast<double>(repeated));
      if (emitted > 0 || repeated > 0) {
        ctx_.logger().info(
            "backfilled {} {} trades from REST ({} rows skipped as already delivered by the "
            "stream)",
            emitted, pair, repeated);
      }
    }
  }

  // --- frames --------------------------------------------------------------------------------
  void onFrame(std::string_view frame, std::int64_t receive_ns, Session* session) {
    if (recorder_ && session) recorder_->write(receive_ns, frame);
    const FrameResult r = decoder_->decode(frame, receive_ns, *out_);
    switch (r.kind) {
      case FrameKind::kMalformed:
        malformed(r.error, frame);
        break;
      case FrameKind::kData:
        if (r.rejected_records > 0) malformed(r.error, frame);
        if (r.foreign_records > 0) foreign_.inc(static_cast<double>(r.foreign_records));
        if (r.repeated_trades > 0 || r.out_of_order_trades > 0) skippedTrades(r);
        for (const auto& pair : r.book_resync) resyncBook(pair, r.error, session);
        if (r.emitted > 0 && !health_ok_) {
          health_ok_ = true;
          if (failed_subscriptions_.empty()) {
            ctx_.setHealth(HealthState::kOk, "streaming");
          } else {
            ctx_.setHealth(HealthState::kDegraded, failed_subscriptions_);
          }
        }
        break;
      case FrameKind::kAck:
        onAck(r);
        break;
      case FrameKind::kStatus:
        if (r.system != "online") {
          ctx_.logger().warn("Kraken engine status: {}", r.system);
          ctx_.setHealth(HealthState::kDegraded, "Kraken engine status: " + r.system);
          health_ok_ = false;
        } else {
          ctx_.logger().debug("Kraken status online, connection id {}", r.connection_id);
        }
        break;
      case FrameKind::kRateLimited:
        ctx_.logger().warn("Kraken refused a request: {}", r.error);
        break;
      case FrameKind::kHeartbeat:
        // Once a second: a crash loses at most about a second of the recording.
        if (recorder_ && session) recorder_->flush();
        break;
      case FrameKind::kPong:
      case FrameKind::kIgnored:
        break;
    }
  }

  void malformed(const std::string& reason, std::string_view frame) {
    malformed_.inc();
    malformed_log_.warn(ctx_.logger(), "malformed frame from {} ({}): {}",
                        options_.replay.empty() ? options_.url : options_.replay, reason,
                        excerpt(frame));
  }

  // Counted always; logged rate-limited. A snapshot's repeats are expected after a reconnect
  // (debug); an update's are not (warn: the one-watermark dedup cannot tell a late trade from a
  // repeat).
  void skippedTrades(const FrameResult& r) {
    if (r.repeated_trades > 0) {
      duplicate_trades_.inc(static_cast<double>(r.repeated_trades));
      skipped_trades_log_.log(ctx_.logger(), LogLevel::kDebug,
                              "skipped {} trades of a snapshot as already delivered (last: {})",
                              r.repeated_trades, r.skipped_trade);
    }
    if (r.out_of_order_trades > 0) {
      out_of_order_trades_.inc(static_cast<double>(r.out_of_order_trades));
      skipped_trades_log_.warn(ctx_.logger(),
                               "skipped {} trades of an update whose id is at or below one "
                               "already delivered (out of order or sent twice; last: {})",
                               r.out_of_order_trades, r.skipped_trade);
    }
  }

  void onAck(const FrameResult& r) {
    std::string channel = r.channel;
    if (channel.empty() && r.req_id >= 1 && r.req_id <= static_cast<std::int64_t>(kChannels.size()))
      channel = kChannels[static_cast<std::size_t>(r.req_id - 1)];
    if (r.success) {
      ctx_.logger().debug("{} {} {}: ok", r.method, channel, r.symbol);
      return;
    }
    subscription_errors_.inc();
    if (!r.symbol.empty() && !channel.empty()) {
      // Kraken answers the same every time: don't ask again on reconnect.
      rejected_.insert({channel, r.symbol});
    }
    const std::string what =
        r.symbol.empty() ? fmt::format("{} {} refused", r.method, channel.empty() ? "?" : channel)
                         : fmt::format("{} to {} for pair {} refused", r.method,
                                       channel.empty() ? "?" : channel, r.symbol);
    ctx_.logger().error("{} by Kraken: {}", what, r.error.empty() ? "no reason given" : r.error);
    if (!failed_subscriptions_.empty()) failed_subscriptions_ += "; ";
    failed_subscriptions_ += fmt::format("{}: {}", what, r.error);
    ctx_.setHealth(HealthState::kDegraded, failed_subscriptions_);
  }

  void resyncBook(const std::string& pair, const std::string& reason, Session* session) {
    book_resyncs_.inc();
    ctx_.logger().warn("{}; resubscribing the {} book", reason, pair);
    if (!session) return;  // a replay cannot ask for a new snapshot
    const std::vector<std::string> symbols{pair};
    session->send(subscription("unsubscribe", "book", symbols));
    session->send(subscription("subscribe", "book", symbols));
  }

  void replayLoop() {
    std::ifstream in(options_.replay, std::ios::binary);
    if (!in) {
      ctx_.logger().error("cannot open replay file {}", options_.replay);
      ctx_.setHealth(HealthState::kFailed, "cannot open replay file " + options_.replay);
      return;
    }
    std::string line, frame, error;
    std::int64_t first_rx = -1;
    SteadyClock::time_point started;
    std::size_t line_no = 0, frames = 0;
    while (!stopping_ && std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      std::int64_t rx = 0;
      if (!parseRecordLine(line, rx, frame, error)) {
        malformed(fmt::format("{}:{}: {}", options_.replay, line_no, error), line);
        continue;
      }
      if (options_.replay_speed > 0) {
        if (first_rx < 0) {
          first_rx = rx;
          started = SteadyClock::now();
        }
        const auto due = started + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                       static_cast<double>(rx - first_rx) / options_.replay_speed));
        std::unique_lock lock(replay_mu_);
        replay_cv_.wait_until(lock, due, [this] { return stopping_.load(); });
        if (stopping_) break;
      }
      onFrame(frame, rx, nullptr);
      ++frames;
    }
    ctx_.logger().info("replay of {} finished: {} frames", options_.replay, frames);
    ctx_.setHealth(HealthState::kOk, "replay finished");
  }

  KrakenOptions options_;
  PluginContext& ctx_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Decoder> decoder_;
  RestClient rest_;
  Counter& reconnects_;
  Counter& malformed_;
  Counter& stalls_;
  Counter& subscription_errors_;
  Counter& book_resyncs_;
  Counter& backfilled_;
  Counter& rest_errors_;
  Counter& foreign_;
  Counter& duplicate_trades_;
  Counter& out_of_order_trades_;
  LogRateLimiter malformed_log_;
  LogRateLimiter skipped_trades_log_;
  Endpoint endpoint_;
  std::unique_ptr<ssl::context> ssl_;
  std::unique_ptr<Recorder> recorder_;
  Emitter* out_ = nullptr;
  // Touched only on the I/O thread:
  std::set<std::pair<std::string, std::string>> rejected_;  // (channel, pair) Kraken refused
  std::string failed_subscriptions_;
  bool health_ok_ = false;
  std::int64_t ping_id_ = 1000;
  std::shared_ptr<Session> current_;
  // Declared last: destroyed first, with any coroutine frames still holding the members above.
  asio::io_context io_{1};  // run by one thread: the scheduler can skip some of its locking
  asio::steady_timer backoff_timer_{io_};
  std::mutex replay_mu_;
  std::condition_variable replay_cv_;
  std::thread thread_;
};

KrakenInput::KrakenInput(const KrakenOptions& options, PluginContext& context)
    : impl_(std::make_unique<Impl>(options, context)) {}

KrakenInput::~KrakenInput() = default;

void KrakenInput::start(Emitter& out) { impl_->start(out); }

void KrakenInput::stop() { impl_->stop(); }

}  // namespace cvagent::inputs::kraken

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvagent/backoff.h"
#include "cvagent/options.h"

namespace cvagent::inputs::kraken {

// The core's back-off (cvagent/backoff.h) with this input's defaults: 1s doubling to 1m, each wait
// drawn from its upper half (many agents restarting together spread out).
struct ReconnectOptions : BackoffOptions {
  ReconnectOptions() {
    initial = std::chrono::seconds(1);
    max = std::chrono::seconds(60);
    jitter = 0.5;
  }
  static void describe(Schema<ReconnectOptions>& s) {
    describeBackoff(s, "a lost or failed connection");
  }
};

struct KrakenOptions {
  std::vector<std::string> pairs{"BTC/USD", "ETH/USD"};
  std::vector<std::string> channels{"ticker", "trade"};
  std::string url = "wss://ws.kraken.com/v2";
  std::string rest_url = "https://api.kraken.com";
  bool rest_backfill = true;
  std::string ohlc_interval = "1m";
  std::int64_t book_depth = 10;
  std::int64_t book_levels = 0;
  std::chrono::milliseconds ping_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(10)};
  ReconnectOptions reconnect;
  // Deprecated spellings of reconnect.initial and reconnect.max, still accepted.
  std::optional<std::chrono::milliseconds> reconnect_initial;
  std::optional<std::chrono::milliseconds> reconnect_max;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::string tls_ca_file;
  std::string record;
  std::string replay;
  double replay_speed = 1.0;

  static void describe(Schema<KrakenOptions>& s) {
    s.option("pairs", &KrakenOptions::pairs,
             "Pairs to subscribe, in WebSocket v2 form (BTC/USD, not XBT/USD).");
    s.option("channels", &KrakenOptions::channels, "Channels to subscribe.")
        .oneOf({"ticker", "trade", "ohlc", "book"});
    s.option("url", &KrakenOptions::url,
             "WebSocket v2 endpoint, ws:// or wss:// (point it at a mirror, a proxy or a test "
             "server).");
    s.option("rest_url", &KrakenOptions::rest_url,
             "REST base URL used to fetch the trades missed while reconnecting.");
    s.option("rest_backfill", &KrakenOptions::rest_backfill,
             "After a reconnect, fetch missed trades from REST /0/public/Trades.");
    s.option("ohlc_interval", &KrakenOptions::ohlc_interval, "Candle interval of the ohlc channel.")
        .oneOf({"1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "15d"});
    s.option("book_depth", &KrakenOptions::book_depth,
             "Depth of the book subscription. One of 10, 25, 100, 500, 1000.")
        .min(10)
        .max(1000);
    s.option("book_levels", &KrakenOptions::book_levels,
             "book_level metrics emitted per side after each book change (0: top of book only).")
        .min(0)
        .max(1000);
    s.option("ping_interval", &KrakenOptions::ping_interval,
             "How often an application-level ping is sent.")
        .min(0.1);
    s.option("stall_timeout", &KrakenOptions::stall_timeout,
             "Reconnect when no frame (heartbeats included) arrived for this long.")
        .min(0.1);
    s.option("reconnect", &KrakenOptions::reconnect,
             "Back-off between reconnects, as the core's `retry` of outputs; starts over after a "
             "session that delivered data.");
    s.option("reconnect_initial", &KrakenOptions::reconnect_initial,
             "Deprecated: `reconnect.initial`, which it overrides when set.")
        .min(0);
    s.option("reconnect_max", &KrakenOptions::reconnect_max,
             "Deprecated: `reconnect.max`, which it overrides when set.")
        .min(0);
    s.option("connect_timeout", &KrakenOptions::connect_timeout,
             "Deadline for the TCP, TLS and WebSocket handshakes.")
        .min(0.1);
    s.option("tls_ca_file", &KrakenOptions::tls_ca_file,
             "PEM file of CA certificates to trust instead of the system store.");
    s.option("record", &KrakenOptions::record,
             "Append every raw frame with its receive time to this file (JSON lines).");
    s.option("replay", &KrakenOptions::replay,
             "Read frames from a recording made with `record` instead of connecting.");
    s.option("replay_speed", &KrakenOptions::replay_speed,
             "Replay pace: 1 is recorded speed, 2 twice as fast, 0 as fast as possible.")
        .min(0);
    s.check([](const KrakenOptions& o, const SourceMark& where, Diagnostics& d) {
      const auto depth = o.book_depth;
      if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000) {
        d.push_back({where, "book_depth must be one of 10, 25, 100, 500, 1000"});
      }
      if (o.book_levels > o.book_depth) {
        d.push_back({where, "book_levels cannot exceed book_depth"});
      }
      if (o.pairs.empty()) d.push_back({where, "pairs must name at least one pair"});
      if (o.replay.empty() && o.url.rfind("ws://", 0) != 0 && o.url.rfind("wss://", 0) != 0) {
        d.push_back({where, "url must start with ws:// or wss://"});
      }
    });
  }
};

// `reconnect` with the deprecated reconnect_initial / reconnect_max applied.
inline BackoffOptions reconnectBackoff(const KrakenOptions& options) {
  BackoffOptions backoff = options.reconnect;
  if (options.reconnect_initial) backoff.initial = *options.reconnect_initial;
  if (options.reconnect_max) backoff.max = *options.reconnect_max;
  return backoff;
}

}  // namespace cvagent::inputs::kraken

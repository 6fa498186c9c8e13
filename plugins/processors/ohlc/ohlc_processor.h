#pragma once
// processors.ohlc: OHLC candles per (exchange, pair, interval) from `trade` metrics, aligned to UTC
// boundaries in event time, with Kraken's OHLC definitions (open = first trade, close = last,
// vwap = sum(price * volume) / sum(volume), trades = count).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"

namespace cvagent::processors::ohlc {

struct OhlcOptions {
  std::vector<std::chrono::nanoseconds> intervals{std::chrono::minutes(1)};
  std::chrono::nanoseconds grace{std::chrono::seconds(2)};
  bool emit_partial = false;
  std::string fill = "none";
  bool close_idle = true;
  bool pass_trades = true;

  static void describe(Schema<OhlcOptions>& s);
};

class OhlcProcessor final : public Processor {
 public:
  OhlcProcessor(const OhlcOptions& options, PluginContext& context);

  void process(Metric&& metric, Emitter& out) override;
  void tick(std::int64_t now_ns, Emitter& out) override;
  void flush(Emitter& out) override;

 private:
  struct Candle {
    std::int64_t start = 0;
    double open = 0, high = 0, low = 0, close = 0;
    double volume = 0;
    double price_volume = 0;  // sum(price * volume), for vwap
    std::int64_t trades = 0;
    std::int64_t open_time = 0;   // event time of the trade that set `open`
    std::int64_t close_time = 0;  // event time of the trade that set `close`
    bool emitted = false;         // closed and sent at least once (final form)
    bool dirty = false;           // changed since it was last sent
  };
  struct IntervalState {
    std::vector<Candle> windows;       // sorted by start: open ones, and closed ones still in grace
    std::int64_t emitted_through = 0;  // end of the latest window sent final (for fill)
    bool has_emitted = false;
    double last_close = 0;
  };
  struct Series {
    std::string exchange;
    std::string pair;
    bool has_exchange = false;
    std::vector<IntervalState> intervals;
    std::int64_t latest = 0;  // latest trade event time seen
    std::int64_t front = 0;   // latest, or later when a quiet pair is moved on by the wall clock
    bool has_trades = false;
    std::int64_t next_due = 0;  // front >= next_due: something to close, fill or finalize
    std::int64_t latest_at_tick = 0;
    std::int64_t wall_of_latest = 0;  // wall time of the first tick that saw `latest`
    bool stamped = false;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  Series& seriesFor(const std::string* exchange, const std::string& pair);
  void addTrade(Series& series, std::int64_t time, double price, double volume, Emitter& out);
  void maintain(Series& series, Emitter& out);
  void emitCandle(const Series& series, std::size_t interval_index, const Candle& candle,
                  bool partial, Emitter& out);
  void emitFill(const Series& series, std::size_t interval_index, std::int64_t start, double price,
                Emitter& out);
  void rejectTrade(const Metric& metric, std::string_view why);

  std::vector<std::int64_t> interval_ns_;
  std::vector<std::string> interval_labels_;
  std::int64_t grace_ns_;
  bool emit_partial_;
  bool fill_previous_close_;
  bool close_idle_;
  bool pass_trades_;

  PluginContext& context_;
  Counter& late_trades_;
  Counter& amended_candles_;
  Counter& invalid_trades_;
  Counter& candles_emitted_;
  LogRateLimiter invalid_log_limit_;

  std::vector<Series> series_;
  std::unordered_map<std::string, std::size_t, KeyHash, KeyEq> series_index_;
  std::string key_buffer_;
};

}  // namespace cvagent::processors::ohlc

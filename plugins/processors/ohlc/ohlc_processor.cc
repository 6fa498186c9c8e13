#include "ohlc_processor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "contract/contract.h"

namespace cvagent::processors::ohlc {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// A quiet pair moved on by the wall clock, or a long gap in a replay, could ask for millions of
// fill candles; past this many in one go the gap is left unfilled (and logged).
constexpr std::int64_t kMaxFillPerGap = 100'000;

// Floor division: window starts for times before 1970 still round down.
std::int64_t windowStart(std::int64_t time, std::int64_t interval) {
  std::int64_t q = time / interval;
  if (time % interval != 0 && time < 0) --q;
  return q * interval;
}

// Rules across options, run by the schema after binding (the processor trusts what it is given).
void checkOptions(const OhlcOptions& options) {
  if (options.intervals.empty()) {
    throw std::invalid_argument("ohlc: `intervals` needs at least one interval");
  }
  for (std::size_t i = 0; i < options.intervals.size(); ++i) {
    const auto ns = options.intervals[i].count();
    if (ns < 1'000'000'000 || ns % 1'000'000'000 != 0) {
      throw std::invalid_argument("ohlc: interval `" + formatDuration(options.intervals[i]) +
                                  "` must be a whole number of seconds, at least 1s");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.intervals[j] == options.intervals[i]) {
        throw std::invalid_argument("ohlc: interval `" + formatDuration(options.intervals[i]) +
                                    "` is listed twice");
      }
    }
  }
}

}  // namespace

void OhlcOptions::describe(Schema<OhlcOptions>& s) {
  s.option("intervals", &OhlcOptions::intervals,
           "Candle lengths, aligned to UTC boundaries (multiples of the interval since the Unix "
           "epoch). Each becomes the candle's `interval` tag, labelled as the data contract spells "
           "it (`1m`, `5m`, `1h`, `1d`, `1w`).")
      .example("[1m, 5m, 1h]");
  s.option("grace", &OhlcOptions::grace,
           "How long, in event time, a closed candle still accepts late trades (each one re-emits "
           "it). Trades older than the pair's latest trade minus grace are counted and left out.")
      .min(0);
  s.option("emit_partial", &OhlcOptions::emit_partial,
           "Also emit open candles (partial=true) on each tick while they change.");
  s.option("fill", &OhlcOptions::fill,
           "What an interval without trades gives: nothing, or a candle at the previous close "
           "with volume 0, vwap 0 and trades 0 (as Kraken's REST OHLC does).")
      .oneOf({"none", "previous_close"});
  s.option("close_idle", &OhlcOptions::close_idle,
           "Close the windows of a pair that has gone quiet by advancing its event time with the "
           "wall clock since its last trade, so its last candle is not held until the next trade.");
  s.option("pass_trades", &OhlcOptions::pass_trades,
           "Pass trade metrics on downstream after aggregating them (false: consume them).");
  s.check([](const OhlcOptions& o, const SourceMark&, Diagnostics&) { checkOptions(o); });
}

OhlcProcessor::OhlcProcessor(const OhlcOptions& options, PluginContext& context)
    : grace_ns_(options.grace.count()),
      emit_partial_(options.emit_partial),
      fill_previous_close_(options.fill == "previous_close"),
      close_idle_(options.close_idle),
      pass_trades_(options.pass_trades),
      context_(context),
      late_trades_(context.counter("ohlc_late_trades_total",
                                   "Trades left out of a candle because its window was past "
                                   "grace (once per trade and interval).")),
      amended_candles_(context.counter("ohlc_amended_candles_total",
                                       "Closed candles re-emitted because a late trade within "
                                       "grace changed them.")),
      invalid_trades_(context.counter("ohlc_invalid_trades_total",
                                      "Trade metrics without a pair tag or a usable numeric price "
                                      "and volume; passed on, not aggregated.")),
      candles_emitted_(context.counter("ohlc_candles_total", "Candle metrics emitted.")) {
  for (const auto& interval : options.intervals) {
    interval_ns_.push_back(interval.count());
    interval_labels_.push_back(contract::intervalLabel(interval));
  }
}

OhlcProcessor::Series& OhlcProcessor::seriesFor(const std::string* exchange,
                                                const std::string& pair) {
  key_buffer_.clear();
  if (exchange) key_buffer_ += *exchange;
  key_buffer_ += '\x1f';
  key_buffer_ += pair;
  auto it = series_index_.find(std::string_view(key_buffer_));
  if (it != series_index_.end()) return series_[it->second];
  Series series;
  if (exchange) series.exchange = *exchange;
  series.has_exchange = exchange != nullptr;
  series.pair = pair;
  series.intervals.resize(interval_ns_.size());
  series.next_due = kNever;
  series_.push_back(std::move(series));
  series_index_.emplace(key_buffer_, series_.size() - 1);
  return series_.back();
}

void OhlcProcessor::rejectTrade(const Metric& metric, std::string_view why) {
  invalid_trades_.inc();
  const std::string* pair = metric.tag("pair");
  invalid_log_limit_.warn(context_.logger(),
                          "trade at {} (pair {}) not aggregated: {}; put processors.normalize "
                          "before ohlc if numbers arrive as strings",
                          metric.time(), pair ? std::string_view(*pair) : "<none>", why);
}

void OhlcProcessor::process(Metric&& metric, Emitter& out) {
  if (metric.name() != "trade") {
    out.emit(std::move(metric));
    return;
  }
  const std::string* pair = metric.tag("pair");
  double price = 0;
  double volume = 0;
  if (!pair || pair->empty()) {
    rejectTrade(metric, "no pair tag");
  } else if (!metric.numberField("price", price) || !std::isfinite(price) || price <= 0) {
    rejectTrade(metric, "no positive numeric price field");
  } else if (!metric.numberField("volume", volume) || !std::isfinite(volume) || volume < 0) {
    rejectTrade(metric, "no non-negative numeric volume field");
  } else {
    addTrade(seriesFor(metric.tag("exchange"), *pair), metric.time(), price, volume, out);
  }
  if (pass_trades_) out.emit(std::move(metric));
}

void OhlcProcessor::addTrade(Series& series, std::int64_t time, double price, double volume,
                             Emitter& out) {
  if (!series.has_trades) {
    series.has_trades = true;
    series.latest = time;
    series.front = time;
  }
  const std::int64_t watermark = series.front - grace_ns_;
  bool late_somewhere = false;
  for (std::size_t i = 0; i < interval_ns_.size(); ++i) {
    const std::int64_t interval = interval_ns_[i];
    IntervalState& state = series.intervals[i];
    Candle* candle = nullptr;
    // Fast path: the trade falls in the newest window.
    if (!state.windows.empty() && time >= state.windows.back().start &&
        time - state.windows.back().start < interval) {
      candle = &state.windows.back();
    } else {
      const std::int64_t start = windowStart(time, interval);
      if (start + interval <= watermark) {
        late_somewhere = true;
        continue;
      }
      auto it = std::lower_bound(state.windows.begin(), state.windows.end(), start,
                                 [](const Candle& c, std::int64_t s) { return c.start < s; });
      if (it == state.windows.end() || it->start != start) {
        Candle fresh;
        fresh.start = start;
        it = state.windows.insert(it, fresh);
        series.next_due = std::min(series.next_due, start + interval);
      }
      candle = &*it;
    }
    Candle& c = *candle;
    if (c.trades == 0) {
      c.open = c.high = c.low = c.close = price;
      c.open_time = c.close_time = time;
    } else {
      if (price > c.high) c.high = price;
      if (price < c.low) c.low = price;
      // Event time decides open and close; equal times keep arrival order.
      if (time < c.open_time) {
        c.open = price;
        c.open_time = time;
      }
      if (time >= c.close_time) {
        c.close = price;
        c.close_time = time;
      }
    }
    c.volume += volume;
    c.price_volume += price * volume;
    ++c.trades;
    c.dirty = true;
    if (c.emitted) {
      // Closed but still within grace: send the corrected candle under the same key.
      amended_candles_.inc();
      emitCandle(series, i, c, false, out);
      c.dirty = false;
      if (c.start + interval >= state.emitted_through) state.last_close = c.close;
    }
  }
  if (late_somewhere) late_trades_.inc();
  if (time > series.latest) series.latest = time;
  if (time > series.front) series.front = time;
  if (series.front >= series.next_due) maintain(series, out);
}

void OhlcProcessor::maintain(Series& series, Emitter& out) {
  const std::int64_t watermark = series.front - grace_ns_;
  std::int64_t next_due = kNever;
  for (std::size_t i = 0; i < interval_ns_.size(); ++i) {
    const std::int64_t interval = interval_ns_[i];
    IntervalState& state = series.intervals[i];
    for (Candle& c : state.windows) {
      if (c.start + interval > series.front) break;
      if (c.emitted) continue;
      if (fill_previous_close_ && state.has_emitted && state.emitted_through < c.start) {
        const std::int64_t missing = (c.start - state.emitted_through) / interval;
        if (missing <= kMaxFillPerGap) {
          for (std::int64_t s = state.emitted_through; s < c.start; s += interval) {
            emitFill(series, i, s, state.last_close, out);
          }
        } else {
          context_.logger().warn("{} {}: gap of {} empty {} windows not filled", series.pair,
                                 interval_labels_[i], missing, interval_labels_[i]);
        }
      }
      emitCandle(series, i, c, false, out);
      c.emitted = true;
      c.dirty = false;
      if (!state.has_emitted || c.start + interval > state.emitted_through) {
        state.emitted_through = c.start + interval;
        state.last_close = c.close;
        state.has_emitted = true;
      }
    }
    // Empty windows the pair's time has moved past (only quiet pairs, through tick, or gaps
    // between trades).
    if (fill_previous_close_ && state.has_emitted) {
      const std::int64_t missing = (series.front - state.emitted_through) / interval;
      // Every window with trades that ends by `front` was sent above, so these are all empty.
      if (missing > kMaxFillPerGap) {
        // Skip the gap rather than fill it (a bogus far-future trade time, a long outage).
        context_.logger().warn("{} {}: gap of {} empty {} windows not filled", series.pair,
                               interval_labels_[i], missing, interval_labels_[i]);
        state.emitted_through = windowStart(series.front, interval);
      }
      while (state.emitted_through + interval <= series.front) {
        emitFill(series, i, state.emitted_through, state.last_close, out);
        state.emitted_through += interval;
      }
      next_due = std::min(next_due, state.emitted_through + interval);
    }
    // Finalize: closed windows past grace can no longer change.
    auto keep = std::find_if(state.windows.begin(), state.windows.end(), [&](const Candle& c) {
      return c.start + interval > watermark || !c.emitted;
    });
    state.windows.erase(state.windows.begin(), keep);
    for (const Candle& c : state.windows) {
      if (!c.emitted) {
        next_due = std::min(next_due, c.start + interval);
        break;
      }
    }
    if (!state.windows.empty()) {
      next_due = std::min(next_due, state.windows.front().start + interval + grace_ns_);
    }
  }
  series.next_due = next_due;
}

void OhlcProcessor::emitCandle(const Series& series, std::size_t interval_index,
                               const Candle& candle, bool partial, Emitter& out) {
  Metric m("candle", candle.start);
  if (series.has_exchange) m.setTag("exchange", series.exchange);
  m.setTag("interval", interval_labels_[interval_index]);
  m.setTag("pair", series.pair);
  m.reserveFields(8);
  m.setField("open", candle.open);
  m.setField("high", candle.high);
  m.setField("low", candle.low);
  m.setField("close", candle.close);
  m.setField("volume", candle.volume);
  m.setField("vwap", candle.volume > 0 ? candle.price_volume / candle.volume : 0.0);
  m.setField("trades", candle.trades);
  m.setField("partial", partial);
  candles_emitted_.inc();
  out.emit(std::move(m));
}

void OhlcProcessor::emitFill(const Series& series, std::size_t interval_index, std::int64_t start,
                             double price, Emitter& out) {
  Candle c;
  c.start = start;
  c.open = c.high = c.low = c.close = price;
  emitCandle(series, interval_index, c, false, out);
}

void OhlcProcessor::tick(std::int64_t now_ns, Emitter& out) {
  for (Series& series : series_) {
    if (!series.has_trades) continue;
    if (!series.stamped || series.latest != series.latest_at_tick) {
      // The first tick after a trade stamps it; the real arrival was earlier, so the wall-clock
      // advance below never runs ahead of the exchange.
      series.latest_at_tick = series.latest;
      series.wall_of_latest = now_ns;
      series.stamped = true;
    } else if (close_idle_ && now_ns > series.wall_of_latest) {
      const std::int64_t moved = series.latest + (now_ns - series.wall_of_latest);
      if (moved > series.front) series.front = moved;
    }
    if (series.front >= series.next_due) maintain(series, out);
    if (emit_partial_) {
      for (std::size_t i = 0; i < interval_ns_.size(); ++i) {
        for (Candle& c : series.intervals[i].windows) {
          if (!c.emitted && c.dirty) {
            emitCandle(series, i, c, true, out);
            c.dirty = false;
          }
        }
      }
    }
  }
}

void OhlcProcessor::flush(Emitter& out) {
  // Open windows leave as they are, marked partial; their state stays, so if the instance goes on
  // running the final candle follows later under the same key.
  for (Series& series : series_) {
    for (std::size_t i = 0; i < interval_ns_.size(); ++i) {
      for (Candle& c : series.intervals[i].windows) {
        if (!c.emitted) {
          emitCandle(series, i, c, true, out);
          c.dirty = false;
        }
      }
    }
  }
}

}  // namespace cvagent::processors::ohlc

#include "decoder.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>

#include "contract/contract.h"
#include "cvagent/time_util.h"

namespace cvagent::inputs::kraken {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// Frames above this are refused by the transport; the decoder's buffer never grows past it.
constexpr std::size_t kMaxFrameBytes = 16 * 1024 * 1024;

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A record the decoder refuses, with the reason (static text: no allocation on the hot path).
struct RecordError {
  const char* reason = nullptr;
  explicit operator bool() const { return reason != nullptr; }
};

// Reads a JSON number as a finite double. Strings, null, booleans, overflow (1e400) fail.
bool readFinite(od::value value, double& out) {
  if (value.get_double().get(out) != simdjson::SUCCESS) return false;
  return std::isfinite(out);
}

bool readNonNegative(od::value value, double& out) { return readFinite(value, out) && out >= 0; }

bool readTime(od::value value, std::int64_t& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  return parseRfc3339(text, out);
}

// A plain non-negative decimal token ("95863.2", "0.00100000"): what the book checksum is defined
// on. Exponents, signs and strings are refused.
bool readDecimalToken(od::value value, DecimalText& text, double& number) {
  std::string_view token = value.raw_json_token();
  while (!token.empty() && isJsonSpace(token.back())) token.remove_suffix(1);
  if (token.empty() || token.size() > text.chars.size()) return false;
  bool dot = false;
  for (char c : token) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  if (token.front() == '.' || token.back() == '.') return false;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
  if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(number)) {
    return false;
  }
  std::memcpy(text.chars.data(), token.data(), token.size());
  text.size = static_cast<std::uint8_t>(token.size());
  return true;
}

// Kraken's candle intervals, in minutes, labelled the contract's way (10080 is `1w`).
constexpr std::array<std::int64_t, 9> kIntervalMinutes = {1,   5,    15,    30,   60,
                                                          240, 1440, 10080, 21600};

const char* intervalName(std::int64_t minutes) {
  static const std::array<std::string, kIntervalMinutes.size()> labels = [] {
    std::array<std::string, kIntervalMinutes.size()> out;
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = contract::intervalLabel(std::chrono::minutes(kIntervalMinutes[i]));
    }
    return out;
  }();
  for (std::size_t i = 0; i < kIntervalMinutes.size(); ++i) {
    if (kIntervalMinutes[i] == minutes) return labels[i].c_str();
  }
  return nullptr;
}

// Appends `text` without its '.' and leading zeros (Kraken's checksum rule).
void appendChecksumDigits(std::string_view text, char*& out) {
  bool leading = true;
  for (char c : text) {
    if (c == '.') continue;
    if (leading && c == '0') continue;
    leading = false;
    *out++ = c;
  }
}

// A plain decimal's digits as an integer and its number of fractional digits ("62802.5" -> 628025,
// 1). False when it does not fit 18 digits.
bool scaledDecimal(std::string_view text, std::int64_t& mantissa, int& scale) {
  mantissa = 0;
  scale = 0;
  bool fraction = false;
  int digits = 0;
  for (char c : text) {
    if (c == '.') {
      fraction = true;
      continue;
    }
    if (++digits > 18) return false;
    mantissa = mantissa * 10 + (c - '0');
    if (fraction) ++scale;
  }
  return true;
}

// ask - bid and (ask + bid) / 2 computed on the exact decimals, so a spread of one tick is 0.1
// and not 0.09999999999854481.
void spreadAndMid(const BookLevel& bid, const BookLevel& ask, double& spread, double& mid) {
  std::int64_t b = 0, a = 0;
  int bid_scale = 0, ask_scale = 0;
  spread = ask.price - bid.price;
  mid = (ask.price + bid.price) / 2;
  if (!scaledDecimal(bid.price_text.view(), b, bid_scale) ||
      !scaledDecimal(ask.price_text.view(), a, ask_scale)) {
    return;
  }
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
  const int scale = std::max(bid_scale, ask_scale);
  for (int i = bid_scale; i < scale; ++i) b *= 10;
  for (int i = ask_scale; i < scale; ++i) a *= 10;
  if (scale + 1 >= static_cast<int>(std::size(kPow10)) || a > (INT64_MAX / 10) ||
      b > (INT64_MAX / 10)) {
    return;
  }
  spread = static_cast<double>(a - b) / kPow10[scale];
  mid = static_cast<double>((a + b) * 5) / kPow10[scale + 1];
}

template <typename Side>
void truncate(Side& side, std::size_t depth) {
  while (side.size() > depth) side.erase(std::prev(side.end()));
}

}  // namespace

std::uint32_t bookChecksum(const BookState& book) {
  // 20 levels of at most 2 x 31 characters.
  std::array<char, 20 * 62> buffer;
  char* out = buffer.data();
  std::size_t n = 0;
  for (auto it = book.asks.begin(); it != book.asks.end() && n < 10; ++it, ++n) {
    appendChecksumDigits(it->second.price_text.view(), out);
    appendChecksumDigits(it->second.qty_text.view(), out);
  }
  n = 0;
  for (auto it = book.bids.begin(); it != book.bids.end() && n < 10; ++it, ++n) {
    appendChecksumDigits(it->second.price_text.view(), out);
    appendChecksumDigits(it->second.qty_text.view(), out);
  }
  const auto length = static_cast<uInt>(out - buffer.data());
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(buffer.data()), length));
}

struct Decoder::Impl {
  struct PairState {
    std::string name;
    std::int64_t last_trade_id = -1;
    std::int64_t last_trade_time = 0;
    BookState book;
    bool has_candle = false;
    std::int64_t candle_begin = 0;
    Metric candle;
  };

  DecoderConfig config;
  std::string exchange;
  std::vector<PairState> pairs;
  od::parser parser{kMaxFrameBytes};
  std::string buffer;  // the frame, copied with simdjson's padding
  std::vector<Metric> pending;
  std::vector<std::int64_t> saved_trade_ids;
  std::vector<std::int64_t> saved_trade_times;

  PairState* findPair(std::string_view symbol) {
    for (auto& p : pairs) {
      if (p.name == symbol) return &p;
    }
    return nullptr;
  }

  // `tags` and `fields`: how many the kind has, so each vector is allocated once and no larger.
  Metric& newMetric(const char* name, std::int64_t time_ns, const PairState& pair, std::size_t tags,
                    std::size_t fields) {
    Metric& m = pending.emplace_back(name, time_ns);
    m.reserveTags(tags);
    m.setTag("exchange", exchange);
    m.setTag("pair", pair.name);
    m.reserveFields(fields);
    return m;
  }

  bool acceptTrade(PairState& pair, std::int64_t trade_id, std::int64_t time_ns) {
    if (trade_id <= pair.last_trade_id) return false;
    pair.last_trade_id = trade_id;
    pair.last_trade_time = time_ns;
    return true;
  }

  void addTrade(PairState& pair, bool buy, bool market, double price, double volume,
                std::int64_t trade_id, std::int64_t time_ns, std::int64_t receive_ns) {
    Metric& m = newMetric("trade", time_ns, pair, 3, 5);
    m.setTag("side", buy ? "buy" : "sell");
    m.setField("price", price);
    m.setField("volume", volume);
    m.setField("trade_id", trade_id);
    m.setField("ord_type", std::string(market ? "market" : "limit"));
    m.setField("receive_time", receive_ns);
  }

  // --- records -----------------------------------------------------------------------------
  // One pass over the record's keys (an on-demand object is read once): each case is a key.
  // NOLINTNEXTLINE(readability-function-cognitive-complexity)
  error_code tradeRecord(od::object entry, bool snapshot, std::int64_t rx, FrameResult& r) {
    std::string_view symbol;
    double price = 0, qty = 0;
    std::int64_t trade_id = -1, time_ns = 0;
    int side = -1, ord = -1;  // side: 1 buy, 0 sell; ord: 1 market, 0 limit
    bool have_price = false, have_qty = false, have_time = false;
    RecordError bad;
    for (auto field_result : entry) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      od::value v = field.value();
      if (key == "symbol") {
        if (!symbol.empty()) bad = {"duplicate symbol key"};
        if (v.get_string().get(symbol)) bad = {"symbol is not a string"};
      } else if (key == "side") {
        std::string_view s;
        if (!v.get_string().get(s)) side = s == "buy" ? 1 : s == "sell" ? 0 : -1;
      } else if (key == "price") {
        have_price = readNonNegative(v, price);
        if (!have_price) bad = {"price is not a non-negative finite number"};
      } else if (key == "qty") {
        have_qty = readNonNegative(v, qty);
        if (!have_qty) bad = {"qty is not a non-negative finite number"};
      } else if (key == "ord_type") {
        std::string_view s;
        if (!v.get_string().get(s)) ord = s == "market" ? 1 : s == "limit" ? 0 : -1;
      } else if (key == "trade_id") {
        if (v.get_int64().get(trade_id) || trade_id < 0) bad = {"trade_id is not an int64"};
      } else if (key == "timestamp") {
        have_time = readTime(v, time_ns);
        if (!have_time) bad = {"timestamp is not RFC 3339"};
      }
    }
    if (!bad && symbol.empty()) bad = {"trade without symbol"};
    if (!bad && (!have_price || !have_qty || trade_id < 0 || !have_time))
      bad = {"trade without price, qty, trade_id or timestamp"};
    if (!bad && (side < 0 || ord < 0)) bad = {"trade side or ord_type missing or unknown"};
    if (bad) return reject(r, bad);
    PairState* pair = findPair(symbol);
    if (!pair) {
      ++r.foreign_records;
      return simdjson::SUCCESS;
    }
    if (acceptTrade(*pair, trade_id, time_ns)) {
      addTrade(*pair, side == 1, ord == 1, price, qty, trade_id, time_ns, rx);
    } else {
      ++(snapshot ? r.repeated_trades : r.out_of_order_trades);
      r.skipped_trade = fmt::format("{} {} <= {}", pair->name, trade_id, pair->last_trade_id);
    }
    return simdjson::SUCCESS;
  }

  error_code tickerRecord(od::object entry, std::int64_t rx, FrameResult& r) {
    // Order of the emitted fields; the wire names map onto these slots.
    enum Slot {
      kLast,
      kBid,
      kAsk,
      kBidQty,
      kAskQty,
      kVolume,
      kVwap,
      kLow,
      kHigh,
      kChange,
      kChangePct,
      kSlots
    };
    static constexpr const char* kFieldNames[kSlots] = {
        "last", "bid", "ask",  "bid_qty", "ask_qty",   "volume_24h",
        "vwap", "low", "high", "change",  "change_pct"};
    std::array<double, kSlots> values{};
    std::array<bool, kSlots> present{};
    std::string_view symbol;
    std::int64_t time_ns = rx;  // 2023-era tickers carry no timestamp: fall back to receipt
    RecordError bad;
    for (auto field_result : entry) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      od::value v = field.value();
      int slot = -1;
      if (key == "symbol") {
        if (!symbol.empty()) bad = {"duplicate symbol key"};
        if (v.get_string().get(symbol)) bad = {"symbol is not a string"};
        continue;
      } else if (key == "timestamp") {
        if (!readTime(v, time_ns)) bad = {"timestamp is not RFC 3339"};
        continue;
      } else if (key == "last") {
        slot = kLast;
      } else if (key == "bid") {
        slot = kBid;
      } else if (key == "ask") {
        slot = kAsk;
      } else if (key == "bid_qty") {
        slot = kBidQty;
      } else if (key == "ask_qty") {
        slot = kAskQty;
      } else if (key == "volume") {
        slot = kVolume;
      } else if (key == "vwap") {
        slot = kVwap;
      } else if (key == "low") {
        slot = kLow;
      } else if (key == "high") {
        slot = kHigh;
      } else if (key == "change") {
        slot = kChange;
      } else if (key == "change_pct") {
        slot = kChangePct;
      } else {
        continue;
      }
      const bool signed_ok = slot == kChange || slot == kChangePct;
      const bool ok = signed_ok ? readFinite(v, values[slot]) : readNonNegative(v, values[slot]);
      if (!ok) {
        bad = {"ticker number is not a finite number"};
      } else {
        present[slot] = true;
      }
    }
    if (!bad && symbol.empty()) bad = {"ticker without symbol"};
    if (!bad && !(present[kLast] && present[kBid] && present[kAsk]))
      bad = {"ticker without last, bid or ask"};
    if (bad) return reject(r, bad);
    PairState* pair = findPair(symbol);
    if (!pair) {
      ++r.foreign_records;
      return simdjson::SUCCESS;
    }
    Metric& m = newMetric("ticker", time_ns, *pair, 2, kSlots + 1);
    for (int i = 0; i < kSlots; ++i) {
      if (present[i]) m.setField(kFieldNames[i], values[i]);
    }
    m.setField("receive_time", rx);
    return simdjson::SUCCESS;
  }

  error_code ohlcRecord(od::object entry, FrameResult& r) {
    std::string_view symbol;
    std::array<double, 6> v{};  // open high low close volume vwap
    std::array<bool, 6> have{};
    std::int64_t trades = -1, interval = -1, begin = 0;
    bool have_begin = false;
    RecordError bad;
    for (auto field_result : entry) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      od::value value = field.value();
      int slot = -1;
      if (key == "symbol") {
        if (value.get_string().get(symbol)) bad = {"symbol is not a string"};
      } else if (key == "open") {
        slot = 0;
      } else if (key == "high") {
        slot = 1;
      } else if (key == "low") {
        slot = 2;
      } else if (key == "close") {
        slot = 3;
      } else if (key == "volume") {
        slot = 4;
      } else if (key == "vwap") {
        slot = 5;
      } else if (key == "trades") {
        // The docs type it as a float; live frames send an int. Take either when integral.
        double d = 0;
        if (!readNonNegative(value, d) || d != std::floor(d) || d > 9.0e18) {
          bad = {"ohlc trades is not a count"};
        } else {
          trades = static_cast<std::int64_t>(d);
        }
      } else if (key == "interval") {
        if (value.get_int64().get(interval)) bad = {"ohlc interval is not an integer"};
      } else if (key == "interval_begin") {
        have_begin = readTime(value, begin);
        if (!have_begin) bad = {"interval_begin is not RFC 3339"};
      }
      if (slot >= 0) {
        have[slot] = readNonNegative(value, v[slot]);
        if (!have[slot]) bad = {"ohlc number is not a non-negative finite number"};
      }
    }
    const char* interval_tag = intervalName(interval);
    if (!bad && (symbol.empty() || !have_begin || trades < 0 || !interval_tag))
      bad = {"ohlc without symbol, interval_begin, trades or a known interval"};
    if (!bad && !(have[0] && have[1] && have[2] && have[3] && have[4] && have[5]))
      bad = {"ohlc without open, high, low, close, volume or vwap"};
    if (bad) return reject(r, bad);
    PairState* pair = findPair(symbol);
    if (!pair) {
      ++r.foreign_records;
      return simdjson::SUCCESS;
    }
    // The open candle is sent again on every trade; when a later one begins, the previous one is
    // complete: emit it once more with partial=false.
    if (pair->has_candle && begin > pair->candle_begin) {
      Metric final_candle = pair->candle;
      final_candle.setField("partial", false);
      pending.push_back(std::move(final_candle));
    } else if (pair->has_candle && begin < pair->candle_begin) {
      // An older candle (a snapshot's history after a reconnect): emit it as complete.
      Metric& m = newMetric("candle", begin, *pair, 3, 8);
      setCandle(m, interval_tag, v, trades, false);
      return simdjson::SUCCESS;
    }
    Metric& m = newMetric("candle", begin, *pair, 3, 8);
    setCandle(m, interval_tag, v, trades, true);
    pair->candle = m;
    pair->candle_begin = begin;
    pair->has_candle = true;
    return simdjson::SUCCESS;
  }

  static void setCandle(Metric& m, const char* interval, const std::array<double, 6>& v,
                        std::int64_t trades, bool partial) {
    m.setTag("interval", interval);
    m.setField("open", v[0]);
    m.setField("high", v[1]);
    m.setField("low", v[2]);
    m.setField("close", v[3]);
    m.setField("volume", v[4]);
    m.setField("vwap", v[5]);
    m.setField("trades", trades);
    m.setField("partial", partial);
  }

  struct LevelUpdate {
    bool bid;
    BookLevel level;
  };
  std::vector<LevelUpdate> level_scratch;

  error_code readLevels(od::value value, bool bid, RecordError& bad) {
    od::array levels;
    if (value.get_array().get(levels)) {
      bad = {"book side is not an array"};
      return simdjson::SUCCESS;
    }
    for (auto level_result : levels) {
      od::object level;
      if (level_result.get_object().get(level)) {
        bad = {"book level is not an object"};
        continue;
      }
      LevelUpdate update{bid, {}};
      bool have_price = false, have_qty = false;
      for (auto field_result : level) {
        od::field field;
        if (auto e = std::move(field_result).get(field)) return e;
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (key == "price") {
          have_price = readDecimalToken(field.value(), update.level.price_text, update.level.price);
        } else if (key == "qty") {
          have_qty = readDecimalToken(field.value(), update.level.qty_text, update.level.qty);
        }
      }
      if (!have_price || !have_qty) {
        bad = {"book level price or qty is not a plain decimal number"};
        continue;
      }
      level_scratch.push_back(update);
    }
    return simdjson::SUCCESS;
  }

  error_code bookRecord(od::object entry, bool snapshot, std::int64_t rx, FrameResult& r) {
    std::string_view symbol;
    std::uint64_t checksum = 0;
    bool have_checksum = false;
    std::int64_t time_ns = rx;
    RecordError bad;
    level_scratch.clear();
    for (auto field_result : entry) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      od::value v = field.value();
      if (key == "symbol") {
        if (v.get_string().get(symbol)) bad = {"symbol is not a string"};
      } else if (key == "bids" || key == "asks") {
        if (auto e = readLevels(v, key == "bids", bad)) return e;
      } else if (key == "checksum") {
        have_checksum = !v.get_uint64().get(checksum) && checksum <= 0xffffffffULL;
        if (!have_checksum) bad = {"book checksum is not a uint32"};
      } else if (key == "timestamp") {
        if (!readTime(v, time_ns)) bad = {"timestamp is not RFC 3339"};
      }
    }
    if (!bad && (symbol.empty() || !have_checksum)) bad = {"book without symbol or checksum"};
    if (bad) return reject(r, bad);
    PairState* pair = findPair(symbol);
    if (!pair) {
      ++r.foreign_records;
      return simdjson::SUCCESS;
    }
    BookState& book = pair->book;
    if (snapshot) {
      book.bids.clear();
      book.asks.clear();
      book.valid = true;
      book.resyncing = false;
    } else if (!book.valid) {
      return simdjson::SUCCESS;  // waiting for the snapshot a resubscribe brings
    }
    for (const auto& u : level_scratch) {
      if (u.bid) {
        if (u.level.qty == 0) {
          book.bids.erase(u.level.price);
        } else {
          book.bids.insert_or_assign(u.level.price, u.level);
        }
      } else if (u.level.qty == 0) {
        book.asks.erase(u.level.price);
      } else {
        book.asks.insert_or_assign(u.level.price, u.level);
      }
    }
    truncate(book.bids, config.book_depth);
    truncate(book.asks, config.book_depth);
    const std::uint32_t computed = bookChecksum(book);
    if (computed != checksum) {
      book.valid = false;
      book.resyncing = true;
      book.bids.clear();
      book.asks.clear();
      r.book_resync.push_back(pair->name);
      r.error = "book checksum mismatch for " + pair->name + ": computed " +
                std::to_string(computed) + ", exchange sent " + std::to_string(checksum);
      return simdjson::SUCCESS;
    }
    if (book.bids.empty() || book.asks.empty()) return simdjson::SUCCESS;
    const BookLevel& best_bid = book.bids.begin()->second;
    const BookLevel& best_ask = book.asks.begin()->second;
    Metric& m = newMetric("book", time_ns, *pair, 2, 8);
    m.setField("best_bid", best_bid.price);
    m.setField("best_bid_qty", best_bid.qty);
    m.setField("best_ask", best_ask.price);
    m.setField("best_ask_qty", best_ask.qty);
    double spread = 0, mid = 0;
    spreadAndMid(best_bid, best_ask, spread, mid);
    m.setField("spread", spread);
    m.setField("mid", mid);
    m.setField("checksum", static_cast<std::int64_t>(checksum));
    m.setField("receive_time", rx);
    if (config.book_levels > 0) {
      addLevels(book.bids, "bid", time_ns, *pair);
      addLevels(book.asks, "ask", time_ns, *pair);
    }
    return simdjson::SUCCESS;
  }

  template <typename Side>
  void addLevels(const Side& side, const char* side_name, std::int64_t time_ns,
                 const PairState& pair) {
    std::size_t index = 0;
    for (auto it = side.begin(); it != side.end() && index < config.book_levels; ++it, ++index) {
      Metric& m = newMetric("book_level", time_ns, pair, 4, 2);
      std::array<char, 8> digits{};
      const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), index);
      m.setTag("level",
               std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data())));
      m.setTag("side", side_name);
      m.setField("price", it->second.price);
      m.setField("qty", it->second.qty);
    }
  }

  static error_code reject(FrameResult& r, RecordError bad) {
    ++r.rejected_records;
    if (r.error.empty()) r.error = bad.reason;
    return simdjson::SUCCESS;
  }

  // --- frames ------------------------------------------------------------------------------
  error_code dataFrame(od::object& root, std::string_view channel, std::int64_t rx,
                       FrameResult& r) {
    std::string_view type;
    auto type_result = root.find_field_unordered("type");
    if (type_result.error() && type_result.error() != simdjson::NO_SUCH_FIELD) {
      return type_result.error();
    }
    if (!type_result.error() && type_result.get_string().get(type)) {
      return simdjson::INCORRECT_TYPE;
    }
    if (type != "snapshot" && type != "update") {
      r.error = "unknown or missing type";
      return simdjson::INCORRECT_TYPE;
    }
    od::array data;
    if (auto e = root.find_field_unordered("data").get_array().get(data)) {
      r.error = "data is missing or not an array";
      return e;
    }
    r.kind = FrameKind::kData;
    const bool snapshot = type == "snapshot";
    for (auto entry_result : data) {
      od::object entry;
      if (auto e = entry_result.get_object().get(entry)) {
        if (e != simdjson::INCORRECT_TYPE) return e;
        reject(r, {"data entry is not an object"});
        continue;
      }
      error_code e = simdjson::SUCCESS;
      if (channel == "trade") {
        e = tradeRecord(entry, snapshot, rx, r);
      } else if (channel == "ticker") {
        e = tickerRecord(entry, rx, r);
      } else if (channel == "ohlc") {
        e = ohlcRecord(entry, r);
      } else {
        e = bookRecord(entry, snapshot, rx, r);
      }
      if (e) return e;
    }
    return simdjson::SUCCESS;
  }

  error_code statusFrame(od::object& root, FrameResult& r) {
    r.kind = FrameKind::kStatus;
    od::array data;
    if (auto e = root.find_field_unordered("data").get_array().get(data)) return e;
    for (auto entry_result : data) {
      od::object entry;
      if (auto e = entry_result.get_object().get(entry)) return e;
      for (auto field_result : entry) {
        od::field field;
        if (auto e = std::move(field_result).get(field)) return e;
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (key == "system") {
          std::string_view s;
          if (!field.value().get_string().get(s)) r.system = s;
        } else if (key == "connection_id") {
          // Above 2^63 in practice: uint64, never double or int64.
          std::uint64_t id = 0;
          if (!field.value().get_uint64().get(id)) r.connection_id = id;
        }
      }
    }
    return simdjson::SUCCESS;
  }

  error_code methodFrame(od::object& root, FrameResult& r) {
    auto method_result = root.find_field_unordered("method");
    if (method_result.error() == simdjson::NO_SUCH_FIELD) {
      // {"Error":"Exceeded msg rate"}: capital E, no method.
      std::string_view text;
      if (!root.find_field_unordered("Error").get_string().get(text)) {
        r.kind = FrameKind::kRateLimited;
        r.error = text;
        return simdjson::SUCCESS;
      }
      r.kind = FrameKind::kIgnored;  // v1 shapes ({"event":...}) and the like
      r.error = "no channel and no method";
      return simdjson::SUCCESS;
    }
    std::string_view method;
    if (auto e = method_result.get_string().get(method)) return e;
    r.method = method;
    if (method == "pong") {
      r.kind = FrameKind::kPong;
      return simdjson::SUCCESS;
    }
    if (method != "subscribe" && method != "unsubscribe") {
      r.kind = FrameKind::kIgnored;
      return simdjson::SUCCESS;
    }
    r.kind = FrameKind::kAck;
    // The object was partly consumed looking for `channel` and `method`: look keys up rather than
    // iterate (on-demand objects cannot be iterated after a lookup). Acks are rare.
    // Each key is optional, but only "absent" and "another type" leave the on-demand iterator
    // usable: any other error (broken JSON met on the way) ends the frame as malformed before
    // the next lookup (found by fuzzing: a lookup after one made simdjson use a null parser).
    const auto usable = [](error_code e) {
      return e == simdjson::SUCCESS || e == simdjson::NO_SUCH_FIELD ||
             e == simdjson::INCORRECT_TYPE;
    };
    bool success = false;
    error_code e = root.find_field_unordered("success").get_bool().get(success);
    if (!usable(e)) return e;
    r.success = !e && success;
    std::string_view s;
    if (!usable(e = root.find_field_unordered("error").get_string().get(s))) return e;
    if (!e) r.error = s;
    if (!usable(e = root.find_field_unordered("symbol").get_string().get(s))) return e;
    if (!e) r.symbol = s;
    std::int64_t id = -1;
    if (!usable(e = root.find_field_unordered("req_id").get_int64().get(id))) return e;
    if (!e) r.req_id = id;
    od::object result;
    if (!usable(e = root.find_field_unordered("result").get_object().get(result))) return e;
    if (!e) {
      if (!usable(e = result.find_field_unordered("channel").get_string().get(s))) return e;
      if (!e) r.channel = s;
      if (!usable(e = result.find_field_unordered("symbol").get_string().get(s))) return e;
      if (!e) r.symbol = s;
    }
    return simdjson::SUCCESS;
  }

  error_code document(od::document& doc, std::int64_t rx, FrameResult& r) {
    od::object root;
    if (auto e = doc.get_object().get(root)) return e;
    auto channel_result = root.find_field_unordered("channel");
    if (channel_result.error() == simdjson::NO_SUCH_FIELD) return methodFrame(root, r);
    std::string_view channel;
    if (auto e = channel_result.get_string().get(channel)) return e;
    if (channel == "heartbeat") {
      r.kind = FrameKind::kHeartbeat;
      return simdjson::SUCCESS;
    }
    if (channel == "trade" || channel == "ticker" || channel == "ohlc" || channel == "book") {
      return dataFrame(root, channel, rx, r);
    }
    if (channel == "status") return statusFrame(root, r);
    r.kind = FrameKind::kIgnored;
    r.error = "unknown channel";
    return simdjson::SUCCESS;
  }
};

Decoder::Decoder(DecoderConfig config, std::string exchange) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->exchange = std::move(exchange);
  for (const auto& name : impl_->config.pairs) {
    Impl::PairState pair;
    pair.name = name;
    impl_->pairs.push_back(std::move(pair));
  }
  impl_->buffer.reserve(4096 + simdjson::SIMDJSON_PADDING);
}

Decoder::~Decoder() = default;

FrameResult Decoder::decode(std::string_view frame, std::int64_t receive_ns, Emitter& out) {
  FrameResult r;
  std::size_t first = 0, last = frame.size();
  while (first < last && isJsonSpace(frame[first])) ++first;
  while (last > first && isJsonSpace(frame[last - 1])) --last;
  if (first == last) {
    r.kind = FrameKind::kIgnored;
    r.error = "empty frame";
    return r;
  }
  // Kraken v2 frames are JSON objects; arrays (v1), scalars and a leading BOM are not for us.
  if (frame[first] != '{') {
    r.kind = FrameKind::kIgnored;
    r.error = "not a JSON object";
    return r;
  }
  if (frame[last - 1] != '}' || last - first > kMaxFrameBytes) {
    r.kind = FrameKind::kMalformed;
    r.error =
        last - first > kMaxFrameBytes ? "frame too large" : "text after or cut-off JSON object";
    return r;
  }
  Impl& d = *impl_;
  const std::string_view json = frame.substr(first, last - first);
  if (d.buffer.capacity() < json.size() + simdjson::SIMDJSON_PADDING) {
    d.buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  }
  d.buffer.assign(json);
  d.saved_trade_ids.clear();
  d.saved_trade_times.clear();
  for (const auto& p : d.pairs) {
    d.saved_trade_ids.push_back(p.last_trade_id);
    d.saved_trade_times.push_back(p.last_trade_time);
  }
  od::document doc;
  error_code e = d.parser.iterate(d.buffer.data(), json.size(), d.buffer.capacity()).get(doc);
  if (!e) e = d.document(doc, receive_ns, r);
  if (e) {
    // Nothing of a broken frame is kept: not its metrics, not its trade ids.
    d.pending.clear();
    for (std::size_t i = 0; i < d.pairs.size(); ++i) {
      d.pairs[i].last_trade_id = d.saved_trade_ids[i];
      d.pairs[i].last_trade_time = d.saved_trade_times[i];
    }
    r.kind = FrameKind::kMalformed;
    if (r.error.empty()) r.error = simdjson::error_message(e);
    r.emitted = 0;
    r.repeated_trades = r.out_of_order_trades = 0;
    r.skipped_trade.clear();
    return r;
  }
  r.emitted = d.pending.size();
  for (auto& m : d.pending) out.emit(std::move(m));
  d.pending.clear();
  return r;
}

std::int64_t Decoder::lastTradeId(std::string_view pair) const {
  for (const auto& p : impl_->pairs) {
    if (p.name == pair) return p.last_trade_id;
  }
  return -1;
}

std::int64_t Decoder::lastTradeTime(std::string_view pair) const {
  for (const auto& p : impl_->pairs) {
    if (p.name == pair) return p.last_trade_time;
  }
  return 0;
}

bool Decoder::emitTrade(std::string_view pair_name, bool buy, bool market, double price,
                        double volume, std::int64_t trade_id, std::int64_t time_ns,
                        std::int64_t receive_ns, Emitter& out) {
  Impl::PairState* pair = impl_->findPair(pair_name);
  if (!pair || !impl_->acceptTrade(*pair, trade_id, time_ns)) return false;
  impl_->addTrade(*pair, buy, market, price, volume, trade_id, time_ns, receive_ns);
  for (auto& m : impl_->pending) out.emit(std::move(m));
  impl_->pending.clear();
  return true;
}

void Decoder::resetBooks() {
  for (auto& p : impl_->pairs) p.book = BookState{};
}

const BookState* Decoder::book(std::string_view pair) const {
  for (const auto& p : impl_->pairs) {
    if (p.name == pair) return &p.book;
  }
  return nullptr;
}

}  // namespace cvagent::inputs::kraken

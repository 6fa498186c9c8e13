#pragma once
// Kraken WebSocket v2 frame decoder: one raw frame in, metrics and a short verdict out. No I/O, so
// it is unit-tested and benchmarked without sockets; the transport (kraken_input.cc) acts on the
// verdict (counts, logs, resubscribes).

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cvagent/emitter.h"

namespace cvagent::inputs::kraken {

struct DecoderConfig {
  std::vector<std::string> pairs;  // v2 symbols; data for any other symbol is dropped
  std::size_t book_depth = 10;     // subscribed depth: the local book is truncated to it
  std::size_t book_levels = 0;     // book_level metrics per side after each book change
};

enum class FrameKind {
  kData,         // a channel data frame (possibly with rejected records)
  kHeartbeat,    // {"channel":"heartbeat"}
  kStatus,       // engine status
  kAck,          // subscribe / unsubscribe answer
  kPong,         // answer to our ping
  kRateLimited,  // {"Error":"Exceeded msg rate"}
  kIgnored,      // not for us: empty, not an object, unknown channel, v1 shape
  kMalformed,    // not valid JSON or not the shape its channel requires
};

// What one frame was. Strings are only filled for the rare kinds (acks, status, errors).
struct FrameResult {
  FrameKind kind = FrameKind::kIgnored;
  std::size_t emitted = 0;
  std::size_t rejected_records = 0;  // records dropped as malformed (counted per frame above)
  std::size_t foreign_records = 0;   // records for a symbol we did not subscribe
  // Trades skipped because their id is at or below the highest id already emitted for the pair
  // (one watermark per pair is the dedup): in a snapshot, Kraken's resend of recent trades on
  // (re)subscribe; in an update, a trade out of order or sent twice.
  std::size_t repeated_trades = 0;
  std::size_t out_of_order_trades = 0;
  std::string skipped_trade;  // "BTC/USD 93012290 <= 93012296", the last one skipped
  std::string error;          // why the frame or a record was rejected; ack error text
  // kAck
  std::string method;  // subscribe | unsubscribe
  bool success = false;
  std::string channel;
  std::string symbol;
  std::int64_t req_id = -1;
  // kStatus
  std::string system;  // online | maintenance | cancel_only | post_only
  std::uint64_t connection_id = 0;
  // Book pairs whose checksum failed: the caller resubscribes them (once; see bookResyncing()).
  std::vector<std::string> book_resync;
};

// Fixed-size copy of a decimal token as sent ("95863.2", "0.00100000"): the checksum needs the
// exact text and the book must not allocate per level.
struct DecimalText {
  std::array<char, 31> chars{};
  std::uint8_t size = 0;
  std::string_view view() const { return {chars.data(), size}; }
};

// One side of the L2 book: price -> level, best first.
struct BookLevel {
  DecimalText price_text;
  DecimalText qty_text;
  double price = 0;
  double qty = 0;
};

struct BookState {
  std::map<double, BookLevel, std::greater<>> bids;
  std::map<double, BookLevel> asks;
  bool valid = false;      // a snapshot was applied and every checksum since matched
  bool resyncing = false;  // a resubscribe was requested; updates are ignored until a snapshot
};

// CRC32 over the top 10 asks then the top 10 bids, as Kraken defines it (kraken-api.md §4).
std::uint32_t bookChecksum(const BookState& book);

class Decoder {
 public:
  explicit Decoder(DecoderConfig config, std::string exchange = "kraken");
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes one frame received at `receive_ns`. Metrics go to `out` only once the whole frame has
  // been read without a frame-level error (a frame is never half-processed).
  FrameResult decode(std::string_view frame, std::int64_t receive_ns, Emitter& out);

  // Trade ids already emitted: trades with an id at or below the last one of their pair are
  // duplicates (a snapshot after a reconnect, a REST backfill overlapping the stream).
  // -1 when no trade of that pair was seen.
  std::int64_t lastTradeId(std::string_view pair) const;
  std::int64_t lastTradeTime(std::string_view pair) const;
  // Emits a trade unless it is a duplicate; for the REST backfill. True when emitted.
  bool emitTrade(std::string_view pair, bool buy, bool market, double price, double volume,
                 std::int64_t trade_id, std::int64_t time_ns, std::int64_t receive_ns,
                 Emitter& out);

  // Forgets every book (after a reconnect the new snapshots are authoritative).
  void resetBooks();
  const BookState* book(std::string_view pair) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvagent::inputs::kraken

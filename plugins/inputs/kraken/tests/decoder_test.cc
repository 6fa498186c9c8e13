// Decoder tests: frames in, metrics out, no sockets. Data: tests/data (see SOURCES.md).
#include "decoder.h"
#include "recording.h"
#include "rest_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/time_util.h"

namespace cvagent::inputs::kraken {
namespace {

using cvagent::testing::CapturingEmitter;

constexpr std::int64_t kRx = 1'795'962'600'000'000'000;

// This plugin's fixtures, and those it shares with other plugins (tests/data/kraken).
std::string localData(const std::string& name) {
  return std::string(CVAGENT_TEST_DATA) + "/" + name;
}
std::string sharedData(const std::string& name) {
  return std::string(CVAGENT_SHARED_TEST_DATA) + "/kraken/" + name;
}

// Lines split on '\n' only: the malformed fixture has a line ending in '\r' and one with a NUL.
std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

DecoderConfig sessionConfig() { return {.pairs = {"BTC/USD", "ETH/USD", "SOL/USD"}}; }

double number(const Metric& m, std::string_view key) {
  double v = NAN;
  EXPECT_TRUE(m.numberField(key, v)) << m.name() << " has no " << key;
  return v;
}

std::int64_t int64Field(const Metric& m, std::string_view key) {
  const auto* v = m.field(key);
  EXPECT_TRUE(v && std::holds_alternative<std::int64_t>(*v)) << key;
  return v ? std::get<std::int64_t>(*v) : 0;
}

std::int64_t rfc3339(std::string_view text) {
  std::int64_t ns = 0;
  EXPECT_TRUE(parseRfc3339(text, ns));
  return ns;
}

TEST(KrakenDecoder, SessionRecordingGivesEveryTradeAndTickerOnce) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  std::size_t expected_trades = 0, expected_tickers = 0, acks = 0, heartbeats = 0;
  for (const auto& line : readLines(sharedData("ws_v2_session.jsonl"))) {
    // Expectations counted independently of the decoder: one trade_id per trade record.
    // Data frames start with their channel; acks mention it inside "result".
    if (line.rfind(R"({"channel":"trade")", 0) == 0) {
      for (auto pos = line.find("\"trade_id\""); pos != std::string::npos;
           pos = line.find("\"trade_id\"", pos + 1)) {
        ++expected_trades;
      }
    }
    if (line.rfind(R"({"channel":"ticker")", 0) == 0) ++expected_tickers;
    const FrameResult r = decoder.decode(line, kRx, out);
    ASSERT_NE(r.kind, FrameKind::kMalformed) << r.error << " in " << line.substr(0, 200);
    EXPECT_EQ(r.rejected_records, 0u) << line.substr(0, 200);
    if (r.kind == FrameKind::kAck) {
      ++acks;
      EXPECT_TRUE(r.success);
      EXPECT_FALSE(r.symbol.empty());
    }
    if (r.kind == FrameKind::kHeartbeat) ++heartbeats;
    if (r.kind == FrameKind::kStatus) {
      EXPECT_EQ(r.system, "online");
      EXPECT_EQ(r.connection_id, 14867308114766913455ULL);  // above 2^63: read as uint64
    }
  }
  EXPECT_EQ(acks, 6u);
  EXPECT_GT(heartbeats, 100u);
  const auto metrics = out.take();
  std::map<std::string, std::vector<std::int64_t>> ids_by_pair;
  std::size_t tickers = 0;
  for (const auto& m : metrics) {
    ASSERT_EQ(*m.tag("exchange"), "kraken");
    for (const auto& f : m.fields()) {
      if (const auto* d = std::get_if<double>(&f.value)) {
        ASSERT_TRUE(std::isfinite(*d));
      }
    }
    if (m.name() == "trade") {
      ids_by_pair[*m.tag("pair")].push_back(int64Field(m, "trade_id"));
      EXPECT_EQ(int64Field(m, "receive_time"), kRx);
    } else {
      ASSERT_EQ(m.name(), "ticker");
      ++tickers;
    }
  }
  std::size_t trades = 0;
  for (const auto& [pair, ids] : ids_by_pair) {
    trades += ids.size();
    for (std::size_t i = 1; i < ids.size(); ++i) {
      ASSERT_EQ(ids[i], ids[i - 1] + 1) << pair << ": no gap, no duplicate";
    }
  }
  EXPECT_EQ(ids_by_pair.size(), 3u);
  EXPECT_EQ(trades, expected_trades);
  EXPECT_EQ(tickers, expected_tickers);
}

TEST(KrakenDecoder, TradeFieldsTagsAndEventTime) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  const auto r = decoder.decode(
      R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":95865.5,"qty":0.23398095,"ord_type":"market","trade_id":93012296,"timestamp":"2026-11-24T14:27:29.582396Z"},{"symbol":"ETH/USD","side":"buy","price":3268.20,"qty":1.50000000,"ord_type":"limit","trade_id":7,"timestamp":"2026-11-24T14:27:30.000001Z"}]})",
      kRx, out);
  ASSERT_EQ(r.kind, FrameKind::kData);
  ASSERT_EQ(r.emitted, 2u);
  const auto m = out.take();
  EXPECT_EQ(m[0].name(), "trade");
  EXPECT_EQ(m[0].time(), rfc3339("2026-11-24T14:27:29.582396Z"));
  EXPECT_EQ(*m[0].tag("pair"), "BTC/USD");
  EXPECT_EQ(*m[0].tag("side"), "sell");
  EXPECT_EQ(number(m[0], "price"), 95865.5);
  EXPECT_EQ(number(m[0], "volume"), 0.23398095);
  EXPECT_EQ(int64Field(m[0], "trade_id"), 93012296);
  EXPECT_EQ(*m[0].stringField("ord_type"), "market");
  EXPECT_EQ(*m[1].tag("pair"), "ETH/USD");
  EXPECT_EQ(*m[1].tag("side"), "buy");
  EXPECT_EQ(*m[1].stringField("ord_type"), "limit");
}

TEST(KrakenDecoder, DuplicateTradesAreSuppressedById) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  const std::string frame =
      R"({"channel":"trade","type":"snapshot","data":[{"symbol":"BTC/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":10,"timestamp":"2026-11-24T14:27:29Z"},{"symbol":"BTC/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":11,"timestamp":"2026-11-24T14:27:30Z"}]})";
  EXPECT_EQ(decoder.decode(frame, kRx, out).emitted, 2u);
  const auto again = decoder.decode(frame, kRx, out);  // a snapshot again after a reconnect
  EXPECT_EQ(again.emitted, 0u);
  // Issue 16: skipped trades vanished without a count; a snapshot's are repeats.
  EXPECT_EQ(again.repeated_trades, 2u);
  EXPECT_EQ(again.out_of_order_trades, 0u);
  EXPECT_EQ(again.skipped_trade, "BTC/USD 11 <= 11");
  EXPECT_EQ(decoder.lastTradeId("BTC/USD"), 11);
  EXPECT_EQ(decoder.lastTradeTime("BTC/USD"), rfc3339("2026-11-24T14:27:30Z"));
  EXPECT_FALSE(decoder.emitTrade("BTC/USD", true, false, 1, 1, 11, 0, kRx, out));
  EXPECT_TRUE(decoder.emitTrade("BTC/USD", true, false, 1, 1, 12, 0, kRx, out));
  EXPECT_EQ(out.size(), 3u);
}

// Issue 16: a live update whose trade id is below the pair's highest was dropped silently.
TEST(KrakenDecoder, UpdateTradesBelowTheHighestIdAreCountedAsOutOfOrder) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  const auto update = [](int id) {
    return fmt::format(
        R"({{"channel":"trade","type":"update","data":[{{"symbol":"ETH/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":{},"timestamp":"2026-11-24T14:27:29Z"}}]}})",
        id);
  };
  EXPECT_EQ(decoder.decode(update(100), kRx, out).emitted, 1u);
  const auto late = decoder.decode(update(99), kRx, out);
  EXPECT_EQ(late.emitted, 0u);
  EXPECT_EQ(late.out_of_order_trades, 1u);
  EXPECT_EQ(late.repeated_trades, 0u);
  EXPECT_EQ(late.skipped_trade, "ETH/USD 99 <= 100");
  EXPECT_EQ(decoder.decode(update(100), kRx, out).out_of_order_trades, 1u);  // sent twice
  EXPECT_EQ(decoder.decode(update(101), kRx, out).out_of_order_trades, 0u);
}

TEST(KrakenDecoder, TickerFieldsFollowTheDataContract) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  decoder.decode(
      R"({"channel":"ticker","type":"snapshot","data":[{"symbol":"ETH/USD","bid":3268.19,"bid_qty":1.77627462,"ask":3268.20,"ask_qty":0.38639659,"last":3268.19,"volume":31877.40213655,"vwap":3279.06,"low":3224.80,"high":3342.55,"change":-32.98,"change_pct":-1.00,"timestamp":"2026-11-24T14:29:56.051635Z"}]})",
      kRx, out);
  const auto m = out.take();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].name(), "ticker");
  EXPECT_EQ(m[0].time(), rfc3339("2026-11-24T14:29:56.051635Z"));
  std::vector<std::string> keys;
  for (const auto& f : m[0].fields()) keys.push_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"last", "bid", "ask", "bid_qty", "ask_qty",
                                            "volume_24h", "vwap", "low", "high", "change",
                                            "change_pct", "receive_time"}));
  EXPECT_EQ(number(m[0], "change"), -32.98);
  EXPECT_EQ(number(m[0], "volume_24h"), 31877.40213655);
}

TEST(KrakenDecoder, OhlcCandlesAreStampedWithTheWindowStartAndClosedOnRollover) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  const auto candle = [](const char* begin, double close) {
    return fmt::format(
        R"({{"channel":"ohlc","type":"update","timestamp":"2026-10-06T18:06:02.264627814Z","data":[{{"symbol":"BTC/USD","open":85754.8,"high":85754.8,"low":85754.7,"close":{},"trades":5,"volume":0.00126522,"vwap":85754.7,"interval_begin":"{}","interval":1,"timestamp":"2026-10-06T18:07:00.000000Z"}}]}})",
        close, begin);
  };
  decoder.decode(candle("2026-10-06T18:06:00.000000000Z", 85754.8), kRx, out);
  decoder.decode(candle("2026-10-06T18:06:00.000000000Z", 85754.7), kRx, out);
  decoder.decode(candle("2026-10-06T18:07:00.000000000Z", 85760.0), kRx, out);
  const auto m = out.take();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].name(), "candle");
  EXPECT_EQ(*m[0].tag("interval"), "1m");
  EXPECT_EQ(m[0].time(), rfc3339("2026-10-06T18:06:00Z"));
  EXPECT_EQ(int64Field(m[0], "trades"), 5);
  EXPECT_EQ(std::get<bool>(*m[0].field("partial")), true);
  // The 18:06 candle, complete, with its last numbers; then the new partial one.
  EXPECT_EQ(m[2].time(), rfc3339("2026-10-06T18:06:00Z"));
  EXPECT_EQ(std::get<bool>(*m[2].field("partial")), false);
  EXPECT_EQ(number(m[2], "close"), 85754.7);
  EXPECT_EQ(m[3].time(), rfc3339("2026-10-06T18:07:00Z"));
  EXPECT_EQ(std::get<bool>(*m[3].field("partial")), true);
}

// Every line of ws_v2_malformed.jsonl, with the behaviour ws_v2_malformed.md asks for.
TEST(KrakenDecoder, MalformedFramesAreRejectedNeverEmittedAsGarbage) {
  const auto lines = readLines(localData("ws_v2_malformed.jsonl"));
  ASSERT_EQ(lines.size(), 41u);
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  std::map<int, FrameResult> results;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto before = out.size();
    results[static_cast<int>(i) + 1] = decoder.decode(lines[i], kRx, out);
    for (const auto& m : out.snapshot()) {
      for (const auto& f : m.fields()) {
        if (const auto* d = std::get_if<double>(&f.value)) {
          ASSERT_TRUE(std::isfinite(*d)) << "line " << i + 1;
        }
      }
    }
    (void)before;
  }
  const auto rejected = [&](int line) {
    const auto& r = results[line];
    return (r.kind == FrameKind::kMalformed || r.rejected_records > 0) && r.emitted == 0;
  };
  for (int line : {1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 14, 27, 28, 29, 30, 32, 33, 38}) {
    EXPECT_TRUE(rejected(line)) << "line " << line << ": " << results[line].error;
    EXPECT_FALSE(results[line].error.empty()) << "line " << line;
  }
  for (int line : {5, 12, 13, 24, 25, 26, 31, 37}) {
    EXPECT_EQ(results[line].kind, FrameKind::kIgnored) << "line " << line;
  }
  EXPECT_EQ(results[15].foreign_records, 6991u);  // 1 MiB of XRP/USD, never subscribed
  EXPECT_EQ(results[15].emitted, 0u);
  EXPECT_EQ(results[22].foreign_records, 1u);
  EXPECT_EQ(results[23].foreign_records, 1u);
  EXPECT_EQ(results[16].kind, FrameKind::kAck);
  EXPECT_FALSE(results[16].success);
  EXPECT_EQ(results[16].symbol, "XBT/USD");
  EXPECT_EQ(results[16].req_id, 7);
  EXPECT_EQ(results[16].error, "Currency pair not supported XBT/USD");
  EXPECT_FALSE(results[17].success);
  EXPECT_TRUE(results[17].symbol.empty());
  EXPECT_EQ(results[17].req_id, -1);
  EXPECT_EQ(results[18].req_id, 9);
  EXPECT_EQ(results[19].kind, FrameKind::kRateLimited);
  EXPECT_TRUE(results[20].success);
  EXPECT_EQ(results[20].method, "unsubscribe");
  EXPECT_EQ(results[34].kind, FrameKind::kStatus);
  EXPECT_EQ(results[34].system, "maintenance");
  EXPECT_EQ(results[34].connection_id, 18446744073709551615ULL);
  EXPECT_EQ(results[35].kind, FrameKind::kPong);
  EXPECT_EQ(results[39].kind, FrameKind::kHeartbeat);  // CR is JSON whitespace
  EXPECT_EQ(results[40].kind, FrameKind::kData);
  EXPECT_EQ(results[40].emitted, 0u);
  EXPECT_EQ(results[41].kind, FrameKind::kAck);
  EXPECT_FALSE(results[41].success);  // "true" as a string is not a success

  // Exactly two metrics got through: line 21 (SOL/USD ticker) and line 36 (exponent notation).
  const auto metrics = out.take();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(*metrics[0].tag("pair"), "SOL/USD");
  EXPECT_EQ(metrics[1].name(), "trade");
  EXPECT_EQ(number(metrics[1], "price"), 95870.3);
  EXPECT_EQ(number(metrics[1], "volume"), 0.000051);
  // Rejected trade ids are not remembered: the valid trade 93099006 was not taken as a duplicate.
  EXPECT_EQ(decoder.lastTradeId("BTC/USD"), 93099006);
}

TEST(KrakenDecoder, RejectedFrameLeavesNoTradeIdBehind) {
  Decoder decoder(sessionConfig());
  CapturingEmitter out;
  // First record fine, second cut off: the whole frame goes, and trade 20 is still new later.
  const auto r = decoder.decode(
      R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":20,"timestamp":"2026-11-24T14:27:29Z"},{"symbol":"BTC/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":21,"timestamp":"2026-11-24T14:27:30Z"}}]})",
      kRx, out);
  EXPECT_EQ(r.kind, FrameKind::kMalformed);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(decoder.lastTradeId("BTC/USD"), -1);
}

// Issue 16: a trade_id past 2^64 was stored as 0. It must be refused, counted as a rejected
// record with the reason, and never remembered as the last id.
TEST(KrakenDecoder, TradeIdsOutsideInt64AreRejectedNeverStored) {
  for (const char* id : {"18446744073709551617", "99999999999999999999999999",
                         "9223372036854775808", "-5", "1.5", "1e3", "\"12\""}) {
    Decoder decoder(sessionConfig());
    CapturingEmitter out;
    const auto r = decoder.decode(
        std::string(
            R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1.0,"qty":1.0,"ord_type":"limit","trade_id":)") +
            id + R"(,"timestamp":"2026-11-24T14:27:29Z"}]})",
        kRx, out);
    EXPECT_EQ(out.size(), 0u) << id;
    EXPECT_TRUE(r.kind == FrameKind::kMalformed || r.rejected_records == 1u) << id;
    EXPECT_NE(r.error.find("trade_id"), std::string::npos) << id << ": " << r.error;
    EXPECT_EQ(decoder.lastTradeId("BTC/USD"), -1) << id;
  }
}

// The depthcharge captures: real Kraken book frames with real checksums.
std::vector<std::string> depthchargeFrames(const std::string& name) {
  std::vector<std::string> frames;
  for (const auto& line : readLines(localData(name))) {
    const auto pos = line.find("\"frame\": ");
    if (pos == std::string::npos || line.find("\"dir\": \"tx\"") != std::string::npos) continue;
    // The frame is the verbatim text between "frame": and the line's closing brace.
    frames.push_back(line.substr(pos + 9, line.size() - pos - 9 - 1));
  }
  return frames;
}

class KrakenBookTest : public ::testing::TestWithParam<std::tuple<const char*, const char*, int>> {
};

TEST_P(KrakenBookTest, RealChecksumsMatchOnSnapshotAndEveryUpdate) {
  const auto [file, pair, depth] = GetParam();
  Decoder decoder(
      {.pairs = {pair}, .book_depth = static_cast<std::size_t>(depth), .book_levels = 3});
  CapturingEmitter out;
  std::size_t book_frames = 0;
  for (const auto& frame : depthchargeFrames(file)) {
    const FrameResult r = decoder.decode(frame, kRx, out);
    ASSERT_NE(r.kind, FrameKind::kMalformed) << r.error << ": " << frame.substr(0, 200);
    ASSERT_TRUE(r.book_resync.empty()) << r.error;
    if (frame.rfind(R"({"channel":"book")", 0) == 0) ++book_frames;
  }
  ASSERT_GT(book_frames, 20u);
  const BookState* book = decoder.book(pair);
  ASSERT_TRUE(book && book->valid);
  EXPECT_LE(book->bids.size(), static_cast<std::size_t>(depth));
  const auto metrics = out.take();
  std::size_t books = 0, levels = 0;
  for (const auto& m : metrics) {
    if (m.name() == "book") {
      ++books;
      EXPECT_GT(number(m, "best_ask"), number(m, "best_bid"));
      EXPECT_NEAR(number(m, "spread"), number(m, "best_ask") - number(m, "best_bid"), 1e-9);
      EXPECT_NEAR(number(m, "mid"), (number(m, "best_ask") + number(m, "best_bid")) / 2, 1e-9);
    } else {
      ASSERT_EQ(m.name(), "book_level");
      ++levels;
    }
  }
  // Every book frame validated and was emitted, each with 3 levels per side.
  EXPECT_EQ(books, book_frames);
  EXPECT_EQ(levels, books * 6);
}

INSTANTIATE_TEST_SUITE_P(
    Depthcharge, KrakenBookTest,
    ::testing::Values(std::make_tuple("kraken_btcusd_d10_20260816.head.ndjson", "BTC/USD", 10),
                      std::make_tuple("kraken_minagbp_d25_20260816.ndjson", "MINA/GBP", 25)),
    [](const auto& param_info) {
      std::string name = std::get<1>(param_info.param);
      std::replace(name.begin(), name.end(), '/', '_');
      return name + "_depth" + std::to_string(std::get<2>(param_info.param));
    });

TEST(KrakenDecoder, SpreadAndMidAreComputedOnTheExactDecimals) {
  Decoder decoder({.pairs = {"BTC/USD"}, .book_depth = 10});
  CapturingEmitter out;
  const auto frames = depthchargeFrames("kraken_btcusd_d10_20260816.head.ndjson");
  for (const auto& f : frames) decoder.decode(f, kRx, out);
  const auto metrics = out.take();
  ASSERT_FALSE(metrics.empty());
  // The snapshot's best bid 62802.5 and best ask 62802.6: one tick.
  EXPECT_EQ(number(metrics.front(), "best_bid"), 62802.5);
  EXPECT_EQ(number(metrics.front(), "best_ask"), 62802.6);
  EXPECT_EQ(number(metrics.front(), "spread"), 0.1);
  EXPECT_EQ(number(metrics.front(), "mid"), 62802.55);
}

TEST(KrakenDecoder, BookChecksumMismatchAsksForOneResyncAndIgnoresUpdatesUntilSnapshot) {
  const auto frames = depthchargeFrames("kraken_btcusd_d10_20260816.head.ndjson");
  Decoder decoder({.pairs = {"BTC/USD"}, .book_depth = 10});
  CapturingEmitter out;
  std::vector<std::string> updates;
  std::string snapshot;
  for (const auto& f : frames) {
    if (f.find(R"("type":"snapshot")") != std::string::npos &&
        f.find(R"("channel":"book")") != std::string::npos) {
      snapshot = f;
    } else if (f.find(R"("type":"update")") != std::string::npos &&
               f.find(R"("channel":"book")") != std::string::npos) {
      updates.push_back(f);
    }
  }
  ASSERT_FALSE(snapshot.empty());
  ASSERT_GE(updates.size(), 3u);
  decoder.decode(snapshot, kRx, out);
  // Corrupt the checksum of the first update.
  std::string bad = updates[0];
  const auto pos = bad.find("\"checksum\":");
  ASSERT_NE(pos, std::string::npos);
  bad.insert(pos + 11, "1");
  const FrameResult r = decoder.decode(bad, kRx, out);
  ASSERT_EQ(r.book_resync, std::vector<std::string>{"BTC/USD"});
  EXPECT_NE(r.error.find("checksum mismatch"), std::string::npos);
  EXPECT_TRUE(decoder.book("BTC/USD")->resyncing);
  // Later updates are ignored (no second resync request, nothing emitted) until a snapshot.
  const auto emitted_before = out.size();
  EXPECT_TRUE(decoder.decode(updates[1], kRx, out).book_resync.empty());
  EXPECT_EQ(out.size(), emitted_before);
  decoder.decode(snapshot, kRx, out);
  EXPECT_TRUE(decoder.book("BTC/USD")->valid);
  EXPECT_EQ(out.size(), emitted_before + 1);
}

TEST(KrakenDecoder, BookChecksumFollowsTheDocumentedExample) {
  // kraken-api.md §4: "45285.2" gives 452852, "0.00100000" gives 100000.
  BookState book;
  BookLevel ask;
  const std::string_view price = "45285.2", qty = "0.00100000";
  std::copy(price.begin(), price.end(), ask.price_text.chars.begin());
  ask.price_text.size = static_cast<std::uint8_t>(price.size());
  std::copy(qty.begin(), qty.end(), ask.qty_text.chars.begin());
  ask.qty_text.size = static_cast<std::uint8_t>(qty.size());
  book.asks.emplace(45285.2, ask);
  // CRC32("452852100000") computed independently (python3 -c 'import zlib;
  // print(zlib.crc32(b"452852100000"))').
  EXPECT_EQ(bookChecksum(book), 2099347975u);
}

TEST(KrakenRest, ParsesARealTradesResponse) {
  std::ifstream in(sharedData("http_trades.json"));
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const RestTradesPage page = parseTradesResponse(body);
  ASSERT_EQ(page.trades.size(), 1000u);
  EXPECT_EQ(page.trades[0].price, 105433.6);
  EXPECT_EQ(page.trades[0].volume, 0.00027625);
  EXPECT_TRUE(page.trades[0].buy);
  EXPECT_FALSE(page.trades[0].market);
  EXPECT_EQ(page.trades[0].trade_id, 10218208);
  EXPECT_EQ(page.trades[0].time_ns, 1762795433971745000);  // to the microsecond
  EXPECT_FALSE(page.last.empty());
  for (std::size_t i = 1; i < page.trades.size(); ++i) {
    ASSERT_GT(page.trades[i].trade_id, page.trades[i - 1].trade_id);
  }
}

TEST(KrakenRest, KrakenErrorsAndBadBodiesAreClearErrors) {
  try {
    parseTradesResponse(R"({"error":["EQuery:Unknown asset pair"]})");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Kraken error: EQuery:Unknown asset pair");
  }
  EXPECT_THROW(parseTradesResponse("<html>502</html>"), std::runtime_error);
  EXPECT_THROW(parseTradesResponse(R"({"error":[],"result":{"X":[["1","2"]]}})"),
               std::runtime_error);
  EXPECT_EQ(restPairName("BTC/USD"), "BTCUSD");
  std::int64_t ns = 0;
  ASSERT_TRUE(parseEpochSeconds("1534614057.321597", ns));
  EXPECT_EQ(ns, 1534614057321597000);
}

TEST(KrakenRecording, LinesRoundTripAnyFrameBytes) {
  const std::string frame = std::string("{\"channel\":\"heartbeat\"}\r\x01\x00\xff\xfe", 28);
  std::string line;
  appendRecordLine(42, frame, line);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::int64_t rx = 0;
  std::string back, error;
  // Bytes that are not UTF-8 make the line unreadable as JSON: reported, not mangled.
  EXPECT_FALSE(parseRecordLine(line, rx, back, error));
  EXPECT_FALSE(error.empty());
  line.clear();
  appendRecordLine(42, frame.substr(0, 26), line);
  ASSERT_TRUE(parseRecordLine(line, rx, back, error)) << error;
  EXPECT_EQ(rx, 42);
  EXPECT_EQ(back, frame.substr(0, 26));
}

// From fuzzing (fuzz/regressions/kraken_decoder): an ack whose `result` object is broken JSON
// made the decoder look keys up in an iterator simdjson had given up on (a null dereference).
TEST(KrakenDecoder, AckWithBrokenResultIsMalformed) {
  Decoder decoder({.pairs = {"BTC/USD"}});
  CapturingEmitter out;
  const FrameResult r = decoder.decode(
      R"({"method":"subscribe","result":{"chknnel":"ticker","symbol":"BUCDU"S/},"success":true})",
      0, out);
  EXPECT_EQ(r.kind, FrameKind::kMalformed);
  EXPECT_EQ(out.size(), 0u);
  const FrameResult ok = decoder.decode(
      R"({"method":"subscribe","result":{"channel":"ticker","symbol":"BTC/USD"},"success":true})",
      0, out);
  EXPECT_EQ(ok.kind, FrameKind::kAck);
  EXPECT_EQ(ok.channel, "ticker");
  EXPECT_EQ(ok.symbol, "BTC/USD");
  EXPECT_TRUE(ok.success);
}

}  // namespace
}  // namespace cvagent::inputs::kraken

// One spelling of every interval: Kraken's ohlc channel (inputs.kraken) and candles built from
// trades (processors.ohlc) over the same weekly window land under one ohlc_data key. `interval`
// is part of that key, so `1w` from one and `7d` from the other would be two rows of one series.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "contract/contract.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/test_context.h"
#include "decoder.h"
#include "ohlc_processor.h"

namespace cvagent {
namespace {

using namespace std::chrono_literals;

// 2026-11-26T00:00:00Z, a Thursday: weeks counted from the epoch start on Thursdays.
constexpr std::int64_t kWeekStartNs = 1'795'651'200'000'000'000;

// The values of a candle's ohlc_data primary key columns, as the contract maps them.
std::vector<std::string> tableKey(const Metric& candle) {
  const contract::Kind& kind = *contract::kindOf("candle");
  std::vector<std::string> key;
  for (std::string_view column : kind.table_key) {
    for (const contract::Member& m : kind.members) {
      if (m.column != column) continue;
      if (m.from == contract::From::kTime) {
        key.push_back(std::to_string(candle.time()));
      } else if (const std::string* tag = candle.tag(m.key)) {
        key.push_back(*tag);
      } else {
        key.push_back(std::string(m.text_default));
      }
    }
  }
  return key;
}

TEST(ContractIntervals, KrakenAndOhlcLabelTheSameWeekAlike) {
  std::vector<Metric> candles;

  // Kraken's weekly candle (interval 10080 minutes), still open (partial).
  inputs::kraken::Decoder decoder(inputs::kraken::DecoderConfig{{"BTC/USD"}});
  testing::CapturingEmitter from_kraken;
  const auto frame = [](const char* begin) {
    return std::string(
               R"({"channel":"ohlc","type":"update","timestamp":"2026-12-01T10:00:00.000000Z","data":[{"symbol":"BTC/USD","open":95000.0,"high":96000.0,"low":94000.0,"close":95500.0,"trades":3,"volume":1.5,"vwap":95300.0,"interval_begin":")") +
           begin + R"(","interval":10080,"timestamp":"2026-12-01T10:00:00.000000Z"}]})";
  };
  const auto result =
      decoder.decode(frame("2026-11-26T00:00:00.000000000Z"), kWeekStartNs, from_kraken);
  ASSERT_TRUE(result.error.empty()) << result.error;
  ASSERT_EQ(result.emitted, 1u);
  for (const Metric& m : from_kraken.take()) {
    if (m.name() == "candle") candles.push_back(m);
  }

  // processors.ohlc over trades of the same week, `intervals: [7d]` as a user would write it.
  processors::ohlc::OhlcOptions options;
  options.intervals = {7 * 24h};
  options.grace = 0s;
  testing::TestContext context;
  processors::ohlc::OhlcProcessor processor(options, context);
  testing::CapturingEmitter from_ohlc;
  std::int64_t id = 1;
  for (std::int64_t offset : {std::int64_t{3'600'000'000'000}, std::int64_t{86'400'000'000'000},
                              std::int64_t{5 * 86'400'000'000'000}}) {
    Metric trade("trade", kWeekStartNs + offset);
    trade.setTag("exchange", "kraken");
    trade.setTag("pair", "BTC/USD");
    trade.setTag("side", "buy");
    trade.setField("price", 95000.0 + static_cast<double>(id));
    trade.setField("volume", 0.5);
    trade.setField("trade_id", id++);
    processor.process(std::move(trade), from_ohlc);
  }
  processor.flush(from_ohlc);
  for (const Metric& m : from_ohlc.take()) {
    if (m.name() == "candle") candles.push_back(m);
  }

  std::set<std::string> sources;
  std::set<std::vector<std::string>> keys;
  for (const Metric& c : candles) {
    SCOPED_TRACE(c.tag("interval") ? *c.tag("interval") : "(no interval)");
    ASSERT_NE(c.tag("interval"), nullptr);
    EXPECT_EQ(*c.tag("interval"), contract::intervalLabel(7 * 24h));
    EXPECT_EQ(c.time(), kWeekStartNs);
    keys.insert(tableKey(c));
  }
  ASSERT_GE(candles.size(), 2u) << "both the kraken input and the ohlc processor emit a candle";
  EXPECT_EQ(keys.size(), 1u) << "one weekly window, one ohlc_data key";
  EXPECT_EQ(contract::intervalLabel(7 * 24h), "1w");
}

}  // namespace
}  // namespace cvagent

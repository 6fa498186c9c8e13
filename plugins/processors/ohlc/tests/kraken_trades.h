#pragma once
// Test-only loaders: Kraken recordings to `trade` metrics (the data contract's shape), independent
// of the Kraken input plugin.

#include <cstdint>
#include <string>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::processors::ohlc::testing {

// Every entry of every `trade` channel frame (snapshot and update) of a WS v2 JSON-lines session.
std::vector<Metric> loadWsV2Trades(const std::string& path);

// REST /0/public/Trades rows: [price, volume, time (epoch s), b|s, m|l, misc, trade_id].
std::vector<Metric> loadRestTrades(const std::string& path, const std::string& pair_tag);

// One REST /0/public/OHLC row, numbers kept as Kraken printed them.
struct RestOhlcRow {
  std::int64_t time_ns = 0;
  std::string open, high, low, close, vwap, volume;
  std::int64_t count = 0;
};
std::vector<RestOhlcRow> loadRestOhlc(const std::string& path);

}  // namespace cvagent::processors::ohlc::testing

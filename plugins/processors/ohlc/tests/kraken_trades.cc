#include "kraken_trades.h"

#include <simdjson.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "cvagent/time_util.h"

namespace cvagent::processors::ohlc::testing {

namespace {

Metric tradeMetric(std::string_view pair, std::string_view side, double price, double volume,
                   std::int64_t trade_id, std::string_view ord_type, std::int64_t time_ns) {
  Metric m("trade", time_ns);
  m.setTag("exchange", "kraken");
  m.setTag("pair", pair);
  m.setTag("side", side);
  m.setField("price", price);
  m.setField("volume", volume);
  m.setField("trade_id", trade_id);
  m.setField("ord_type", std::string(ord_type));
  return m;
}

// The REST result holds one key per pair plus `last`.
simdjson::dom::array restRows(simdjson::dom::element doc) {
  for (auto [key, value] : doc["result"].get_object()) {
    if (key != "last") return value.get_array();
  }
  throw std::runtime_error("no pair in REST result");
}

double number(simdjson::dom::element e) {
  if (e.is_string()) return std::stod(std::string(e.get_string().value()));
  return e.get_double();
}

}  // namespace

std::vector<Metric> loadWsV2Trades(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  simdjson::dom::parser parser;
  std::vector<Metric> out;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element frame = parser.parse(line);
    std::string_view channel;
    if (frame["channel"].get(channel) != simdjson::SUCCESS || channel != "trade") continue;
    for (simdjson::dom::element t : frame["data"].get_array()) {
      std::int64_t time_ns = 0;
      if (!parseRfc3339(t["timestamp"].get_string().value(), time_ns)) {
        throw std::runtime_error("bad timestamp in " + path);
      }
      out.push_back(tradeMetric(t["symbol"].get_string().value(), t["side"].get_string().value(),
                                t["price"].get_double(), t["qty"].get_double(),
                                t["trade_id"].get_int64(), t["ord_type"].get_string().value(),
                                time_ns));
    }
  }
  return out;
}

std::vector<Metric> loadRestTrades(const std::string& path, const std::string& pair_tag) {
  simdjson::dom::parser parser;
  simdjson::padded_string json = simdjson::padded_string::load(path);
  std::vector<Metric> out;
  for (simdjson::dom::element row : restRows(parser.parse(json))) {
    auto r = row.get_array();
    const double seconds = r.at(2).get_double();
    const auto time_ns = static_cast<std::int64_t>(std::llround(seconds * 1e9));
    const bool buy = r.at(3).get_string().value() == "b";
    const bool market = r.at(4).get_string().value() == "m";
    out.push_back(tradeMetric(pair_tag, buy ? "buy" : "sell", number(r.at(0)), number(r.at(1)),
                              r.at(6).get_int64(), market ? "market" : "limit", time_ns));
  }
  return out;
}

std::vector<RestOhlcRow> loadRestOhlc(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::padded_string json = simdjson::padded_string::load(path);
  std::vector<RestOhlcRow> out;
  for (simdjson::dom::element row : restRows(parser.parse(json))) {
    auto r = row.get_array();
    RestOhlcRow o;
    o.time_ns = r.at(0).get_int64().value() * 1'000'000'000;
    o.open = std::string(r.at(1).get_string().value());
    o.high = std::string(r.at(2).get_string().value());
    o.low = std::string(r.at(3).get_string().value());
    o.close = std::string(r.at(4).get_string().value());
    o.vwap = std::string(r.at(5).get_string().value());
    o.volume = std::string(r.at(6).get_string().value());
    o.count = r.at(7).get_int64();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace cvagent::processors::ohlc::testing

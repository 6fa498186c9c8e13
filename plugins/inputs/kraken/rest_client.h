#pragma once
// Kraken's public REST API, for the one thing the stream cannot give: the trades missed while the
// WebSocket was down (/0/public/Trades?pair=...&since=...).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_client.h"

namespace cvagent::inputs::kraken {

struct RestTrade {
  double price = 0;
  double volume = 0;
  std::int64_t time_ns = 0;
  bool buy = false;
  bool market = false;
  std::int64_t trade_id = -1;  // -1 in old responses without the 7th element
};

struct RestTradesPage {
  std::vector<RestTrade> trades;
  std::string last;  // nanosecond cursor for the next `since`
};

// Parses a Trades response body. Throws std::runtime_error naming the problem (Kraken's `error`
// strings, invalid JSON, a row of the wrong shape).
RestTradesPage parseTradesResponse(std::string_view body);

// "BTC/USD" -> "BTCUSD": the REST altname form Kraken accepts for the `pair` parameter.
std::string restPairName(std::string_view ws_pair);

// "1762795433.9717445" -> ns, exactly (no float round trip). False when not a decimal.
bool parseEpochSeconds(std::string_view text, std::int64_t& ns_out);

// Kraken's REST API through the plugins' shared HTTP client (plugins/common/http): verified TLS,
// timeouts, a body limit, bounded redirects, gzip.
class RestClient {
 public:
  // A Trades page of 1000 rows is about 100 KB; anything near this limit is not Kraken.
  static constexpr std::uint64_t kMaxBodyBytes = 16 << 20;

  // `cancelled` aborts a transfer in flight (the input is stopping).
  RestClient(std::string base_url, std::string ca_file, std::chrono::milliseconds timeout,
             const std::atomic<bool>& cancelled);
  // GET base_url + path_and_query; throws std::runtime_error with the URL and the reason on a
  // transport error or an HTTP status other than 200.
  std::string get(const std::string& path_and_query);

 private:
  std::string base_url_;
  common::http::HttpClient http_;
};

}  // namespace cvagent::inputs::kraken

#pragma once
// Kraken's public REST API, for the one thing the stream cannot give: the trades missed while the
// WebSocket was down (/0/public/Trades?pair=...&since=...).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// Kraken's REST API over Boost.Beast, on the TLS stack the WebSocket already uses (OpenSSL through
// Asio): TLS verified against the system store or `ca_file`, SNI and host name checked, one
// deadline for the whole request, a body limit, no redirects (Kraken sends none). Not libcurl:
// Debian's libcurl pulls GnuTLS, Kerberos, LDAP and a dozen more libraries into every agent that
// reads Kraken, about 4 MB of resident memory for one request per reconnect.
class RestClient {
 public:
  // A Trades page of 1000 rows is about 100 KB; anything near this limit is not Kraken.
  static constexpr std::uint64_t kMaxBodyBytes = 16 << 20;

  // `base_url`: http:// or https://host[:port][/prefix]; throws std::invalid_argument otherwise.
  // `cancelled` aborts a request in flight (the input is stopping).
  RestClient(std::string base_url, std::string ca_file, std::chrono::milliseconds timeout,
             const std::atomic<bool>& cancelled);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // GET base_url + path_and_query; throws std::runtime_error with the URL and the reason on a
  // transport error, a timeout, a cancel or an HTTP status other than 200.
  std::string get(const std::string& path_and_query);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvagent::inputs::kraken

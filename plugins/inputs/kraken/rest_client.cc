#include "rest_client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <stdexcept>

namespace cvagent::inputs::kraken {
namespace {

namespace dom = simdjson::dom;

double decimalField(dom::element e, const char* what) {
  std::string_view text;
  if (e.get_string().get(text)) throw std::runtime_error(fmt::format("{} is not a string", what));
  double v = 0;
  if (simdjson::dom::parser p; p.parse(std::string(text)).get_double().get(v)) {
    throw std::runtime_error(fmt::format("{} '{}' is not a number", what, text));
  }
  return v;
}

}  // namespace

bool parseEpochSeconds(std::string_view text, std::int64_t& ns_out) {
  std::int64_t seconds = 0, frac = 0, scale = 1'000'000'000;
  std::size_t i = 0;
  if (text.empty()) return false;
  for (; i < text.size() && text[i] != '.'; ++i) {
    if (text[i] < '0' || text[i] > '9' || seconds > 100'000'000'000) return false;
    seconds = seconds * 10 + (text[i] - '0');
  }
  if (i < text.size()) {
    ++i;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      scale /= 10;
      frac += (text[i] - '0') * scale;
    }
  }
  ns_out = seconds * 1'000'000'000 + frac;
  return true;
}

std::string restPairName(std::string_view ws_pair) {
  std::string out;
  for (char c : ws_pair) {
    if (c != '/') out += c;
  }
  return out;
}

RestTradesPage parseTradesResponse(std::string_view body) {
  dom::parser parser;
  dom::element doc;
  if (auto e = parser.parse(body.data(), body.size()).get(doc)) {
    throw std::runtime_error(fmt::format("invalid JSON: {}", simdjson::error_message(e)));
  }
  dom::array errors;
  if (!doc["error"].get_array().get(errors) && errors.size() > 0) {
    std::string text;
    for (auto err : errors) {
      std::string_view s;
      if (!err.get_string().get(s)) text += (text.empty() ? "" : "; ") + std::string(s);
    }
    throw std::runtime_error(fmt::format("Kraken error: {}", text));
  }
  dom::object result;
  if (doc["result"].get_object().get(result)) throw std::runtime_error("no result object");
  RestTradesPage page;
  // The result key need not match the requested spelling (ask XBTUSD, get XXBTZUSD): take every
  // key except `last`.
  for (auto [key, value] : result) {
    if (key == "last") {
      std::string_view s;
      if (!value.get_string().get(s)) {
        page.last = s;
      } else if (std::uint64_t n = 0; !value.get_uint64().get(n)) {
        page.last = std::to_string(n);
      }
      continue;
    }
    dom::array rows;
    if (value.get_array().get(rows)) throw std::runtime_error("trades are not an array");
    for (dom::element row_element : rows) {
      dom::array row;
      if (row_element.get_array().get(row) || row.size() < 6) {
        throw std::runtime_error("trade row is not an array of 6 or 7 elements");
      }
      RestTrade t;
      t.price = decimalField(row.at(0), "price");
      t.volume = decimalField(row.at(1), "volume");
      // Kraken sends the time as a float with 7 to 9 fractional digits; a double keeps the
      // microseconds, which is all the `since` cursor needs (trade ids do the deduplication).
      if (dom::element time = row.at(2); time.is_string()) {
        if (!parseEpochSeconds(std::string_view(time.get_string()), t.time_ns)) {
          throw std::runtime_error("trade time is not epoch seconds");
        }
      } else if (double seconds = 0; !time.get_double().get(seconds) && std::isfinite(seconds)) {
        t.time_ns = std::llround(seconds * 1e6) * 1000;
      } else {
        throw std::runtime_error("trade time is not a number");
      }
      std::string_view side, type;
      if (row.at(3).get_string().get(side) || row.at(4).get_string().get(type) ||
          (side != "b" && side != "s") || (type != "m" && type != "l")) {
        throw std::runtime_error("trade side or order type is not b/s, m/l");
      }
      t.buy = side == "b";
      t.market = type == "m";
      if (row.size() >= 7) {
        std::int64_t id = -1;
        if (row.at(6).get_int64().get(id)) throw std::runtime_error("trade_id is not an integer");
        t.trade_id = id;
      }
      page.trades.push_back(t);
    }
  }
  return page;
}

}  // namespace cvagent::inputs::kraken

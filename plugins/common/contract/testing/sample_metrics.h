#pragma once
// One metric of every kind of the data contract, as the plugins that produce them emit them.

#include <algorithm>
#include <vector>

#include "cvagent/metric.h"
#include "cvagent/testing/metric_builder.h"

namespace cvagent::testing {

inline constexpr std::int64_t kEventNs = 1'795'962'600'123'456'000;  // microsecond precision

inline std::vector<Metric> everyKind() {
  return {
      MetricBuilder("ticker")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .field("last", FieldValue{95863.2})
          .field("bid", FieldValue{95863.1})
          .field("ask", FieldValue{95863.3})
          .field("bid_qty", FieldValue{0.5})
          .field("ask_qty", FieldValue{1.25})
          .field("volume_24h", FieldValue{1234.5678})
          .field("vwap", FieldValue{95000.25})
          .field("low", FieldValue{94000.0})
          .field("high", FieldValue{96000.0})
          .field("change", FieldValue{863.2})
          .field("change_pct", FieldValue{0.91})
          .field("receive_time", FieldValue{std::int64_t{kEventNs + 2'000'000}})
          .time(kEventNs),
      MetricBuilder("trade")
          .tag("exchange", "kraken")
          .tag("pair", "ETH/USD")
          .tag("side", "sell")
          .field("price", FieldValue{3456.78})
          .field("volume", FieldValue{0.125})
          .field("trade_id", FieldValue{std::int64_t{987654321}})
          .field("ord_type", "limit")
          .field("receive_time", FieldValue{std::int64_t{kEventNs + 1'000}})
          .time(kEventNs + 1),
      MetricBuilder("candle")
          .tag("exchange", "kraken")
          .tag("interval", "1m")
          .tag("pair", "BTC/USD")
          .field("open", FieldValue{95000.0})
          .field("high", FieldValue{95100.5})
          .field("low", FieldValue{94900.25})
          .field("close", FieldValue{95050.0})
          .field("volume", FieldValue{12.5})
          .field("vwap", FieldValue{95010.0})
          .field("trades", FieldValue{std::int64_t{42}})
          .field("partial", false)
          .time(1'795'962'600'000'000'000),
      MetricBuilder("article")
          .tag("source", "CoinDesk")
          .field("id", "https://example.com/a/1")
          .field("title", "Bitcoin \"rallies\"\nagain")
          .field("url", "https://example.com/a/1")
          .field("summary", "Short summary")
          .field("text", "Body text with unicode: \u00e9\u20ac")
          .field("receive_time", FieldValue{std::int64_t{kEventNs + 60'000'000'000}})
          .field("coins", "BTC,ETH")
          .field("sentiment", FieldValue{0.4404})
          .field("sentiment_label", "positive")
          .field("sentiment_score", FieldValue{0.7202})
          .time(kEventNs),
      MetricBuilder("sentiment")
          .tag("symbol", "BTC")
          .field("score", FieldValue{0.25})
          .field("label", "positive")
          .field("confidence", FieldValue{0.8})
          .field("articles", FieldValue{std::int64_t{7}})
          .time(kEventNs),
      MetricBuilder("alert")
          .tag("pair", "BTC/USD")
          .tag("rule", "tick_change")
          .tag("severity", "warning")
          .field("last", FieldValue{95863.2})
          .field("change", FieldValue{-0.75})
          .field("threshold", FieldValue{0.5})
          .field("type", "price_drop")
          .field("message", "BTC/USD fell 0.75%")
          .time(1'795'962'600'123'000'000),  // alerts travel in milliseconds
      MetricBuilder("prediction")
          .tag("horizon", "5m")
          .tag("model", "moving_average")
          .tag("symbol", "BTC")
          .field("predicted_price", FieldValue{95900.0})
          .field("actual_price", FieldValue{95863.2})
          .field("ci_low", FieldValue{95000.0})
          .field("ci_high", FieldValue{96800.0})
          .time(kEventNs),
  };
}

// The order book kinds inputs.kraken emits (no Kafka shape in the replaced stack).
inline std::vector<Metric> bookKinds() {
  return {
      MetricBuilder("book")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .field("best_bid", FieldValue{95863.1})
          .field("best_bid_qty", FieldValue{0.5})
          .field("best_ask", FieldValue{95863.3})
          .field("best_ask_qty", FieldValue{1.5})
          .field("spread", FieldValue{0.2})
          .field("mid", FieldValue{95863.2})
          .field("checksum", FieldValue{std::int64_t{3310070434}})
          .field("receive_time", FieldValue{std::int64_t{kEventNs + 1'000}})
          .time(kEventNs),
      MetricBuilder("book_level")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .tag("side", "bid")
          .tag("level", "3")
          .field("price", FieldValue{95860.0})
          .field("qty", FieldValue{2.0})
          .time(kEventNs),
  };
}

// Field order is the producer's; two metrics are the same data when their sorted fields match.
inline Metric sortedFields(const Metric& m) {
  Metric out(m.name(), m.time());
  for (const auto& t : m.tags()) out.setTag(t.key, t.value);
  auto fields = m.fields();
  std::sort(fields.begin(), fields.end(),
            [](const Field& a, const Field& b) { return a.key < b.key; });
  for (auto& f : fields) out.setField(f.key, f.value);
  return out;
}

}  // namespace cvagent::testing

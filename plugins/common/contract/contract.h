#pragma once
// The data contract of the replaced stack (architecture.md §7; seed-system.md §3 and §7), declared
// once: each metric kind's tags and fields with their types and units, its Kafka topic, message key
// and JSON shape, its table and columns. What the sinks write is derived from these declarations:
// the Kafka shapes (kafka_json.h), the table rows (table_row.h). sql/migrations must agree with
// them (tests/schema_test.cc checks it against a real PostgreSQL).
//
// Adding a field to a kind is one line in contract.cc: it is written under its own name in the
// kind's Kafka shape, read back, and stored in its column.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cvagent/metric.h"

namespace cvagent::contract {

// The type of a column, and of the value a metric carries for it.
enum class ColumnType : std::uint8_t {
  kTime,       // int64 ns since the epoch (a field, or the metric's time), stored as TIMESTAMPTZ
  kText,       // UTF-8 text
  kDouble,     // float8
  kInt,        // int8
  kBool,       // boolean
  kIntText,    // a tag holding an integer (tags are text), stored as int4
  kTextArray,  // comma-separated text, stored as TEXT[]
};

// Where a member's value is in a metric.
enum class From : std::uint8_t { kTime, kTag, kField };

enum class Need : std::uint8_t {
  kRequired,  // a row without it is refused, naming it
  kOptional,  // NULL when absent
  kDefault,   // the member's default when absent
};

// How a value becomes its column when not as it is (the legacy consumers' vocabulary).
enum class Rule : std::uint8_t {
  kAsIs,
  kSideLetter,  // buy/sell as b/s (trade_data.side, rawtrade `side`)
  kCoinList,    // "BTC, ETH,,SOL" as {BTC,ETH,SOL} (cleanCoinList)
  kIdOrUrl,     // the field, else the `url` field (the old producer used the URL as the id)
  kAlertType,   // the `type` field upper-cased, else PRICE_UP / PRICE_DOWN by the sign of `change`
  kUnitScore,   // a -1..1 score on the old 0..1 scale: (x + 1) / 2
};

// One tag or field of a kind (or the metric's time) and its column.
struct Member {
  From from;
  std::string_view key;  // tag or field key in the metric; "" for From::kTime
  ColumnType type;
  std::string_view unit;    // "quote currency", "ns since epoch", ... ("" when unitless)
  std::string_view column;  // its column in the kind's table
  Need need = Need::kOptional;
  Rule rule = Rule::kAsIs;
  std::string_view text_default = {};  // Need::kDefault of text members
  double number_default = 0;           // Need::kDefault of number, integer and bool members
  std::string_view json = {};  // its key in the Kafka shape when not `key` (legacy spelling)

  std::string_view jsonKey() const { return json.empty() ? key : json; }
};

// How a shape's legacy `timestamp` counts time.
enum class LegacyTime : std::uint8_t { kSeconds, kMilliseconds };

// A topic outputs.kafka can create, with the existing stack's settings
// (scripts/create_kafka_topics.sh).
struct TopicSettings {
  int partitions = 3;
  int retention_days = 30;
  std::uint64_t segment_bytes = 128ULL << 20;
  bool legacy = false;  // written by the replaced stack (inputs.kafka reads these by default)
  bool create = true;   // created by outputs.kafka's create_default_topics
};

struct Kind {
  std::string_view name;   // metric name: "trade"
  std::string_view topic;  // default Kafka topic: "rawtrade"
  TopicSettings topic_settings;
  std::string_view key_tag;  // Kafka message key: "pair"
  LegacyTime legacy_time = LegacyTime::kSeconds;
  std::string_view table;                   // "trade_data"
  std::vector<Member> members;              // in column order, the time first
  std::vector<std::string_view> table_key;  // primary key columns: the ON CONFLICT target
  // false: the first stored copy wins (immutable events); true: the newest copy replaces the row
  // (derived rows that can be recomputed: candles, sentiment, predictions, enriched articles).
  bool upsert = false;
  std::string_view upsert_guard;       // extra "WHERE ..." of DO UPDATE, or empty
  std::vector<std::string_view> tags;  // tag keys (derived from `members`)

  bool isTag(std::string_view key) const;
};

// Every kind, in a stable order (the index is a kind id).
const std::vector<Kind>& kinds();
// The kind of a metric name, or nullptr.
const Kind* kindOf(std::string_view metric_name);
// The kind names, comma-separated (for error messages).
std::string kindNames();

// The default topic of a metric ("" when it is no contract kind).
std::string_view topicOf(const Metric& metric);
// The kind whose default topic `topic` is: what a message on it holds when nothing else says.
// nullptr for any other topic (and for a topic two kinds would share).
const Kind* kindOfTopic(std::string_view topic);
// The Kafka message key of a metric (its kind's key tag), or nullptr.
const std::string* keyOf(const Metric& metric);

// Kraken's legacy asset codes (REST keys, WS v1 names) and the codes the contract uses (WS v2,
// ISO-style): XBT and XXBT are BTC, XDG is DOGE, ZUSD is USD...
const std::map<std::string, std::string>& legacyAssetCodes();
// How the replaced stack's consumers spell an asset in a pair (Kraken WS v1: `XBT/USD`): BTC is
// XBT, DOGE is XDG, any other code as it is.
std::string_view legacyAssetSpelling(std::string_view asset);

// Canonical interval labels (candle `interval` tag, and everything else that names a window): the
// largest of w, d, h, m, s, ms, us, ns that divides it, so 10080 minutes is `1w` (never `7d`),
// 15 days `15d`, 90 minutes `90m`. Every plugin labels windows with this.
std::string intervalLabel(std::chrono::nanoseconds interval);

// The coins of an article's `coins` field ("BTC, ETH,,SOL"), trimmed, empty ones dropped, for
// every sink. Calls `each` with each coin in order.
template <typename Each>
void forEachCoin(std::string_view coins, Each&& each) {
  while (!coins.empty()) {
    const auto comma = coins.find(',');
    std::string_view coin = coins.substr(0, comma);
    coins = comma == std::string_view::npos ? std::string_view() : coins.substr(comma + 1);
    const auto first = coin.find_first_not_of(" \t\n\r\v\f");
    if (first == std::string_view::npos) continue;
    coin = coin.substr(first, coin.find_last_not_of(" \t\n\r\v\f") - first + 1);
    each(coin);
  }
}
// "BTC, ETH,,SOL" -> "BTC,ETH,SOL"
std::string cleanCoinList(std::string_view coins);

}  // namespace cvagent::contract

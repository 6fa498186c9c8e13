#pragma once
// How cvagent metrics look on Kafka: the JSON shapes the existing stack's consumers read
// (seed-system.md §3), one per topic, as supersets; plus the generic JSON-lines form and Influx
// line protocol. Shared by outputs.kafka (encode) and inputs.kafka (decode).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cvagent/metric.h"

namespace simdjson::dom {
class parser;
}

namespace cvagent::kafka {

// One metric kind of the data contract and its topic.
struct MetricShape {
  std::string_view metric;             // "ticker"
  std::string_view topic;              // default topic, "rawticker"
  std::vector<std::string_view> tags;  // tag keys of the kind, as written in the JSON
};

// The kinds of the data contract; nullptr for any other metric name.
const MetricShape* shapeOf(std::string_view metric_name);

// The default routing: ticker -> rawticker, trade -> rawtrade, article -> rawarticle,
// alert -> rawalert, candle -> ohlc, sentiment -> sentiment, prediction -> prediction.
const std::map<std::string, std::string>& defaultTopics();

// Appends the topic shape of a contract metric (a flat JSON object: the legacy keys first, then
// every other tag and field under its own name, `timestamp` in the legacy unit and `time` in
// integer nanoseconds); other metrics get the generic JSON-lines form.
void appendShapedJson(const Metric& metric, std::string& out);

// Reads a topic shape back into a metric of kind `shape`. False with a reason on malformed input.
bool parseShapedJson(simdjson::dom::parser& parser, std::string_view json, const MetricShape& shape,
                     Metric& out, std::string& error);

// Reads any value outputs.kafka writes: the generic JSON form ({"name":..,"fields":..}), a topic
// shape (kind from `metric_hint`, e.g. the `metric` header or the topic's kind), or line protocol.
// `default_time_ns` (the Kafka message timestamp) is used when the value carries no time.
bool parseValue(simdjson::dom::parser& parser, std::string_view value, std::string_view metric_hint,
                std::int64_t default_time_ns, Metric& out, std::string& error);

}  // namespace cvagent::kafka

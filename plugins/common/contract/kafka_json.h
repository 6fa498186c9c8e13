#pragma once
// The Kafka message values of the data contract: each kind's JSON shape (what the existing stack's
// consumers read, seed-system.md §3, as a superset), derived from contract.h, both ways. Used by
// outputs.kafka (encode), inputs.kafka (decode) and any other sink that writes the same shape.

#include <cstdint>
#include <string>
#include <string_view>

#include "contract/contract.h"
#include "cvagent/metric.h"

namespace simdjson::dom {
class parser;
}

namespace cvagent::contract {

// Appends the Kafka shape of a contract metric: a flat JSON object with every tag and field under
// its own name (legacy spellings where the kind declares them: trade side b/s, article source as
// `website`), the legacy extras (rawticker `pct_change`, rawarticle `content`, `sentiment`,
// `published_at`...), `timestamp` in the kind's legacy unit and `time` in integer nanoseconds.
// Other metrics get the generic JSON-lines form (codec::appendJson).
void appendJson(const Metric& metric, std::string& out);

// Reads a Kafka shape of `kind` (one of kinds()) back into a metric. False with a reason on
// malformed input.
bool parseJson(simdjson::dom::parser& parser, std::string_view json, const Kind& kind, Metric& out,
               std::string& error);

// Reads any value outputs.kafka writes: the generic JSON form ({"name":..,"fields":..}), a Kafka
// shape (kind from `metric_hint`, e.g. the `metric` header or the topic's kind), or line protocol.
// `default_time_ns` (the Kafka message timestamp) is used when the value carries no time.
bool parseValue(simdjson::dom::parser& parser, std::string_view value, std::string_view metric_hint,
                std::int64_t default_time_ns, Metric& out, std::string& error);

}  // namespace cvagent::contract

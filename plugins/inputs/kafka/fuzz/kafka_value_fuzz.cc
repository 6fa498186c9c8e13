// libFuzzer target: a Kafka message value as inputs.kafka decodes it: split into lines, each read
// by contract::parseValue as the generic JSON form, a Kafka shape of the kind the `metric` header
// or the topic names, or line protocol. The first byte picks the hint (no hint, or one kind).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "contract/contract.h"
#include "contract/kafka_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cvagent;
  if (size == 0) return 0;
  static simdjson::dom::parser parser;
  const auto& kinds = contract::kinds();
  const std::size_t pick = data[0] % (kinds.size() + 1);
  const std::string_view hint = pick == 0 ? std::string_view() : kinds[pick - 1].name;
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!payload.empty()) {
    const auto nl = payload.find('\n');
    const std::string_view line = payload.substr(0, nl);
    payload = nl == std::string_view::npos ? std::string_view() : payload.substr(nl + 1);
    Metric metric;
    std::string error;
    if (!contract::parseValue(parser, line, hint, 1'795'962'600'000, metric, error)) {
      if (error.empty()) std::abort();  // a skipped message is logged with a reason
      continue;
    }
    if (metric.name().empty()) std::abort();
  }
  return 0;
}

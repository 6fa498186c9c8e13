#pragma once
// The two wire forms of a metric that plugins share:
// - JSON lines: {"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"price":95863.2},
//   "time":1795962600123456000}; `time` in integer nanoseconds (RFC 3339 strings accepted on
//   input).
// - Influx line protocol: trade,pair=BTC/USD price=95863.2 1795962600123456000

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "cvagent/metric.h"

namespace cvagent::codec {

enum class Format { kJson, kInflux };
// The words of a `format` option (see NamedEnum in options.h).
constexpr std::array<std::pair<std::string_view, Format>, 2> optionNames(Format) {
  return {{{"json", Format::kJson}, {"influx", Format::kInflux}}};
}

// Appends one metric, without a trailing newline.
void appendJson(const Metric& metric, std::string& out);
void appendLineProtocol(const Metric& metric, std::string& out);
void append(Format format, const Metric& metric, std::string& out);

// Appends a JSON string literal (quotes included) with JSON escaping.
void appendJsonString(std::string_view text, std::string& out);
// Appends an integer in decimal, as JSON and line protocol write it.
void appendInteger(std::int64_t value, std::string& out);
void appendInteger(std::uint64_t value, std::string& out);
// Appends a field value as JSON (doubles keep a decimal point so they read back as doubles).
void appendJsonValue(const FieldValue& value, std::string& out);

// Most fields and tags one parsed line may carry. A metric keeps them in small vectors searched
// linearly (the right choice for the usual dozen), so a line of 100,000 fields took 21 s; real
// metrics have tens.
inline constexpr std::size_t kMaxFieldsPerLine = 1024;
inline constexpr std::size_t kMaxTagsPerLine = 256;

// Parse one line. On failure returns false and says why in `error` (with the column where known).
// `default_time_ns` is used when the line carries no time. Refused: text that is not UTF-8, more
// than kMaxFieldsPerLine fields or kMaxTagsPerLine tags, and (line protocol) NaN or infinite
// values, which no sink can store as a number.
bool parseJson(std::string_view line, Metric& out, std::string& error,
               std::int64_t default_time_ns = 0);
bool parseLineProtocol(std::string_view line, Metric& out, std::string& error,
                       std::int64_t default_time_ns = 0);
bool parse(Format format, std::string_view line, Metric& out, std::string& error,
           std::int64_t default_time_ns = 0);

}  // namespace cvagent::codec

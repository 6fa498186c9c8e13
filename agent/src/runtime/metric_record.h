#pragma once
// The versioned binary encoding of a Metric in disk buffer records: compact (varints, no field
// names repeated beyond the metric's own keys) and decoded by a pure function over bytes, so a
// fuzzer can feed it anything.
//
// Version 1 layout (varint = unsigned LEB128, zigzag for signed):
//   u8 version (1) | zigzag time | varint len, name | varint tag count, (key, value)*
//   | varint field count, (key, u8 type, value)*
// Strings are a varint length then the bytes. Field types: 0 double (8 bytes, little-endian IEEE),
// 1 int64 (zigzag varint), 2 uint64 (varint), 3 false, 4 true, 5 string.

#include <cstddef>
#include <span>
#include <string>
#include <variant>

#include "cvagent/metric.h"

namespace cvagent::runtime {

inline constexpr std::uint8_t kMetricRecordVersion = 1;

// Appends the encoding of `metric` to `out` (the delivery handle is not part of it).
void encodeMetric(const Metric& metric, std::string& out);

struct DecodeError {
  std::size_t offset = 0;  // where in the input the problem is
  std::string message;
};

// A decoded metric or why the bytes are not one.
class DecodeResult {
 public:
  DecodeResult(Metric metric) : value_(std::move(metric)) {}
  DecodeResult(DecodeError error) : value_(std::move(error)) {}
  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }
  Metric& metric() { return std::get<Metric>(value_); }
  const DecodeError& error() const { return std::get<DecodeError>(value_); }

 private:
  std::variant<Metric, DecodeError> value_;
};

// Never throws, never reads outside `bytes`, whatever they hold.
DecodeResult decodeMetric(std::span<const std::byte> bytes);

}  // namespace cvagent::runtime

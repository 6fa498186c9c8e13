// libFuzzer target: disk buffer record payloads (decodeMetric). Whatever the bytes, decoding never
// reads outside them; what decodes encodes again to bytes that decode to the same encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "runtime/metric_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cvagent::runtime;
  DecodeResult decoded = decodeMetric(std::as_bytes(std::span(data, size)));
  if (!decoded) {
    if (decoded.error().offset > size) std::abort();  // the error points inside the input
    return 0;
  }
  std::string encoded;
  encodeMetric(decoded.metric(), encoded);
  DecodeResult again = decodeMetric(std::as_bytes(std::span(encoded.data(), encoded.size())));
  if (!again) std::abort();
  std::string reencoded;
  encodeMetric(again.metric(), reencoded);
  if (reencoded != encoded) std::abort();
  return 0;
}

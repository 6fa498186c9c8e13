// libFuzzer targets: the SDK's two line codecs (JSON lines, Influx line protocol). The input is
// lines, as the inputs reading files or Kafka messages feed them. A line that parses is written
// back in the same form and must parse again to the same metric: what the agent accepts it can
// also write.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cvagent/codec.h"

#ifndef CVAGENT_FUZZ_FORMAT
#error "CVAGENT_FUZZ_FORMAT must be kJson or kInflux"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cvagent;
  constexpr codec::Format format = codec::Format::CVAGENT_FUZZ_FORMAT;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    Metric metric;
    std::string error;
    if (!codec::parse(format, line, metric, error, 1'795'962'600'000'000'000)) {
      if (error.empty()) std::abort();  // a rejected line says why
      continue;
    }
    std::string written;
    codec::append(format, metric, written);
    Metric again;
    if (!codec::parse(format, written, again, error)) {
      std::abort();  // accepted but written in a form that does not read back
    }
    std::string rewritten;
    codec::append(format, again, rewritten);
    if (rewritten != written) std::abort();  // the round trip is stable
  }
  return 0;
}

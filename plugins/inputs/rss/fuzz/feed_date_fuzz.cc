// libFuzzer target: the feed date parser (RFC 822 and its variants, RFC 3339 / ISO 8601).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feed_date.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)cvagent::inputs::rss::parseFeedDate(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

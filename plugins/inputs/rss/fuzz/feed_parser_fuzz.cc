// libFuzzer target: a fetched feed document (any bytes: encodings, broken XML, HTML pages) through
// parseFeed, which also runs the encoding conversion, the HTML-to-text of summaries and the date
// parser on what it finds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "feed_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  cvagent::inputs::rss::ParsedFeed feed;
  std::string error;
  if (cvagent::inputs::rss::parseFeed(raw, "https://news.example.com/feed/", feed, error)) {
    for (const auto& item : feed.items) {
      if (item.id.empty()) std::abort();  // every item gets an id (guid, link or a hash)
    }
  } else if (error.empty()) {
    std::abort();  // a rejected document says why
  }
  return 0;
}

// libFuzzer target: HTML to plain text, both the summary form (htmlToText) and the article page
// form (extractArticleText, with and without a charset from the HTTP header).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "html_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  (void)cvagent::inputs::rss::htmlToText(html);
  (void)cvagent::inputs::rss::extractArticleText(html);
  (void)cvagent::inputs::rss::extractArticleText(html, size % 2 == 0 ? "iso-8859-1" : "utf-8");
  return 0;
}

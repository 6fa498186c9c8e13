// libFuzzer target: HTML to plain text, both the summary form (htmlToText) and the article page
// form (extractArticleText), the latter with the charset the HTTP header would give picked by the
// input's length: none (the page's <meta charset> decides), ISO-8859-1, UTF-8, or one of the
// charsets whose conversion can fail mid-page (windows-1252 leaves 5 bytes undefined, Shift_JIS
// many sequences). One article parse per input rather than one per charset: the same paths, each
// charset on a share of the inputs, and a third fewer parses per execution.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "html_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::string_view kCharsets[] = {"", "iso-8859-1", "utf-8", "windows-1252",
                                                   "shift_jis"};
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  (void)cvagent::inputs::rss::htmlToText(html);
  (void)cvagent::inputs::rss::extractArticleText(html, kCharsets[size % std::size(kCharsets)]);
  return 0;
}

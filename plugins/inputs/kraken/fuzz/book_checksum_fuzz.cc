// libFuzzer target: the Kraken book checksum over arbitrary books (any price/qty text up to the
// 31 bytes a DecimalText holds, any number of levels), compared with a plain reimplementation of
// kraken-api.md §4: top 10 asks then top 10 bids, each price and qty with '.' removed and leading
// zeros dropped, CRC32 of the concatenation.
#include <fuzzer/FuzzedDataProvider.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decoder.h"

namespace {

using cvagent::inputs::kraken::BookLevel;
using cvagent::inputs::kraken::BookState;
using cvagent::inputs::kraken::DecimalText;

DecimalText decimalText(FuzzedDataProvider& in) {
  DecimalText text;
  const std::string chars = in.ConsumeRandomLengthString(text.chars.size());
  text.size = static_cast<std::uint8_t>(chars.size());
  chars.copy(text.chars.data(), chars.size());
  return text;
}

void appendStripped(std::string_view text, std::string& out) {
  std::string digits;
  for (const char c : text) {
    if (c != '.') digits += c;
  }
  const auto first = digits.find_first_not_of('0');
  out += first == std::string::npos ? std::string() : digits.substr(first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  BookState book;
  const std::size_t levels = in.ConsumeIntegralInRange<std::size_t>(0, 30);
  for (std::size_t i = 0; i < levels && in.remaining_bytes() > 0; ++i) {
    BookLevel level;
    level.price_text = decimalText(in);
    level.qty_text = decimalText(in);
    level.price = in.ConsumeFloatingPoint<double>();
    level.qty = in.ConsumeFloatingPoint<double>();
    if (in.ConsumeBool()) {
      book.bids.emplace(level.price, level);
    } else {
      book.asks.emplace(level.price, level);
    }
  }
  const std::uint32_t checksum = cvagent::inputs::kraken::bookChecksum(book);

  std::string text;
  std::size_t n = 0;
  for (auto it = book.asks.begin(); it != book.asks.end() && n < 10; ++it, ++n) {
    appendStripped(it->second.price_text.view(), text);
    appendStripped(it->second.qty_text.view(), text);
  }
  n = 0;
  for (auto it = book.bids.begin(); it != book.bids.end() && n < 10; ++it, ++n) {
    appendStripped(it->second.price_text.view(), text);
    appendStripped(it->second.qty_text.view(), text);
  }
  const auto expected = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  if (checksum != expected) std::abort();
  return 0;
}

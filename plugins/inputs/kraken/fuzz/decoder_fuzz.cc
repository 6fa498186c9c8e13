// libFuzzer target: Kraken WebSocket v2 frames through one Decoder. The input is a session, one
// frame per line, so the book state (snapshot, updates, CRC32 checksum, truncation to depth,
// resync) and the trade-id deduplication carry from frame to frame as on a live connection.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decoder.h"

namespace {

class CountingEmitter final : public cvagent::Emitter {
 public:
  void emit(cvagent::Metric&& metric) override {
    if (metric.name().empty()) std::abort();  // every emitted metric is named
    ++count;
  }
  std::size_t count = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cvagent::inputs::kraken;
  static const DecoderConfig config{
      .pairs = {"BTC/USD", "ETH/USD", "SOL/USD", "MINA/GBP"}, .book_depth = 10, .book_levels = 3};
  Decoder decoder(config);
  CountingEmitter out;
  std::string_view session(reinterpret_cast<const char*>(data), size);
  std::int64_t receive_ns = 1'795'962'600'000'000'000;
  while (!session.empty()) {
    const auto nl = session.find('\n');
    const std::string_view frame = session.substr(0, nl);
    session = nl == std::string_view::npos ? std::string_view() : session.substr(nl + 1);
    const std::size_t before = out.count;
    const FrameResult result = decoder.decode(frame, receive_ns, out);
    if (out.count - before != result.emitted) std::abort();  // the verdict counts what it emitted
    receive_ns += 1'000'000;
    for (const std::string_view pair : {"BTC/USD", "ETH/USD", "SOL/USD", "MINA/GBP"}) {
      if (const BookState* book = decoder.book(pair)) {
        (void)bookChecksum(*book);
        if (book->bids.size() > config.book_depth || book->asks.size() > config.book_depth) {
          std::abort();  // the book is truncated to the subscribed depth
        }
      }
    }
  }
  return 0;
}

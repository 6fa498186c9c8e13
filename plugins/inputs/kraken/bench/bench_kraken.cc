// inputs.kraken benchmarks:
// - BM_DecodeTradeMessages / BM_DecodeTickerMessages: decode-and-emit of recorded frames on one
//   core, no sockets (frame text -> Metric -> emitter that counts and drops);
// - BM_EndToEndLoopback: a Beast WebSocket server on loopback streams trade frames to a
//   KrakenInput, whose metrics go to a counting null emitter.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "decoder.h"
#include "kraken_input.h"

namespace {

using cvagent::inputs::kraken::Decoder;
using cvagent::inputs::kraken::DecoderConfig;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

const std::vector<std::string> kPairs = {"BTC/USD", "ETH/USD", "SOL/USD"};

// Counts and drops: what is measured is the decoder's and the Metric's cost, not a queue's.
class CountingEmitter final : public cvagent::Emitter {
 public:
  void emit(cvagent::Metric&& metric) override {
    benchmark::DoNotOptimize(metric);
    count.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<std::size_t> count{0};
};

std::vector<std::string> sessionLines(const char* channel) {
  std::ifstream in(CVAGENT_SHARED_TEST_DATA "/kraken/ws_v2_session.jsonl");
  std::vector<std::string> lines;
  std::string line;
  const std::string prefix = std::string("{\"channel\":\"") + channel + "\",\"type\":\"update\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  }
  return lines;
}

// The trades of the recording's update frames, one frame each (a recorded frame holds 1-4 trades;
// Kraken's objects are flat, so "},{" only ever separates two of them).
std::vector<std::string> oneTradeLines() {
  static constexpr std::string_view kHead = R"({"channel":"trade","type":"update","data":[)";
  std::vector<std::string> out;
  for (const auto& line : sessionLines("trade")) {
    const auto begin = line.find("[{");
    const auto end = line.rfind("}]");
    if (begin == std::string::npos || end == std::string::npos) continue;
    std::string_view trades(line.data() + begin + 1, end + 1 - (begin + 1));
    for (std::size_t pos = 0; pos < trades.size();) {
      const auto next = trades.find("},{", pos);
      const auto stop = next == std::string_view::npos ? trades.size() : next + 1;
      out.push_back(std::string(kHead).append(trades.substr(pos, stop - pos)).append("]}"));
      pos = next == std::string_view::npos ? trades.size() : next + 2;
    }
  }
  return out;
}

// `count` one-trade messages shaped like the recording's (its prices, sizes, sides), with trade
// ids rising from `first_id` so none is a duplicate.
std::vector<std::string> tradeFrames(std::size_t count, std::int64_t first_id) {
  const auto lines = oneTradeLines();
  const std::regex id(R"("trade_id":\d+)");
  std::vector<std::string> frames;
  frames.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    frames.push_back(std::regex_replace(lines[i % lines.size()], id,
                                        fmt::format("\"trade_id\":{}", first_id + i)));
  }
  return frames;
}

void BM_DecodeTradeMessages(benchmark::State& state) {
  const auto frames = tradeFrames(20000, 1);
  std::optional<Decoder> decoder;
  CountingEmitter out;
  std::size_t i = frames.size(), bytes = 0;
  for (auto _ : state) {
    if (i == frames.size()) {
      state.PauseTiming();
      decoder.emplace(DecoderConfig{.pairs = kPairs});  // forget the trade ids seen
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(decoder->decode(frames[i], 1, out));
    bytes += frames[i].size();
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["trades_emitted"] = static_cast<double>(out.count.load());
  // Which simdjson kernel the on-demand decoder was compiled for (fallback: no SIMD).
  state.SetLabel(std::string("simdjson ") + simdjson::builtin_implementation()->name());
}
BENCHMARK(BM_DecodeTradeMessages);

// The same frames for a decoder subscribed to another pair: parsed and validated, then dropped as
// foreign, no Metric built. The difference to BM_DecodeTradeMessages is the cost of the Metric.
void BM_ParseTradeMessagesOnly(benchmark::State& state) {
  const auto frames = tradeFrames(20000, 1);
  Decoder decoder(DecoderConfig{.pairs = {"ADA/EUR"}});
  CountingEmitter out;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(frames[i], 1, out));
    if (++i == frames.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTradeMessagesOnly);

void BM_DecodeTickerMessages(benchmark::State& state) {
  const auto lines = sessionLines("ticker");
  Decoder decoder(DecoderConfig{.pairs = kPairs});
  CountingEmitter out;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(lines[i], 1, out));
    bytes += lines[i].size();
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_DecodeTickerMessages);

// One iteration: connect, subscribe, receive kFrames trade messages, stop.
void BM_EndToEndLoopback(benchmark::State& state) {
  constexpr std::size_t kFrames = 100000;
  const auto frames = tradeFrames(kFrames, 1);
  asio::io_context server_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::atomic<bool> done{false};
  std::thread server([&] {
    while (!done) {
      try {
        websocket::stream<asio::ip::tcp::socket> ws(acceptor.accept());
        ws.accept();
        beast::flat_buffer buffer;
        ws.read(buffer);  // the trade subscribe
        ws.text(true);
        for (const auto& f : frames) ws.write(asio::buffer(f));
        for (;;) {  // until the client goes
          buffer.clear();
          ws.read(buffer);
        }
      } catch (const std::exception&) {
      }
    }
  });
  std::size_t received = 0;
  for (auto _ : state) {
    cvagent::testing::TestContext ctx("inputs.kraken");
    CountingEmitter out;
    cvagent::inputs::kraken::KrakenOptions options;
    options.url = fmt::format("ws://127.0.0.1:{}/v2", port);
    options.pairs = kPairs;
    options.channels = {"trade"};
    cvagent::inputs::kraken::KrakenInput input(options, ctx);
    input.start(out);
    while (out.count.load(std::memory_order_relaxed) < kFrames) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    input.stop();
    received += out.count.load();
  }
  done = true;
  // Wake the server's accept() so its thread can end.
  asio::ip::tcp::socket poke(server_io);
  poke.connect({asio::ip::make_address("127.0.0.1"), port});
  poke.close();
  server.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(received));
}
BENCHMARK(BM_EndToEndLoopback)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// `bench_input_kraken --serve N`: a stand-alone fast fake exchange for measuring the whole agent.
// Prints its port, then streams N trade frames to every connection that subscribes, one
// connection at a time, printing `connected <monotonic ns>` as each arrives (bench/throughput.py,
// bench/agent_loopback.sh).
int serve(std::size_t count) {
  const auto frames = tradeFrames(count, 1);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::printf("%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  for (;;) {
    try {
      websocket::stream<asio::ip::tcp::socket> ws(acceptor.accept());
      // When the consumer connected, on the monotonic clock (Python's time.monotonic_ns()): a
      // driver measures each consumer from here to its last frame.
      std::printf("connected %lld\n",
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count()));
      std::fflush(stdout);
      ws.accept();
      beast::flat_buffer buffer;
      ws.read(buffer);
      ws.text(true);
      for (const auto& f : frames) ws.write(asio::buffer(f));
      for (;;) {
        buffer.clear();
        ws.read(buffer);
      }
    } catch (const std::exception&) {
    }
  }
}

// `bench_input_kraken --count PORT N`: the limit of the set-up, a bare Beast client that
// subscribes like inputs.kraken and only counts frames. Prints the frames per second from the
// connect to the Nth frame (bench/throughput.py).
int count(const std::string& port, std::size_t frames) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  websocket::stream<asio::ip::tcp::socket> ws(io);
  const auto start = std::chrono::steady_clock::now();
  asio::connect(ws.next_layer(), resolver.resolve("127.0.0.1", port));
  ws.handshake("127.0.0.1:" + port, "/v2");
  ws.write(asio::buffer(std::string_view(
      R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]},"req_id":2})")));
  beast::flat_buffer buffer;
  std::size_t received = 0, bytes = 0;
  while (received < frames) {
    buffer.clear();
    bytes += ws.read(buffer);
    ++received;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu frames (%zu bytes) in %.3f s: %.0f frames/s\n", received, bytes, seconds,
              static_cast<double>(received) / seconds);
  beast::error_code ignored;
  ws.next_layer().close(ignored);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--serve") return serve(std::stoul(argv[2]));
  if (argc == 4 && std::string(argv[1]) == "--count") return count(argv[2], std::stoul(argv[3]));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Throughput of processors.normalize on in-memory metrics, one core.
//
//   bench_processor_normalize --benchmark_min_time=1

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "normalize_processor.h"

namespace cvagent::processors::normalize {
namespace {

// Hands each metric back to the ring it came from, so the loop measures the processor rather
// than building metrics.
class RecyclingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    recycled = std::move(metric);
    ++count;
  }
  Metric recycled;
  std::int64_t count = 0;
};

std::vector<Metric> makeRing(bool string_numbers) {
  static const char* const kPairs[] = {"XBT/USD",  "XXBTZUSD", "BTC/USD", "ETH/USD",
                                       "XETHZUSD", "SOL/USD",  "XDG/USD", "XBTUSDT"};
  std::vector<Metric> ring;
  for (std::size_t i = 0; i < 1024; ++i) {
    Metric m("trade", 1'795'530'420'000'000'000 + static_cast<std::int64_t>(i));
    m.setTag("exchange", "kraken");
    m.setTag("pair", kPairs[i % 8]);
    m.setTag("side", i % 2 ? "buy" : "sell");
    if (string_numbers) {
      m.setField("price", std::string("95863.2"));
      m.setField("volume", std::string("0.00126522"));
    } else {
      m.setField("price", 95863.2);
      m.setField("volume", 0.00126522);
    }
    m.setField("trade_id", std::int64_t{93012296});
    m.setField("ord_type", std::string("limit"));
    ring.push_back(std::move(m));
  }
  return ring;
}

// Kraken input output as it will arrive: typed numbers, pair names in mixed spellings that are
// rewritten to BTC/USD form (the slot's original name is put back each time, so every
// iteration does the rewrite it would do in production).
void BM_NormalizeTypedTrades(benchmark::State& state) {
  cvagent::testing::TestContext context;
  NormalizeProcessor processor(NormalizeOptions{}, context);
  RecyclingEmitter out;
  auto ring = makeRing(false);
  std::vector<std::string> original;
  for (const auto& m : ring) original.push_back(*m.tag("pair"));
  std::size_t i = 0;
  for (auto _ : state) {
    ring[i].setTag("pair", original[i]);
    processor.process(std::move(ring[i]), out);
    ring[i] = std::move(out.recycled);
    i = (i + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalizeTypedTrades);

// The expensive case: price and volume as strings (REST style), converted on every metric.
void BM_NormalizeStringNumbers(benchmark::State& state) {
  cvagent::testing::TestContext context;
  NormalizeProcessor processor(NormalizeOptions{}, context);
  RecyclingEmitter out;
  auto ring = makeRing(true);
  std::vector<std::string> original;
  for (const auto& m : ring) original.push_back(*m.tag("pair"));
  std::size_t i = 0;
  for (auto _ : state) {
    Metric& m = ring[i];
    m.setTag("pair", original[i]);
    *m.field("price") = std::string("95863.2");
    *m.field("volume") = std::string("0.00126522");
    processor.process(std::move(m), out);
    ring[i] = std::move(out.recycled);
    i = (i + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalizeStringNumbers);

}  // namespace
}  // namespace cvagent::processors::normalize

BENCHMARK_MAIN();

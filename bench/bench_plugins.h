#pragma once
// Plugins and data the core benchmarks share: an input that emits prepared metrics in one gather,
// a pass-through processor, a null output counting what it is given, a `trade` like Kraken's.

#include <atomic>
#include <vector>

#include "cvagent/plugin.h"

namespace cvagent::bench {

// Filled before each run; the input moves it out in one gather.
inline std::vector<Metric> g_prepared;
inline std::atomic<std::uint64_t> g_written{0};

struct Empty {
  static void describe(Schema<Empty>&) {}
};

class PreparedInput final : public Input {
 public:
  PreparedInput(const Empty&, PluginContext&) {}
  void gather(Emitter& out) override {
    for (auto& m : g_prepared) out.emit(std::move(m));
  }
};

class PassThrough final : public Processor {
 public:
  PassThrough(const Empty&, PluginContext&) {}
  void process(Metric&& m, Emitter& out) override { out.emit(std::move(m)); }
};

class NullOutput final : public Output {
 public:
  NullOutput(const Empty&, PluginContext&) {}
  WriteResult write(std::span<const Metric> batch) override {
    g_written.fetch_add(batch.size(), std::memory_order_relaxed);
    return WriteResult::ok();
  }
};

inline const PluginDescriptor kPreparedInput =
    inputDescriptor<PreparedInput, Empty>("prepared", "bench");
inline const PluginDescriptor kPassThrough =
    processorDescriptor<PassThrough, Empty>("pass", "bench");
inline const PluginDescriptor kNullOutput = outputDescriptor<NullOutput, Empty>("sink", "bench");

inline Metric trade(std::int64_t i) {
  Metric m("trade", 1795530420000000000 + i);
  m.setTag("exchange", "kraken");
  m.setTag("pair", "BTC/USD");
  m.setTag("side", i % 2 ? "buy" : "sell");
  m.reserveFields(5);
  m.setField("price", 95863.2 + static_cast<double>(i % 100) / 10);
  m.setField("volume", 0.00125);
  m.setField("trade_id", std::int64_t{83621201} + i);
  m.setField("ord_type", std::string("limit"));
  m.setField("receive_time", std::int64_t{1795530420000000000} + i);
  return m;
}

}  // namespace cvagent::bench

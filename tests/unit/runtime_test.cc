// Runtime semantics: processor order and filters, batching by size and interval, retry, rejects,
// drop counting, back-pressure, shutdown flush, reload keeping buffers, delivery tracking.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <set>
#include <thread>

#include "config/config_loader.h"
#include "config/pipeline_config.h"
#include "cvagent/plugin.h"
#include "runtime/pipeline.h"

namespace cvagent::runtime {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- test plugins
struct Hub {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  std::map<std::string, std::vector<std::size_t>> batch_sizes;  // by output name
  std::map<std::string, std::vector<Metric>> stored;
  std::map<std::string, int> attempts;
  std::map<std::string, int> cancels;
  bool cancelled = false;  // a hung write waits for this
  int hanging = 0;         // writes that began hanging
  bool down = false;       // every write is answered 'retry' while set

  void reset() {
    std::lock_guard lock(mu);
    gate_open = true;
    batch_sizes.clear();
    stored.clear();
    attempts.clear();
    cancels.clear();
    cancelled = false;
    hanging = 0;
    down = false;
  }
  void setGate(bool open) {
    {
      std::lock_guard lock(mu);
      gate_open = open;
    }
    cv.notify_all();
  }
  std::size_t storedCount(const std::string& name) {
    std::lock_guard lock(mu);
    return stored[name].size();
  }
};
Hub hub;

struct SeqInputOptions {
  int count = 10;
  std::string name = "m";
  bool track = false;
  static void describe(Schema<SeqInputOptions>& s) {
    s.option("count", &SeqInputOptions::count, "Metrics per gather.");
    s.option("name", &SeqInputOptions::name, "Metric name.");
    s.option("track", &SeqInputOptions::track, "Attach a delivery handle to each metric.");
  }
};

std::atomic<int> delivered_ok{0};
std::atomic<int> delivered_failed{0};

class SeqInput final : public Input {
 public:
  SeqInput(const SeqInputOptions& o, PluginContext&) : o_(o) {}
  void gather(Emitter& out) override {
    for (int i = 0; i < o_.count; ++i) {
      Metric m(o_.name, next_);
      m.setField("seq", std::int64_t{next_++});
      m.setField("path", std::string());
      if (o_.track) {
        m.setDelivery(
            std::make_shared<Delivery>([](bool ok) { (ok ? delivered_ok : delivered_failed)++; }));
      }
      out.emit(std::move(m));
    }
  }

 private:
  SeqInputOptions o_;
  std::int64_t next_ = 0;
};

struct AppendOptions {
  std::string letter = "x";
  int throw_every = 0;
  static void describe(Schema<AppendOptions>& s) {
    s.option("letter", &AppendOptions::letter, "Appended to the path field.");
    s.option("throw_every", &AppendOptions::throw_every, "Throw on metrics whose seq % n == 0.");
  }
};

// Appends its letter to the `path` field; on flush emits one "flushed-<letter>" metric.
class AppendProcessor final : public Processor {
 public:
  AppendProcessor(const AppendOptions& o, PluginContext&) : letter_(o.letter), o_(o) {}
  void process(Metric&& m, Emitter& out) override {
    const auto* seq = m.field("seq");
    if (o_.throw_every && seq && std::get<std::int64_t>(*seq) % o_.throw_every == 0) {
      throw std::runtime_error("cannot process this one");
    }
    if (auto* p = m.field("path")) std::get<std::string>(*p) += letter_;
    out.emit(std::move(m));
  }
  void flush(Emitter& out) override {
    Metric m("flushed-" + letter_, 0);
    m.setField("path", std::string());
    out.emit(std::move(m));
  }

 private:
  std::string letter_;
  AppendOptions o_;
};

struct RecordOptions {
  std::string name = "out";
  int fail_first = 0;
  bool reject_odd = false;
  bool gated = false;
  int hang_first = 0;
  static void describe(Schema<RecordOptions>& s) {
    s.option("hang_first", &RecordOptions::hang_first,
             "Writes that hang until cancel() is called, then throw.");
    s.option("name", &RecordOptions::name, "Key in the hub.");
    s.option("fail_first", &RecordOptions::fail_first, "Writes answered 'retry' first.");
    s.option("reject_odd", &RecordOptions::reject_odd, "Reject metrics with an odd seq.");
    s.option("gated", &RecordOptions::gated, "Wait for the hub's gate before each write.");
  }
};

class RecordOutput final : public Output {
 public:
  RecordOutput(const RecordOptions& o, PluginContext&) : o_(o) {}
  WriteResult write(std::span<const Metric> batch) override {
    std::unique_lock lock(hub.mu);
    if (hung_++ < o_.hang_first) {
      ++hub.hanging;
      hub.cv.wait(lock, [] { return hub.cancelled; });
      hub.cancelled = false;
      throw std::runtime_error("connection shut down by cancel()");
    }
    if (o_.gated) hub.cv.wait(lock, [] { return hub.gate_open; });
    if (hub.down) return WriteResult::retry("server down");
    if (hub.attempts[o_.name]++ < o_.fail_first) return WriteResult::retry("server busy");
    hub.batch_sizes[o_.name].push_back(batch.size());
    WriteResult result = WriteResult::ok();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto* seq = batch[i].field("seq");
      if (o_.reject_odd && seq && std::get<std::int64_t>(*seq) % 2) {
        result.set(i, WriteStatus::kReject, "odd");
        continue;
      }
      Metric copy = batch[i];
      copy.setDelivery(nullptr);  // an output stores data, not the tracking handle
      hub.stored[o_.name].push_back(std::move(copy));
    }
    return result;
  }
  void cancel() override {
    {
      std::lock_guard lock(hub.mu);
      hub.cancelled = true;
      ++hub.cancels[o_.name];
    }
    hub.cv.notify_all();
  }

 private:
  RecordOptions o_;
  int hung_ = 0;
};

struct PipelinedOptions {
  std::string name = "pipelined";
  int depth = 3;
  int fail_batch = -1;  // the result of this batch (counted from 0) says retry, once
  static void describe(Schema<PipelinedOptions>& s) {
    s.option("name", &PipelinedOptions::name, "Key in the hub.");
    s.option("depth", &PipelinedOptions::depth, "Batches in flight.");
    s.option("fail_batch", &PipelinedOptions::fail_batch, "Batch whose result is retry, once.");
  }
};

// Confirms batches only when collected, and only while the hub's gate is open: a closed gate keeps
// every batch in flight. Stores what it confirms (or what write() takes, for retries).
std::atomic<int> most_in_flight{0};
class PipelinedOutput final : public Output {
 public:
  PipelinedOutput(const PipelinedOptions& o, PluginContext&) : o_(o) {}
  std::size_t batchesInFlight() const override { return static_cast<std::size_t>(o_.depth); }
  void send(std::span<const Metric> batch) override {
    in_flight_.push_back({batch, sent_++});
    most_in_flight = std::max(most_in_flight.load(), static_cast<int>(in_flight_.size()));
  }
  std::optional<WriteResult> collect(std::chrono::milliseconds wait) override {
    std::unique_lock lock(hub.mu);
    if (!hub.cv.wait_for(lock, wait, [] { return hub.gate_open; })) return std::nullopt;
    const auto [batch, index] = in_flight_.front();
    in_flight_.pop_front();
    if (index == o_.fail_batch) return WriteResult::retry("lost on the way");
    store(batch);
    return WriteResult::ok();
  }
  WriteResult write(std::span<const Metric> batch) override {
    std::lock_guard lock(hub.mu);
    ++hub.attempts[o_.name];
    store(batch);
    return WriteResult::ok();
  }

 private:
  void store(std::span<const Metric> batch) {  // hub.mu held
    hub.batch_sizes[o_.name].push_back(batch.size());
    for (const auto& m : batch) {
      Metric copy = m;
      copy.setDelivery(nullptr);
      hub.stored[o_.name].push_back(std::move(copy));
    }
  }
  PipelinedOptions o_;
  std::deque<std::pair<std::span<const Metric>, int>> in_flight_;
  int sent_ = 0;
};

// A streaming input that keeps its emitter, so a test can emit after the pipeline stopped.
struct LateInputOptions {
  static void describe(Schema<LateInputOptions>&) {}
};
Emitter* late_emitter = nullptr;
class LateInput final : public Input {
 public:
  LateInput(const LateInputOptions&, PluginContext&) {}
  bool isStreaming() const override { return true; }
  void start(Emitter& out) override { late_emitter = &out; }
};

const PluginDescriptor kSeq = inputDescriptor<SeqInput, SeqInputOptions>("seq", "Sequence.");
const PluginDescriptor kAppend =
    processorDescriptor<AppendProcessor, AppendOptions>("append", "Append.");
const PluginDescriptor kRecord = outputDescriptor<RecordOutput, RecordOptions>("record", "Record.");
const PluginDescriptor kLate = inputDescriptor<LateInput, LateInputOptions>("late", "Late.");
const PluginDescriptor kPipelined =
    outputDescriptor<PipelinedOutput, PipelinedOptions>("pipelined", "Pipelined.");

Metric tracked(std::int64_t seq) {
  Metric m("m", seq);
  m.setField("seq", seq);
  m.setDelivery(
      std::make_shared<Delivery>([](bool ok) { (ok ? delivered_ok : delivered_failed)++; }));
  return m;
}

constexpr const char* kAgent = "agent: {http: '', state_dir: /tmp/cvagent-runtime-test}\n";

// ---------------------------------------------------------------- fixture
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub.reset();
    delivered_ok = 0;
    delivered_failed = 0;
    registry_.addBuiltin(&kSeq);
    registry_.addBuiltin(&kAppend);
    registry_.addBuiltin(&kRecord);
    registry_.addBuiltin(&kLate);
    registry_.addBuiltin(&kPipelined);
    most_in_flight = 0;
  }

  static config::PipelineConfig parse(const std::string& yaml) {
    Diagnostics diags;
    auto root = config::parseYaml(yaml, "test.yaml", config::processEnv(), diags);
    EXPECT_TRUE(root && diags.empty()) << (diags.empty() ? "" : diags[0].str());
    auto config = config::parsePipeline(*root, diags);
    EXPECT_TRUE(diags.empty()) << (diags.empty() ? "" : diags[0].str());
    return config;
  }

  std::unique_ptr<Pipeline> make(const std::string& yaml, RunOptions options = {}) {
    auto p = std::make_unique<Pipeline>(parse(yaml), registry_, telemetry_, clock_, options);
    std::vector<std::string> errors;
    EXPECT_TRUE(p->build(errors)) << (errors.empty() ? "" : errors[0]);
    return p;
  }

  // The value of one series in the /metrics text, -1 when absent.
  double scrapeValue(const std::string& series) {
    const std::string text = telemetry_.scrape();
    const auto at = text.find(series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 1));
  }

  bool healthSays(const std::string& text) {
    return telemetry_.healthJson().find(text) != std::string::npos;
  }

  // Runs `yaml` once with outputs that never store, then stops it for a reload: what the outputs
  // named `broken` hold is carried.
  CarriedBuffers carryFromBrokenOutputs(const std::string& yaml,
                                        const std::vector<std::string>& broken) {
    auto first = make(yaml);
    first->start(true);
    first->waitInputsDone();
    waitFor([&] {
      std::lock_guard lock(hub.mu);
      for (const auto& name : broken) {
        if (hub.attempts[name] < 1) return false;
      }
      return true;
    });
    return first->stopForReload();
  }

  // `count` tracked metrics to a pipelined output (batches of 10) that confirms nothing until the
  // hub's gate opens; returns once the output has its 3 batches in flight.
  std::unique_ptr<Pipeline> runWithNothingConfirmed(int count) {
    hub.setGate(false);
    auto p = make(std::string(kAgent) + "inputs:\n  - seq: {count: " + std::to_string(count) +
                  ", track: true}\noutputs:\n  - pipelined: {batch_size: 10, flush_interval: "
                  "20ms}\n");
    p->start(true);
    p->waitInputsDone();
    waitFor([] { return most_in_flight.load() == 3; });
    return p;
  }

  static void waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(done());
  }

  plugins::PluginRegistry registry_{{}};
  observability::Telemetry telemetry_;
  SystemClock clock_;
};

TEST_F(RuntimeTest, ProcessorsRunInOrderAndFiltersSkipThem) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 3, name: keep}
  - seq: {count: 2, name: skip}
processors:
  - append: {letter: a}
  - append: {letter: b, namedrop: [skip]}
  - append: {letter: c, tags: {via: c}}
outputs:
  - record: {batch_size: 100}
)");
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  std::map<std::string, std::string> paths;
  for (const auto& m : hub.stored["out"]) {
    paths[m.name()] += *m.stringField("path") + ";";
    EXPECT_EQ(*m.tag("via"), "c") << "tags of the processor that emitted it";
  }
  EXPECT_EQ(paths["keep"], "abc;abc;abc;");
  EXPECT_EQ(paths["skip"], "ac;ac;");
  // Flushes run in order, and what a processor flushes goes through the ones after it.
  EXPECT_EQ(paths["flushed-a"], "bc;");
  EXPECT_EQ(paths["flushed-b"], "c;");
  EXPECT_EQ(paths["flushed-c"], ";");
}

TEST_F(RuntimeTest, BatchesBySizeThenFlushesTheRestOnShutdown) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 10}
outputs:
  - record: {batch_size: 4, flush_interval: 1h}
)");
  p->start(true);
  p->waitInputsDone();
  waitFor([] { return hub.storedCount("out") >= 8; });
  EXPECT_EQ(hub.storedCount("out"), 8u) << "the partial batch waits for the interval";
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.batch_sizes["out"], (std::vector<std::size_t>{4, 4, 2}));
  for (std::size_t i = 0; i < hub.stored["out"].size(); ++i) {
    EXPECT_EQ(std::get<std::int64_t>(*hub.stored["out"][i].field("seq")),
              static_cast<std::int64_t>(i))
        << "order kept";
  }
}

TEST_F(RuntimeTest, BatchesByInterval) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 5}
outputs:
  - record: {batch_size: 1000, flush_interval: 50ms}
)");
  p->start(true);
  waitFor([] { return hub.storedCount("out") == 5; });
  EXPECT_EQ(hub.batch_sizes["out"], (std::vector<std::size_t>{5}));
  p->stop(std::chrono::steady_clock::now() + 5s);
}

TEST_F(RuntimeTest, RetriesWithBackoffUntilStored) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 6}
outputs:
  - record: {batch_size: 6, fail_first: 3, retry: {initial: 5ms, max: 20ms}}
)");
  p->start(true);
  waitFor([] { return hub.storedCount("out") == 6; });
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.attempts["out"], 4);
  EXPECT_EQ(p->stats().written, 6u);
  EXPECT_EQ(p->stats().dropped, 0u);
}

TEST_F(RuntimeTest, RejectedMetricsAreDroppedAndCountedTheRestStored) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 10, track: true}
outputs:
  - record: {batch_size: 10, reject_odd: true}
)");
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 5u);
  EXPECT_EQ(p->stats().written, 5u);
  EXPECT_EQ(p->stats().dropped, 5u);
  EXPECT_EQ(delivered_ok.load(), 5);
  EXPECT_EQ(delivered_failed.load(), 5);
  const std::string scrape = telemetry_.scrape();
  EXPECT_NE(scrape.find("cvagent_output_metrics_dropped_total{plugin=\"outputs.record\",reason="
                        "\"rejected\"} 5"),
            std::string::npos)
      << scrape;
}

TEST_F(RuntimeTest, DropOldestWhenFullCountsEveryDrop) {
  hub.setGate(false);
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 50}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 10, when_full: drop_oldest}}
)");
  p->start(true);
  p->waitInputsDone();
  waitFor([&] { return p->queued() == 0 && p->stats().routed == 50; });
  hub.setGate(true);
  p->stop(std::chrono::steady_clock::now() + 5s);
  const auto s = p->stats();
  EXPECT_EQ(s.written + s.dropped, 50u);
  EXPECT_EQ(s.written, 10u) << "one batch in flight and one buffered";
  // The newest metrics survive.
  EXPECT_EQ(std::get<std::int64_t>(*hub.stored["out"].back().field("seq")), 49);
}

TEST_F(RuntimeTest, BlockWhenFullLosesNothing) {
  hub.setGate(false);
  auto p = make(R"(
agent: {http: '', queue_size: 4, state_dir: /tmp/cvagent-runtime-test}
inputs:
  - seq: {count: 50}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 10, when_full: block}}
)");
  p->start(true);
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(p->stats().routed, 50u) << "the pipeline waits instead of dropping";
  hub.setGate(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 50u);
  EXPECT_EQ(p->stats().dropped, 0u);
}

// While an output keeps up, its buffer holds only what it writes next (the batches in flight and
// one more): buffering more would not write faster, only hold more unwritten data in memory.
TEST_F(RuntimeTest, AnOutputThatKeepsUpIsFedOnlyItsWindow) {
  hub.setGate(false);  // the first write is in progress, nothing has failed
  auto p = make(R"(
agent: {http: '', queue_size: 4, state_dir: /tmp/cvagent-runtime-test}
inputs:
  - seq: {count: 200, track: true}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 1000}}
)");
  p->start(true);
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(p->stats().routed, 14u) << "one batch in the write, one waiting, the chain's hand";
  EXPECT_LE(scrapeValue("cvagent_output_buffer_metrics{plugin=\"outputs.record\"}"), 10.0);
  hub.setGate(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 200u);
  EXPECT_EQ(p->stats().dropped, 0u);
  EXPECT_EQ(delivered_ok.load(), 200);
}

// Once a write fails, the buffer may fill up to buffer.max: it rides out the outage while the
// inputs keep running; nothing is lost when the output comes back.
TEST_F(RuntimeTest, AFailingOutputBuffersUpToBufferMax) {
  {
    std::lock_guard lock(hub.mu);
    hub.down = true;
  }
  auto p = make(R"(
agent: {http: '', queue_size: 4, state_dir: /tmp/cvagent-runtime-test}
inputs:
  - seq: {count: 150, track: true}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, buffer: {max: 100}, retry: {initial: 5ms, max: 20ms}}
)");
  p->start(true);
  waitFor([&] { return p->stats().routed >= 100; });
  std::this_thread::sleep_for(100ms);
  EXPECT_LE(p->stats().routed, 104u) << "buffer.max bounds the buffer during the outage";
  EXPECT_EQ(hub.storedCount("out"), 0u);
  {
    std::lock_guard lock(hub.mu);
    hub.down = false;
  }
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 150u);
  EXPECT_EQ(p->stats().dropped, 0u);
  EXPECT_EQ(delivered_ok.load(), 150);
}

TEST_F(RuntimeTest, ShutdownDeadlineDropsAndCountsWhatCannotBeWritten) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 7, track: true}
outputs:
  - record: {batch_size: 100, fail_first: 1000000, retry: {initial: 10ms, max: 10ms}}
)");
  p->start(true);
  p->waitInputsDone();
  const std::size_t left = p->stop(std::chrono::steady_clock::now() + 200ms);
  EXPECT_EQ(left, 7u);
  EXPECT_EQ(p->stats().dropped, 7u);
  EXPECT_EQ(delivered_failed.load(), 7);
}

TEST_F(RuntimeTest, ReloadKeepsBufferedMetrics) {
  auto first = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 20}
outputs:
  - record: {id: store, name: broken, batch_size: 100, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}}
)");
  first->start(true);
  first->waitInputsDone();
  waitFor([] {
    std::lock_guard lock(hub.mu);
    return hub.attempts["broken"] >= 2;
  });
  auto carried = first->stopForReload();
  ASSERT_EQ(carried["store"].size(), 20u);
  first.reset();

  Diagnostics diags;
  auto root = config::parseYaml(std::string(kAgent) +
                                    "inputs:\n  - seq: {count: 0}\noutputs:\n  - record: {id: "
                                    "store, name: fixed, batch_size: 100}\n",
                                "test.yaml", config::processEnv(), diags);
  auto config = config::parsePipeline(*root, diags);
  Pipeline reloaded(config, registry_, telemetry_, clock_);
  std::vector<std::string> errors;
  ASSERT_TRUE(reloaded.build(errors, std::move(carried)));
  reloaded.start(true);
  waitFor([] { return hub.storedCount("fixed") == 20; });
  reloaded.stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(std::get<std::int64_t>(*hub.stored["fixed"].front().field("seq")), 0);
}

TEST_F(RuntimeTest, DeliveryCompletesWhenEveryOutputStored) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 4, track: true}
outputs:
  - record: {name: one, batch_size: 4}
  - record: {name: two, batch_size: 4, fail_first: 2, retry: {initial: 5ms}}
)");
  p->start(true);
  waitFor([] { return hub.storedCount("one") == 4; });
  EXPECT_EQ(delivered_ok.load(), 0) << "output two has not stored them yet";
  waitFor([] { return delivered_ok.load() == 4; });
  EXPECT_EQ(hub.storedCount("two"), 4u);
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(delivered_failed.load(), 0);
}

// A stored batch is freed on an input's thread (its next emit) or, when no input emits, by the
// worker once a flush interval passes with nothing to write; its deliveries complete when it is
// stored, not when it is freed.
TEST_F(RuntimeTest, StoredBatchesWaitToBeFreedButTheirDeliveryDoesNot) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 4, track: true}
outputs:
  - record: {batch_size: 4, flush_interval: 2s}
)");
  p->start(true);
  p->waitInputsDone();
  // Stored, and no input emits any more: the batch waits (for up to the 2 s flush interval)...
  waitFor([&] { return p->batchesWaitingToBeFreed() == 1; });
  EXPECT_EQ(delivered_ok.load(), 4) << "reported when stored, not when freed";
  waitFor([&] { return p->batchesWaitingToBeFreed() == 0; });  // ...then the idle worker frees it
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(delivered_failed.load(), 0);
}

TEST(MetricReturnsTest, HoldsAtMostTwoBatchesAndFreesOnTheReapingThread) {
  std::mutex mu;
  std::vector<std::pair<int, std::thread::id>> freed;  // batch number, freeing thread
  const auto batch = [&](int number) {
    std::vector<Metric> metrics(3);
    auto probe = std::make_shared<Delivery>([&, number](bool) {
      std::lock_guard lock(mu);
      freed.emplace_back(number, std::this_thread::get_id());
    });
    for (auto& m : metrics) m.setDelivery(probe);  // runs when the last of them is destroyed
    return metrics;
  };
  MetricReturns returns;
  returns.reap();  // nothing waits: nothing happens
  returns.give(batch(1));
  returns.give(batch(2));
  EXPECT_EQ(returns.waitingBatches(), 2u);
  EXPECT_TRUE(freed.empty());
  returns.give(batch(3));  // one too many: the giver frees the oldest
  EXPECT_EQ(returns.waitingBatches(), 2u);
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0], std::make_pair(1, std::this_thread::get_id()));

  std::thread::id reaper;
  std::thread([&] {
    reaper = std::this_thread::get_id();
    returns.reap();
  }).join();
  EXPECT_EQ(returns.waitingBatches(), 0u);
  ASSERT_EQ(freed.size(), 3u);
  EXPECT_EQ(freed[1], std::make_pair(2, reaper));
  EXPECT_EQ(freed[2], std::make_pair(3, reaper));
}

TEST_F(RuntimeTest, TestModeSendsToTheSinkAndBuildsNoOutput) {
  std::vector<Metric> seen;
  RunOptions options;
  options.test = true;
  options.test_sink = [&](const Metric& m) { seen.push_back(m); };
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 3}
processors:
  - append: {letter: t}
outputs:
  - record: {name: never}
)",
                options);
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  ASSERT_EQ(seen.size(), 4u);  // 3 + the processor's flush
  EXPECT_EQ(*seen[0].stringField("path"), "t");
  EXPECT_EQ(hub.storedCount("never"), 0u);
}

TEST_F(RuntimeTest, GlobalAndInstanceTagsAndFilters) {
  auto p = make(R"(
agent: {http: '', tags: {host: h1, dc: a}}
inputs:
  - seq: {count: 4, name: keep, tags: {dc: b}}
  - seq: {count: 4, name: gone, namedrop: [go*]}
outputs:
  - record: {batch_size: 100, tagpass: {dc: [b]}}
)");
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  ASSERT_EQ(hub.storedCount("out"), 4u);
  EXPECT_EQ(*hub.stored["out"][0].tag("host"), "h1");
  EXPECT_EQ(*hub.stored["out"][0].tag("dc"), "b") << "instance tags win over global ones";
}

// ---------------------------------------------------------------- delivery accounting
// Every path where a tracked metric disappears reports it to its input as not delivered; a metric
// counts as delivered only when every output that took it stored it.

TEST_F(RuntimeTest, BufferDropsAreNotDelivered) {
  hub.setGate(false);
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 50, track: true}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 10, when_full: drop_oldest}}
)");
  p->start(true);
  p->waitInputsDone();
  waitFor([&] { return p->queued() == 0 && p->stats().routed == 50; });
  hub.setGate(true);
  p->stop(std::chrono::steady_clock::now() + 5s);
  const auto s = p->stats();
  EXPECT_EQ(s.written, 10u);
  EXPECT_EQ(s.dropped, 40u);
  EXPECT_EQ(delivered_ok.load(), 10);
  EXPECT_EQ(delivered_failed.load(), 40);
}

TEST_F(RuntimeTest, DroppingShowsOnHealth) {
  hub.setGate(false);
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 50}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 10, when_full: drop_oldest}}
)");
  p->start(true);
  p->waitInputsDone();
  waitFor([&] {
    const std::string health = telemetry_.healthJson();
    return health.find("\"state\":\"degraded\",\"detail\":\"dropping metrics (40 dropped") !=
           std::string::npos;
  });
  hub.setGate(true);
  p->stop(std::chrono::steady_clock::now() + 5s);
}

TEST_F(RuntimeTest, OneOutputDroppingMakesTheMetricNotDelivered) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 10, track: true}
outputs:
  - record: {name: all, batch_size: 10}
  - record: {name: even, batch_size: 10, reject_odd: true}
)");
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("all"), 10u);
  EXPECT_EQ(delivered_ok.load(), 5) << "the even ones, stored by both";
  EXPECT_EQ(delivered_failed.load(), 5) << "the odd ones, rejected by one output";
}

TEST_F(RuntimeTest, MetricsEmittedAfterStopAreNotDelivered) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - late: {}
outputs:
  - record: {batch_size: 10}
)");
  p->start();
  ASSERT_NE(late_emitter, nullptr);
  late_emitter->emit(tracked(1));
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(delivered_ok.load(), 1);
  late_emitter->emit(tracked(2));  // an input that kept emitting past its stop()
  EXPECT_EQ(delivered_ok.load(), 1);
  EXPECT_EQ(delivered_failed.load(), 1);
  EXPECT_EQ(p->stats().dropped, 1u);
  EXPECT_NE(telemetry_.scrape().find("cvagent_input_metrics_dropped_total{plugin=\"inputs.late\","
                                     "reason=\"stopped\"} 1"),
            std::string::npos);
  late_emitter = nullptr;
}

TEST_F(RuntimeTest, AMetricAProcessorThrowsOnIsNotDelivered) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 9, track: true}
processors:
  - append: {throw_every: 3}
outputs:
  - record: {batch_size: 100}
)");
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 7u) << "6 of the 9, and the processor's flush";
  EXPECT_EQ(delivered_ok.load(), 6);
  EXPECT_EQ(delivered_failed.load(), 3) << "seq 0, 3 and 6";
}

TEST_F(RuntimeTest, TestModeDeliversNothing) {
  RunOptions options;
  options.test = true;
  options.test_sink = [](const Metric&) {};
  auto p = make(std::string(kAgent) + "inputs:\n  - seq: {count: 3, track: true}\n", options);
  p->start(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(delivered_ok.load(), 0) << "--test writes nothing: no input may advance";
  EXPECT_EQ(delivered_failed.load(), 3);
}

// Reload carry-over: metrics stay undecided while carried, are delivered when the new pipeline
// stores them, and are not delivered when their output is gone from the new configuration.
TEST_F(RuntimeTest, ReloadCarriesDeliveryTracking) {
  auto carried = carryFromBrokenOutputs(std::string(kAgent) + R"(
inputs:
  - seq: {count: 20, track: true}
outputs:
  - record: {id: keep, name: broken, batch_size: 100, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}}
  - record: {id: gone, name: broken2, batch_size: 100, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}}
)",
                                        {"broken", "broken2"});
  EXPECT_EQ(delivered_ok.load() + delivered_failed.load(), 0) << "carried, not decided";

  const auto config = parse(std::string(kAgent) +
                            "inputs:\n  - seq: {count: 0}\noutputs:\n  - record: {id: keep, name: "
                            "fixed, batch_size: 100}\n");
  auto reloaded = std::make_unique<Pipeline>(config, registry_, telemetry_, clock_);
  std::vector<std::string> errors;
  ASSERT_TRUE(reloaded->build(errors, std::move(carried)));
  reloaded->start(true);
  waitFor([] { return hub.storedCount("fixed") == 20; });
  reloaded->stop(std::chrono::steady_clock::now() + 5s);
  reloaded.reset();
  EXPECT_EQ(delivered_ok.load(), 0) << "output 'gone' never stored them";
  EXPECT_EQ(delivered_failed.load(), 20);
  EXPECT_NE(telemetry_.scrape().find("cvagent_output_metrics_dropped_total{plugin=\"gone\","
                                     "reason=\"output_removed\"} 20"),
            std::string::npos);
}

TEST_F(RuntimeTest, AFailedReloadBuildKeepsTheCarriedBuffers) {
  auto carried = carryFromBrokenOutputs(std::string(kAgent) + R"(
inputs:
  - seq: {count: 5, track: true}
outputs:
  - record: {id: keep, name: broken, batch_size: 100, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}}
)",
                                        {"broken"});
  const auto config = parse(std::string(kAgent) +
                            "inputs:\n  - nosuchplugin: {}\noutputs:\n  - record: {id: keep, "
                            "name: fixed, batch_size: 100}\n");
  {
    Pipeline refused(config, registry_, telemetry_, clock_);
    std::vector<std::string> errors;
    ASSERT_FALSE(refused.build(errors, carried));  // a copy, as cli/app.cc passes it
  }
  ASSERT_EQ(carried["keep"].size(), 5u);
  EXPECT_EQ(delivered_ok.load() + delivered_failed.load(), 0);
  carried.clear();
  EXPECT_EQ(delivered_ok.load(), 5) << "the refused build marked none of them failed";
}

// ---------------------------------------------------------------- back-pressure by default
TEST_F(RuntimeTest, DefaultBufferBlocksInsteadOfDropping) {
  hub.setGate(false);
  auto p = make(R"(
agent: {http: '', queue_size: 4, state_dir: /tmp/cvagent-runtime-test}
inputs:
  - seq: {count: 200, track: true}
outputs:
  - record: {batch_size: 5, flush_interval: 10ms, gated: true, buffer: {max: 10}}
)");
  p->start(true);
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(p->stats().routed, 200u) << "the pipeline waits instead of dropping";
  hub.setGate(true);
  p->waitInputsDone();
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("out"), 200u);
  EXPECT_EQ(p->stats().dropped, 0u);
  EXPECT_EQ(delivered_ok.load(), 200);
  EXPECT_GT(scrapeValue("cvagent_output_blocked_seconds_total{plugin=\"outputs.record\"}"), 0.0)
      << "the wait is counted";
}

TEST_F(RuntimeTest, ABlockedPipelineStillStopsAtTheDeadline) {
  auto p = make(R"(
agent: {http: '', queue_size: 4, state_dir: /tmp/cvagent-runtime-test}
inputs:
  - seq: {count: 100, track: true}
outputs:
  - record: {batch_size: 5, buffer: {max: 10}, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}}
)");
  p->start(true);
  waitFor([&] { return p->queued() == 4; });
  const auto begin = std::chrono::steady_clock::now();
  p->stop(begin + 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  const auto s = p->stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped, 100u) << "every metric accounted for";
  EXPECT_EQ(delivered_failed.load(), 100);
  EXPECT_EQ(delivered_ok.load(), 0);
}

// ---------------------------------------------------------------- write timeout
TEST_F(RuntimeTest, AHungWriteIsCancelledAndRetried) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 6, track: true}
outputs:
  - record: {batch_size: 6, hang_first: 2, write_timeout: 100ms, retry: {initial: 5ms, max: 5ms}}
)");
  p->start(true);
  waitFor([] { return hub.storedCount("out") == 6; });
  p->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.cancels["out"], 2);
  EXPECT_EQ(hub.attempts["out"], 1) << "two hung writes, then one that stored";
  EXPECT_EQ(delivered_ok.load(), 6);
  EXPECT_EQ(p->stats().dropped, 0u);
  EXPECT_NE(
      telemetry_.scrape().find("cvagent_output_write_timeouts_total{plugin=\"outputs.record\"} 2"),
      std::string::npos);
}

TEST_F(RuntimeTest, AHungWriteShowsOnHealthAndMetrics) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 6}
outputs:
  - record: {batch_size: 6, hang_first: 1000, write_timeout: 100ms, retry: {initial: 5ms, max: 5ms}}
)");
  p->start(true);
  waitFor([&] {
    return healthSays(
               "\"state\":\"degraded\",\"detail\":\"write failed: timed out after 0.1s "
               "(write_timeout), cancelled: connection shut down by cancel()") ||
           healthSays("write hung for 0.1s (write_timeout): cancelled, will retry");
  });
  waitFor([&] {
    return scrapeValue("cvagent_output_write_timeouts_total{plugin=\"outputs.record\"}") >= 2;
  });
  p->stop(std::chrono::steady_clock::now() + 200ms);
}

TEST_F(RuntimeTest, AHungWriteIsCancelledAtTheShutdownDeadline) {
  auto p = make(std::string(kAgent) + R"(
inputs:
  - seq: {count: 6, track: true}
outputs:
  - record: {batch_size: 6, hang_first: 1, write_timeout: 1h}
)");
  p->start(true);
  waitFor([] {
    std::lock_guard lock(hub.mu);
    return hub.hanging == 1;
  });
  // write_timeout is far away: the shutdown deadline cancels the write.
  const auto begin = std::chrono::steady_clock::now();
  const std::size_t left = p->stop(begin + 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_EQ(hub.cancels["out"], 1);
  EXPECT_EQ(left, 6u);
  EXPECT_EQ(delivered_failed.load(), 6);
  EXPECT_EQ(scrapeValue("cvagent_output_write_timeouts_total{plugin=\"outputs.record\"}"), 0)
      << "a shutdown cancel is not a timeout";
}

TEST_F(RuntimeTest, APipelinedOutputHasSeveralBatchesInFlightAndDeliversOnlyWhatIsConfirmed) {
  auto p = runWithNothingConfirmed(50);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(most_in_flight.load(), 3);  // never more than the output allows
  EXPECT_EQ(delivered_ok.load(), 0);    // sent is not stored
  EXPECT_EQ(hub.storedCount("pipelined"), 0u);
  hub.setGate(true);
  EXPECT_EQ(p->stop(std::chrono::steady_clock::now() + 10s), 0u);
  ASSERT_EQ(hub.storedCount("pipelined"), 50u);
  for (std::int64_t i = 0; i < 50; ++i) {  // in order: results are taken oldest first
    EXPECT_EQ(std::get<std::int64_t>(*hub.stored["pipelined"][i].field("seq")), i);
  }
  EXPECT_EQ(delivered_ok.load(), 50);
  EXPECT_EQ(delivered_failed.load(), 0);
  EXPECT_EQ(p->stats().written, 50u);
}

TEST_F(RuntimeTest, APipelinedBatchToRetryIsRetriedAndNothingIsLostOrDuplicated) {
  auto p = make(std::string(kAgent) +
                "inputs:\n  - seq: {count: 50, track: true}\n"
                "outputs:\n  - pipelined: {fail_batch: 1, batch_size: 10, flush_interval: 20ms,"
                " retry: {initial: 10ms}}\n");
  p->start(true);
  p->waitInputsDone();
  waitFor([] { return hub.storedCount("pipelined") == 50; });
  EXPECT_EQ(p->stop(std::chrono::steady_clock::now() + 10s), 0u);
  std::set<std::int64_t> seen;
  for (const auto& m : hub.stored["pipelined"]) {
    EXPECT_TRUE(seen.insert(std::get<std::int64_t>(*m.field("seq"))).second);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(hub.attempts["pipelined"], 1);  // the failed batch, through write()
  EXPECT_EQ(delivered_ok.load(), 50);
  EXPECT_EQ(delivered_failed.load(), 0);
}

TEST_F(RuntimeTest, StoppingAPipelinedOutputHandsBackWhatWasNotConfirmed) {
  auto p = runWithNothingConfirmed(30);
  // The deadline passes with every batch unconfirmed: all are dropped as not written, and their
  // inputs hear so.
  EXPECT_EQ(p->stop(std::chrono::steady_clock::now() + 100ms), 30u);
  EXPECT_EQ(delivered_ok.load(), 0);
  EXPECT_EQ(delivered_failed.load(), 30);
  hub.setGate(true);
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(globMatch("tr*", "trade"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("t?ade", "trade"));
  EXPECT_TRUE(globMatch("*USD", "BTC/USD"));
  EXPECT_FALSE(globMatch("*USD", "BTC/EUR"));
  EXPECT_FALSE(globMatch("trade", "trades"));
  EXPECT_TRUE(globMatch("a*b*c", "axxbyyc"));
}

// ---------------------------------------------------------------- disk buffer
struct StateDir {
  std::string path;
  StateDir() {
    std::string templ = "/tmp/cvagent-runtime-disk-XXXXXX";
    path = ::mkdtemp(templ.data());
  }
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string diskAgent(const StateDir& dir) {
  return "agent: {http: '', state_dir: " + dir.path + "}\n";
}

void expectSequence(const std::vector<Metric>& stored, std::int64_t count) {
  ASSERT_EQ(stored.size(), static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    EXPECT_EQ(std::get<std::int64_t>(*stored[static_cast<std::size_t>(i)].field("seq")), i);
  }
}

TEST_F(RuntimeTest, DiskBufferDeliversOnDiskKeepsItAtShutdownAndReplaysIt) {
  StateDir state;
  auto p = make(diskAgent(state) + R"(
inputs:
  - seq: {count: 30, track: true}
outputs:
  - record: {id: store, name: down, batch_size: 10, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}, buffer: {type: disk}}
)");
  p->start(true);
  p->waitInputsDone();
  // On disk counts as delivered, though the output stored nothing.
  waitFor([] { return delivered_ok.load() == 30; });
  EXPECT_EQ(hub.storedCount("down"), 0u);
  EXPECT_EQ(p->stop(std::chrono::steady_clock::now() + 200ms), 0u) << "nothing dropped";
  EXPECT_EQ(p->stats().dropped, 0u);
  EXPECT_EQ(delivered_failed.load(), 0);
  p.reset();
  EXPECT_TRUE(std::filesystem::exists(state.path + "/buffers/store/lock"));

  auto again = make(diskAgent(state) + R"(
inputs:
  - seq: {count: 0}
outputs:
  - record: {id: store, name: up, batch_size: 10, buffer: {type: disk}}
)");
  again->start(true);
  waitFor([] { return hub.storedCount("up") == 30; });
  EXPECT_EQ(again->batchesWaitingToBeFreed(), 0u) << "read from disk on the worker's thread";
  again->stop(std::chrono::steady_clock::now() + 5s);
  expectSequence(hub.stored["up"], 30);
  // Everything was acknowledged: a third start replays nothing.
  auto third = make(diskAgent(state) + R"(
inputs:
  - seq: {count: 0}
outputs:
  - record: {id: store, name: third, batch_size: 10, flush_interval: 10ms, buffer: {type: disk}}
)");
  third->start(true);
  std::this_thread::sleep_for(100ms);
  third->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(hub.storedCount("third"), 0u);
}

TEST_F(RuntimeTest, ReloadHandsTheDiskBufferOver) {
  StateDir state;
  auto first = make(diskAgent(state) + R"(
inputs:
  - seq: {count: 20}
outputs:
  - record: {id: store, name: broken, batch_size: 100, fail_first: 1000000, retry: {initial: 5ms, max: 5ms}, buffer: {type: disk, sync: batch}}
)");
  first->start(true);
  first->waitInputsDone();
  waitFor([] {
    std::lock_guard lock(hub.mu);
    return hub.attempts["broken"] >= 2;
  });
  auto carried = first->stopForReload();
  EXPECT_TRUE(carried["store"].empty()) << "the disk keeps them, not memory";

  // As the agent does: the new pipeline is built while the old one still exists.
  Diagnostics diags;
  auto root = config::parseYaml(diskAgent(state) +
                                    "inputs:\n  - seq: {count: 0}\noutputs:\n  - record: {id: "
                                    "store, name: fixed, batch_size: 100, buffer: {type: disk}}\n",
                                "test.yaml", config::processEnv(), diags);
  auto config = config::parsePipeline(*root, diags);
  Pipeline reloaded(config, registry_, telemetry_, clock_);
  std::vector<std::string> errors;
  ASSERT_TRUE(reloaded.build(errors, std::move(carried))) << errors[0];
  first.reset();
  reloaded.start(true);
  waitFor([] { return hub.storedCount("fixed") == 20; });
  reloaded.stop(std::chrono::steady_clock::now() + 5s);
  expectSequence(hub.stored["fixed"], 20);
}

TEST_F(RuntimeTest, SecondPipelineOnADiskBufferDirectoryRefusesToStart) {
  StateDir state;
  const std::string yaml = diskAgent(state) + R"(
inputs:
  - seq: {count: 1}
outputs:
  - record: {buffer: {type: disk}}
)";
  auto first = make(yaml);
  Diagnostics diags;
  auto root = config::parseYaml(yaml, "test.yaml", config::processEnv(), diags);
  Pipeline second(config::parsePipeline(*root, diags), registry_, telemetry_, clock_);
  std::vector<std::string> errors;
  EXPECT_FALSE(second.build(errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(state.path + "/buffers/outputs.record is in use"), std::string::npos)
      << errors[0];
}

TEST_F(RuntimeTest, DiskFullMakesTheOutputDegradedAndLosesNothingWritten) {
  StateDir state;
  hub.setGate(false);  // the output is slow: what arrives stays on disk
  auto p = make(diskAgent(state) + R"(
inputs:
  - seq: {count: 20, track: true, interval: 2ms}
outputs:
  - record: {name: full, batch_size: 10, gated: true, buffer: {type: disk, when_full: drop_oldest}}
)");
  // RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG, as a full disk fails with ENOSPC.
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 64 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &limited);
  p->start();
  waitFor([] { return delivered_failed.load() >= 100; });
  const std::string health = telemetry_.healthJson();
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_NE(health.find("File too large"), std::string::npos) << health;
  EXPECT_NE(health.find("degraded"), std::string::npos) << health;
  hub.setGate(true);
  p->stop(std::chrono::steady_clock::now() + 10s);
  const auto stats = p->stats();
  // Every metric is either on disk (acknowledged, then stored) or refused and reported as such.
  EXPECT_EQ(static_cast<std::uint64_t>(delivered_ok.load() + delivered_failed.load()),
            stats.gathered);
  EXPECT_EQ(hub.storedCount("full"), static_cast<std::size_t>(delivered_ok.load()));
  EXPECT_EQ(stats.dropped, static_cast<std::uint64_t>(delivered_failed.load()));
  EXPECT_NE(
      telemetry_.scrape().find("reason=\"disk_full\"} " + std::to_string(delivered_failed.load())),
      std::string::npos);
  std::set<std::int64_t> seqs;
  for (const auto& m : hub.stored["full"]) {
    EXPECT_TRUE(seqs.insert(std::get<std::int64_t>(*m.field("seq"))).second) << "no duplicates";
  }
  EXPECT_GT(seqs.size(), 1000u);  // 64 KiB of ~40-byte records, and more once writing works
}

TEST(RetryPolicyTest, GrowsCapsAndJitters) {
  config::RetryOptions o;
  o.initial = 100ms;
  o.max = 1s;
  o.multiplier = 2;
  o.jitter = 0;
  RetryPolicy policy(o);
  std::mt19937_64 rng(1);
  EXPECT_EQ(policy.delay(0, rng), 100ms);
  EXPECT_EQ(policy.delay(3, rng), 800ms);
  EXPECT_EQ(policy.delay(10, rng), 1s);
  o.jitter = 0.5;
  RetryPolicy jittered(o);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    const auto d = jittered.delay(2, rng).count();
    EXPECT_GE(d, 200);
    EXPECT_LE(d, 600);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 10u);
}

}  // namespace
}  // namespace cvagent::runtime

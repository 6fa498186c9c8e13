#include "kafka_input.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "contract/testing/sample_metrics.h"
#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "kafka/testing/metric_producer.h"
#include "kafka/testing/mock_cluster.h"

namespace cvagent::inputs::kafka {
namespace {

using cvagent::testing::CapturingEmitter;
using cvagent::testing::MockCluster;
using cvagent::testing::sortedFields;
using cvagent::testing::TestContext;
using namespace std::chrono_literals;

Metric trade(const std::string& pair, std::int64_t id) {
  return cvagent::testing::MetricBuilder("trade")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .tag("side", "buy")
      .field("price", FieldValue{100.0 + static_cast<double>(id)})
      .field("volume", FieldValue{0.5})
      .field("trade_id", FieldValue{id})
      .time(cvagent::testing::kEventNs + id * 1000);
}

std::vector<Metric> trades(std::int64_t from, std::int64_t to) {
  static const std::vector<std::string> pairs = {"BTC/USD", "ETH/USD",  "SOL/USD", "ADA/USD",
                                                 "DOT/USD", "LINK/USD", "XRP/USD"};
  std::vector<Metric> out;
  for (std::int64_t i = from; i < to; ++i) out.push_back(trade(pairs[i % pairs.size()], i));
  return out;
}

// As outputs.kafka writes them: the contract's topics, keys and shapes.
void produce(const MockCluster& cluster, const std::vector<Metric>& metrics,
             const std::string& format = "json") {
  cvagent::testing::MetricProducer(cluster.bootstrap()).produce(metrics, format);
}

// Raw messages, as another producer (the legacy Python stack) would write them.
void produceRaw(const MockCluster& cluster, const std::string& topic,
                const std::vector<std::string>& values) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap().c_str(), errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  ASSERT_NE(rk, nullptr) << errstr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  for (const auto& v : values) {
    ASSERT_EQ(rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, const_cast<char*>(v.data()), v.size(),
                               nullptr, 0, nullptr),
              0);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

KafkaInputOptions inputOptions(const MockCluster& cluster, std::vector<std::string> topics,
                               std::string group) {
  KafkaInputOptions options;
  options.brokers = {cluster.bootstrap()};
  options.topics = std::move(topics);
  options.group = std::move(group);
  options.commit_interval = 100ms;
  // Quick rebalances in tests.
  options.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  return options;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::seconds timeout = 30s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The committed offset of each partition of `topic` for `group`.
std::map<int, std::int64_t> committed(const MockCluster& cluster, const std::string& group,
                                      const std::string& topic, int partitions) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap().c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "group.id", group.c_str(), errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  std::map<int, std::int64_t> out;
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) out[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

std::int64_t tradeId(const Metric& m) { return std::get<std::int64_t>(*m.field("trade_id")); }

// Stores nothing: records what arrives and releases it at once, like outputs that stored it.
class ReleasingEmitter final : public Emitter {
 public:
  void emit(Metric&& metric) override {
    std::lock_guard lock(mu_);
    ids_.insert(tradeId(metric));
    ++count_;
  }
  std::size_t distinct() const {
    std::lock_guard lock(mu_);
    return ids_.size();
  }

 private:
  mutable std::mutex mu_;
  std::set<std::int64_t> ids_;
  std::size_t count_ = 0;
};

TEST(PartitionProgress, CommitsOnlyTheDonePrefix) {
  PartitionProgress p;
  for (std::int64_t o = 10; o < 15; ++o) p.add(o);
  EXPECT_EQ(p.complete(11), -1);
  EXPECT_EQ(p.complete(12), -1);
  EXPECT_EQ(p.complete(10), 13);  // 10, 11, 12 done: resume at 13
  EXPECT_EQ(p.complete(14), -1);
  EXPECT_EQ(p.complete(99), -1);  // not ours
  EXPECT_EQ(p.complete(13), 15);
  EXPECT_EQ(p.pending(), 0u);
}

TEST(KafkaInput, ReadsBackEveryMetricKindOutputsKafkaWrote) {
  MockCluster cluster(3, {"rawticker:6", "rawtrade:6", "rawarticle:3", "rawalert:3", "ohlc:3",
                          "sentiment:3", "prediction:3", "lines:1"});
  const auto metrics = cvagent::testing::everyKind();
  produce(cluster, metrics);
  TestContext ctx("inputs.kafka");
  auto options = inputOptions(
      cluster,
      {"rawticker", "rawtrade", "rawarticle", "rawalert", "ohlc", "sentiment", "prediction"},
      "roundtrip");
  KafkaInput input(options, ctx);
  CapturingEmitter out;
  input.start(out);
  ASSERT_TRUE(waitFor([&] { return out.size() >= metrics.size(); }));
  input.stop();
  auto got = out.take();
  ASSERT_EQ(got.size(), metrics.size());
  std::map<std::string, Metric> by_name;
  for (auto& m : got) {
    EXPECT_NE(m.delivery(), nullptr) << "every metric is tracked";
    by_name[m.name()] = sortedFields(m);
  }
  for (const auto& m : metrics) EXPECT_EQ(by_name[m.name()], sortedFields(m)) << m.name();
  EXPECT_EQ(ctx.counterValue("messages_consumed_total"), static_cast<double>(metrics.size()));
}

TEST(KafkaInput, ReadsLineProtocolAndLegacyMessagesAndSkipsGarbage) {
  MockCluster cluster(3, {"rawtrade:1"});
  produceRaw(cluster, "rawtrade",
             {R"({"pair": "XBT/USD", "price": 1.5, "volume": 2.0, "timestamp": 1795962600.5,)"
              R"( "side": "s"})",
              "{not json", "trade,pair=ETH/USD,side=buy price=3.5,trade_id=7i 1795962600000000000",
              "trade,pair=A/B price=1 1\ntrade,pair=C/D price=2 2"});
  TestContext ctx;
  KafkaInput input(inputOptions(cluster, {"rawtrade"}, "mixed"), ctx);
  CapturingEmitter out;
  input.start(out);
  ASSERT_TRUE(waitFor([&] { return out.size() >= 4; }));
  // Everything read is done once released: the garbage too, so the commit moves past it.
  out.take();
  ASSERT_TRUE(waitFor([&] { return committed(cluster, "mixed", "rawtrade", 1)[0] == 4; }));
  input.stop();
  EXPECT_EQ(ctx.counterValue("messages_malformed_total"), 1.0);
  EXPECT_TRUE(ctx.logger().contains("offset 1", LogLevel::kWarn));
}

TEST(KafkaInput, ParsesLegacyAndMultiLineMessages) {
  MockCluster cluster(3, {"rawtrade:1"});
  produceRaw(cluster, "rawtrade",
             {R"({"pair": "XBT/USD", "price": 1.5, "volume": 2.0, "timestamp": 1795962600.5,)"
              R"( "side": "s"})",
              "trade,pair=A/B price=1 1\ntrade,pair=C/D price=2 2"});
  TestContext ctx;
  KafkaInput input(inputOptions(cluster, {"rawtrade"}, "parse"), ctx);
  CapturingEmitter out;
  input.start(out);
  ASSERT_TRUE(waitFor([&] { return out.size() >= 3; }));
  input.stop();
  const auto got = out.take();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(*got[0].tag("pair"), "XBT/USD");
  EXPECT_EQ(*got[0].tag("side"), "sell");
  EXPECT_EQ(got[0].time(), 1'795'962'600'500'000'000);
  EXPECT_EQ(*got[1].tag("pair"), "A/B");
  EXPECT_EQ(*got[2].tag("pair"), "C/D");
  EXPECT_EQ(got[1].delivery(), got[2].delivery()) << "one message, one delivery";
}

// A consumer stopped while part of its batch is not stored: only the stored prefix is committed,
// and the next member of the group resumes right after it.
TEST(KafkaInput, AConsumerStoppedMidBatchResumesWithoutLossOrGap) {
  MockCluster cluster(3, {"rawtrade:1"});
  produce(cluster, trades(0, 100));
  TestContext ctx;
  auto options = inputOptions(cluster, {"rawtrade"}, "resume");
  std::vector<Metric> held;
  {
    KafkaInput first(options, ctx);
    CapturingEmitter out;
    first.start(out);
    ASSERT_TRUE(waitFor([&] { return out.size() >= 100; }));
    auto got = out.take();
    ASSERT_EQ(got.size(), 100u);
    // Stored by the outputs: 0..39 and 50..99; 40..49 still in some output's buffer.
    for (auto& m : got) {
      if (tradeId(m) >= 40 && tradeId(m) < 50) held.push_back(std::move(m));
    }
    got.clear();
    ASSERT_TRUE(waitFor([&] { return committed(cluster, "resume", "rawtrade", 1)[0] == 40; }));
    first.stop();
    EXPECT_EQ(committed(cluster, "resume", "rawtrade", 1)[0], 40);
  }
  held.clear();  // completes after the consumer is gone: must not commit anything

  TestContext ctx2;
  KafkaInput second(options, ctx2);
  CapturingEmitter out;
  second.start(out);
  ASSERT_TRUE(waitFor([&] { return out.size() >= 60; }));
  second.stop();
  const auto again = out.take();
  ASSERT_EQ(again.size(), 60u);
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(tradeId(again[i]), 40 + static_cast<std::int64_t>(i));
  }
}

TEST(KafkaInput, TwoMembersShareTheTopicThroughARebalanceAndCommitEverything) {
  MockCluster cluster(3, {"rawtrade:6"});
  produce(cluster, trades(0, 600));
  TestContext ctx_a, ctx_b;
  auto options = inputOptions(cluster, {"rawtrade"}, "shared");
  ReleasingEmitter out;
  KafkaInput a(options, ctx_a);
  a.start(out);
  ASSERT_TRUE(waitFor([&] { return out.distinct() >= 1; }));
  KafkaInput b(options, ctx_b);
  b.start(out);
  ASSERT_TRUE(waitFor([&] { return ctx_b.logger().contains("assigned"); }, 60s))
      << "the second member never got partitions";
  produce(cluster, trades(600, 1200));
  ASSERT_TRUE(waitFor([&] { return out.distinct() >= 1200; }, 60s)) << out.distinct();
  // Every message is stored: every partition's commit reaches its end.
  ASSERT_TRUE(waitFor([&] {
    std::int64_t total = 0;
    for (const auto& [p, offset] : committed(cluster, "shared", "rawtrade", 6)) {
      total += std::max<std::int64_t>(offset, 0);
    }
    return total == 1200;
  }));
  a.stop();
  b.stop();
  EXPECT_TRUE(ctx_a.logger().contains("revoked"));
}

}  // namespace
}  // namespace cvagent::inputs::kafka

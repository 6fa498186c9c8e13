#include "kafka_output.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "contract/kafka_json.h"
#include "contract/testing/sample_metrics.h"
#include "cvagent/testing/test_context.h"
#include "kafka/testing/kafka_reader.h"
#include "kafka/testing/mock_cluster.h"
#include "service_env.h"

namespace cvagent::outputs::kafka {
namespace {

using cvagent::testing::everyKind;
using cvagent::testing::MockCluster;
using cvagent::testing::readTopic;
using cvagent::testing::sortedFields;
using cvagent::testing::TestContext;

const std::vector<std::string> kTopics = {"rawticker:6", "rawtrade:6", "rawarticle:3",
                                          "rawalert:3",  "ohlc:3",     "sentiment:3",
                                          "prediction:3"};

KafkaOptions optionsFor(const MockCluster& cluster) {
  KafkaOptions options;
  options.brokers = {cluster.bootstrap()};
  options.delivery_timeout = std::chrono::seconds(10);
  return options;
}

Metric trade(const std::string& pair, std::int64_t id) {
  return cvagent::testing::MetricBuilder("trade")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .tag("side", id % 2 ? "buy" : "sell")
      .field("price", FieldValue{100.0 + static_cast<double>(id)})
      .field("volume", FieldValue{0.5})
      .field("trade_id", FieldValue{id})
      .time(cvagent::testing::kEventNs + id * 1000);
}

struct Outcome {
  std::size_t stored = 0;
  std::size_t rejected = 0;
  std::vector<std::string> reject_reasons;
  std::size_t writes = 0;
};

// What the core does with WriteResults: keeps what is to be retried, drops rejects, backs off.
Outcome writeUntilStored(KafkaOutput& output, std::vector<Metric> batch,
                         std::chrono::seconds give_up = std::chrono::seconds(120)) {
  Outcome outcome;
  const auto until = std::chrono::steady_clock::now() + give_up;
  while (!batch.empty() && std::chrono::steady_clock::now() < until) {
    ++outcome.writes;
    const WriteResult result = output.write(batch);
    std::vector<WriteStatus> status(batch.size(), result.status());
    std::vector<std::string> reasons(batch.size(), result.reason());
    for (const auto& e : result.exceptions()) {
      status[e.index] = e.status;
      reasons[e.index] = e.reason;
    }
    std::vector<Metric> again;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (status[i] == WriteStatus::kOk) ++outcome.stored;
      if (status[i] == WriteStatus::kReject) {
        ++outcome.rejected;
        outcome.reject_reasons.push_back(reasons[i]);
      }
      if (status[i] == WriteStatus::kRetry) again.push_back(batch[i]);
    }
    batch = std::move(again);
    if (!batch.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return outcome;
}

std::int64_t tradeIdOf(const std::string& json) {
  simdjson::dom::parser parser;
  return parser.parse(json)["trade_id"].get_int64().value();
}

TEST(KafkaOutput, EveryMetricKindArrivesOnItsTopicInItsShape) {
  MockCluster cluster(3, kTopics);
  TestContext ctx("outputs.kafka");
  KafkaOutput output(optionsFor(cluster), ctx);
  output.connect();
  const auto metrics = everyKind();
  const WriteResult result = output.write(metrics);
  ASSERT_EQ(result.status(), WriteStatus::kOk) << result.reason();
  ASSERT_TRUE(result.exceptions().empty()) << result.exceptions()[0].reason;
  EXPECT_EQ(ctx.counterValue("messages_produced_total"), static_cast<double>(metrics.size()));

  simdjson::dom::parser parser;
  for (const Metric& metric : metrics) {
    SCOPED_TRACE(metric.name());
    const std::string topic = std::string(cvagent::contract::topicOf(metric));
    const auto read = readTopic(cluster.bootstrap(), topic, 1);
    ASSERT_EQ(read.size(), 1u);
    const auto& message = read[0];
    // On its own topic a shape needs no `metric` header: the topic says which metric it holds.
    EXPECT_TRUE(message.headers.empty()) << message.headers.begin()->first;
    EXPECT_EQ(message.timestamp_ms, metric.time() / 1'000'000);  // event time
    const std::string* expected_key = metric.tag("pair");
    if (!expected_key) expected_key = metric.tag("source");
    if (!expected_key) expected_key = metric.tag("symbol");
    ASSERT_NE(expected_key, nullptr);
    EXPECT_EQ(message.key, *expected_key);
    // No `metric` header: the topic says which metric it holds, as inputs.kafka reads it.
    const auto* kind = cvagent::contract::kindOfTopic(topic);
    ASSERT_NE(kind, nullptr);
    Metric back;
    std::string error;
    ASSERT_TRUE(cvagent::contract::parseValue(parser, message.value, kind->name,
                                              message.timestamp_ms * 1'000'000, back, error))
        << error;
    EXPECT_EQ(sortedFields(back), sortedFields(metric)) << message.value;
  }
}

TEST(KafkaOutput, InfluxFormatWritesLineProtocol) {
  MockCluster cluster(3, kTopics);
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.format = KafkaFormat::kInflux;
  KafkaOutput output(options, ctx);
  const std::vector<Metric> batch = {trade("BTC/USD", 7)};
  ASSERT_EQ(output.write(batch).status(), WriteStatus::kOk);
  const auto read = readTopic(cluster.bootstrap(), "rawtrade", 1);
  ASSERT_EQ(read.size(), 1u);
  std::string expected;
  codec::appendLineProtocol(batch[0], expected);
  EXPECT_EQ(read[0].value, expected);
  EXPECT_TRUE(read[0].headers.empty());  // line protocol names its metric
}

// `headers: needed` writes `metric` only where the topic does not say which metric a message
// holds; `all` writes both headers everywhere; `none` writes none.
TEST(KafkaOutput, HeadersAreWrittenWhereTheTopicDoesNotNameTheMetric) {
  const std::vector<Metric> batch = {
      trade("BTC/USD", 1),
      cvagent::testing::MetricBuilder("ticker").tag("pair", "BTC/USD").field("last", 1.5).build(),
      cvagent::testing::MetricBuilder("custom").tag("pair", "BTC/USD").field("v", 1.0).build()};
  using Headers = std::map<std::string, std::string>;
  // The headers of the one message on each topic the batch went to.
  const auto headersOn = [&](KafkaHeaders headers, std::map<std::string, std::string> topics) {
    MockCluster cluster(3, {"rawtrade:1", "rawticker:1", "trades-eu:1", "custom:1"});
    TestContext ctx;
    auto options = optionsFor(cluster);
    options.headers = headers;
    options.topics = topics;
    KafkaOutput output(options, ctx);
    EXPECT_EQ(output.write(batch).status(), WriteStatus::kOk);
    std::map<std::string, Headers> by_topic;
    const std::string trade_topic = topics.count("trade") ? topics["trade"] : "rawtrade";
    for (const std::string& topic :
         {trade_topic, std::string("rawticker"), std::string("custom")}) {
      const auto read = readTopic(cluster.bootstrap(), topic, 1);
      EXPECT_EQ(read.size(), 1u) << topic;
      if (!read.empty()) by_topic[topic] = read[0].headers;
    }
    return by_topic;
  };
  const std::map<std::string, std::string> eu = {{"trade", "trades-eu"}};
  const Headers metric_trade = {{"metric", "trade"}};

  auto got = headersOn(KafkaHeaders::kNeeded, eu);
  EXPECT_EQ(got["trades-eu"], metric_trade);  // a trade, but not on rawtrade
  EXPECT_EQ(got["rawticker"], Headers());     // the ticker's own topic
  EXPECT_EQ(got["custom"], Headers());        // the generic form carries "name"

  got = headersOn(KafkaHeaders::kNeeded, {});
  EXPECT_EQ(got["rawtrade"], Headers());

  got = headersOn(KafkaHeaders::kAll, eu);
  EXPECT_EQ(got["trades-eu"], (Headers{{"metric", "trade"}, {"cvagent_version", "test"}}));
  EXPECT_EQ(got["rawticker"], (Headers{{"metric", "ticker"}, {"cvagent_version", "test"}}));
  EXPECT_EQ(got["custom"], (Headers{{"metric", "custom"}, {"cvagent_version", "test"}}));

  got = headersOn(KafkaHeaders::kNone, eu);
  EXPECT_EQ(got["trades-eu"], Headers());
}

TEST(KafkaOutput, OnePairAlwaysLandsOnOnePartitionInOrder) {
  MockCluster cluster(3, kTopics);
  TestContext ctx;
  KafkaOutput output(optionsFor(cluster), ctx);
  const std::vector<std::string> pairs = {"BTC/USD", "ETH/USD",  "SOL/USD", "ADA/USD",
                                          "DOT/USD", "LINK/USD", "XRP/USD"};
  std::vector<Metric> batch;
  for (std::int64_t i = 0; i < 700; ++i) batch.push_back(trade(pairs[i % pairs.size()], i));
  // Two writes: the mapping holds across batches, not only within one.
  const std::span<const Metric> all(batch);
  ASSERT_EQ(output.write(all.subspan(0, 350)).status(), WriteStatus::kOk);
  ASSERT_EQ(output.write(all.subspan(350)).status(), WriteStatus::kOk);

  const auto read = readTopic(cluster.bootstrap(), "rawtrade", batch.size());
  ASSERT_EQ(read.size(), batch.size());
  std::map<std::string, std::set<int>> partitions;
  std::map<std::string, std::int64_t> last_id;
  std::set<int> used;
  for (const auto& m : read) {
    partitions[m.key].insert(m.partition);
    used.insert(m.partition);
    const std::int64_t id = tradeIdOf(m.value);
    if (last_id.count(m.key)) {
      EXPECT_GT(id, last_id[m.key]) << m.key << " out of order";
    }
    last_id[m.key] = id;
  }
  ASSERT_EQ(partitions.size(), pairs.size());
  for (const auto& [pair, p] : partitions) EXPECT_EQ(p.size(), 1u) << pair;
  EXPECT_GT(used.size(), 1u) << "keys should spread over partitions";
}

TEST(KafkaOutput, AnOversizedMessageIsRejectedAndCountedWhileTheRestFlows) {
  MockCluster cluster(3, kTopics);
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.max_message_bytes = {4096};
  KafkaOutput output(options, ctx);
  std::vector<Metric> batch;
  for (std::int64_t i = 0; i < 10; ++i) batch.push_back(trade("BTC/USD", i));
  batch[4].setField("note", std::string(10000, 'x'));
  const WriteResult result = output.write(batch);
  EXPECT_EQ(result.status(), WriteStatus::kOk);
  ASSERT_EQ(result.exceptions().size(), 1u);
  EXPECT_EQ(result.exceptions()[0].index, 4u);
  EXPECT_EQ(result.exceptions()[0].status, WriteStatus::kReject);
  EXPECT_NE(result.exceptions()[0].reason.find("too large"), std::string::npos)
      << result.exceptions()[0].reason;
  EXPECT_EQ(ctx.counterValue("messages_rejected_total"), 1.0);
  EXPECT_EQ(ctx.counterValue("messages_produced_total"), 9.0);
  EXPECT_TRUE(ctx.logger().contains("too large", LogLevel::kWarn));
  EXPECT_EQ(readTopic(cluster.bootstrap(), "rawtrade", 9).size(), 9u);
}

TEST(KafkaOutput, AnUnknownTopicIsRejectedWithTheReasonAndDoesNotBlockTheRest) {
  MockCluster cluster(3, kTopics);
  // What a cluster with auto-create off answers for a topic that does not exist.
  ASSERT_EQ(cluster.command("topic_error missing 3"), "ok");
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.topics = {{"alert", "missing"}};
  options.properties = {{"topic.metadata.propagation.max.ms", "500"}};
  KafkaOutput output(options, ctx);
  auto metrics = everyKind();
  const Outcome outcome = writeUntilStored(output, metrics, std::chrono::seconds(60));
  EXPECT_EQ(outcome.rejected, 1u);
  ASSERT_EQ(outcome.reject_reasons.size(), 1u);
  EXPECT_NE(outcome.reject_reasons[0].find("nknown topic"), std::string::npos)
      << outcome.reject_reasons[0];
  EXPECT_EQ(outcome.stored, metrics.size() - 1);
  EXPECT_EQ(readTopic(cluster.bootstrap(), "rawtrade", 1).size(), 1u);
}

TEST(KafkaOutput, InjectedProduceErrorsAreRetriedWithoutLossOrDuplicates) {
  MockCluster cluster(3, kTopics);
  // Produce (API key 0): NOT_LEADER_OR_FOLLOWER twice, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS.
  ASSERT_EQ(cluster.command("errors 0 6 6 7 19"), "ok");
  TestContext ctx;
  KafkaOutput output(optionsFor(cluster), ctx);
  std::vector<Metric> batch;
  for (std::int64_t i = 0; i < 500; ++i) batch.push_back(trade(i % 2 ? "BTC/USD" : "ETH/USD", i));
  const Outcome outcome = writeUntilStored(output, batch);
  EXPECT_EQ(outcome.stored, batch.size());
  EXPECT_EQ(outcome.rejected, 0u);
  const auto read =
      readTopic(cluster.bootstrap(), "rawtrade", batch.size() + 1, std::chrono::seconds(2));
  std::multiset<std::int64_t> ids;
  for (const auto& m : read) ids.insert(tradeIdOf(m.value));
  EXPECT_EQ(ids.size(), batch.size()) << "idempotent producer: no duplicates";
  for (std::int64_t i = 0; i < 500; ++i) EXPECT_EQ(ids.count(i), 1u) << i;
}

// On the shared cluster scripts/test.sh starts (tests/services/kafka.sh), in a topic of its own.
TEST(KafkaOutput, KcatReadsWhatTheOutputProduced) {
  std::string brokers;
  CVAGENT_REQUIRE_SERVICE("CVAGENT_TEST_KAFKA_BROKERS", brokers);
  const std::string topic = "kcat-test-" + std::to_string(getpid());
  TestContext ctx;
  KafkaOptions options;
  options.brokers = {brokers};
  options.topics = {{"trade", topic}};
  KafkaOutput output(options, ctx);
  output.connect();
  const std::vector<Metric> batch = {trade("BTC/USD", 42)};
  const WriteResult result = output.write(batch);
  ASSERT_EQ(result.status(), WriteStatus::kOk) << result.reason();
  ASSERT_TRUE(result.exceptions().empty()) << result.exceptions()[0].reason;
  const std::string command =
      "kcat -C -b " + brokers + " -t " + topic + " -c 1 -e -q -f '%k|%h|%s\\n' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof(buf), pipe)) text.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << text;
  EXPECT_NE(text.find("BTC/USD|"), std::string::npos) << text;
  EXPECT_NE(text.find("metric=trade"), std::string::npos) << text;
  EXPECT_NE(text.find("\"trade_id\":42"), std::string::npos) << text;
  EXPECT_NE(text.find("\"side\":\"s\""), std::string::npos) << text;
}

TEST(KafkaOutput, ConnectToNoBrokerFailsNamingTheBrokers) {
  TestContext ctx;
  KafkaOptions options;
  options.brokers = {"127.0.0.1:1"};
  options.connect_timeout = std::chrono::milliseconds(500);
  KafkaOutput output(options, ctx);
  try {
    output.connect();
    FAIL() << "connect should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ctx.health(), HealthState::kDegraded) << "reconnecting is not failed";
}

// `headers: none` with a contract metric moved to another topic leaves its consumers guessing:
// said once, at start.
TEST(KafkaOutput, HeadersNoneOnAMovedContractMetricIsWarnedAbout) {
  KafkaOptions options;
  options.brokers = {"127.0.0.1:1"};
  options.headers = KafkaHeaders::kNone;
  options.topics = {{"trade", "trades-eu"}, {"ticker", "rawticker"}};
  TestContext ctx;
  { KafkaOutput output(options, ctx); }
  EXPECT_TRUE(ctx.logger().contains("trades-eu holds trade metrics"));
  EXPECT_FALSE(ctx.logger().contains("rawticker holds"));  // its own topic: nothing to say
  options.headers = KafkaHeaders::kNeeded;
  TestContext quiet;
  { KafkaOutput output(options, quiet); }
  EXPECT_FALSE(quiet.logger().contains("holds trade metrics"));
}

TEST(KafkaOutput, SecretsNeverReachTheLog) {
  TestContext ctx;
  KafkaOptions options;
  options.brokers = {"127.0.0.1:1"};
  options.properties = {{"sasl.username", "alice"}, {"sasl.password", "hunter2-very-secret"}};
  { KafkaOutput output(options, ctx); }
  EXPECT_TRUE(ctx.logger().contains("sasl.username=alice"));
  EXPECT_TRUE(ctx.logger().contains("sasl.password=<secret>"));
  for (const auto& line : ctx.logger().lines()) {
    EXPECT_EQ(line.message.find("hunter2"), std::string::npos) << line.message;
  }
  // A bad value for a secret key is reported by key, without the value.
  options.properties = {{"ssl.key.password", "hunter2"}, {"linger.ms", "not-a-number"}};
  try {
    KafkaOutput output(options, ctx);
    FAIL() << "a bad property should throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("linger.ms"), std::string::npos) << e.what();
  }
}

TEST(KafkaOutput, MetricsWithoutATopicAreRejectedWhenThereIsNoDefault) {
  MockCluster cluster(3, kTopics);
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.default_topic = "";
  KafkaOutput output(options, ctx);
  const std::vector<Metric> batch = {trade("BTC/USD", 1),
                                     cvagent::testing::MetricBuilder("cpu").field("x", 1).time(1)};
  const WriteResult result = output.write(batch);
  ASSERT_EQ(result.exceptions().size(), 1u);
  EXPECT_EQ(result.exceptions()[0].index, 1u);
  EXPECT_EQ(result.exceptions()[0].status, WriteStatus::kReject);
  EXPECT_EQ(output.topicFor(batch[0]), "rawtrade");
}

// librdkafka 2.0.2's mock cluster has no controller, so CreateTopics cannot succeed against it;
// what is tested here is that connect says so instead of hanging or passing silently.
TEST(KafkaOutput, ATopicCreationFailureFailsConnectWithTheReason) {
  MockCluster cluster(3);
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.connect_timeout = std::chrono::seconds(1);
  options.create_default_topics = true;
  KafkaOutput output(options, ctx);
  try {
    output.connect();
    FAIL() << "connect should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create Kafka topics: "), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(defaultTopicSpecs().size(), 7u);
  EXPECT_EQ(defaultTopicSpecs()[0].name, "rawticker");
  EXPECT_EQ(defaultTopicSpecs()[0].partitions, 6);
  EXPECT_EQ(defaultTopicSpecs()[1].retention, std::chrono::hours(72));
}

// The one slow test: a broker is down for 30 s while metrics keep coming; nothing is lost.
TEST(KafkaOutput, ABrokerDownForThirtySecondsLosesNothing) {
  MockCluster cluster(3, kTopics);
  TestContext ctx;
  auto options = optionsFor(cluster);
  options.delivery_timeout = std::chrono::seconds(5);
  KafkaOutput output(options, ctx);
  output.connect();
  const std::vector<std::string> pairs = {"BTC/USD", "ETH/USD", "SOL/USD",
                                          "ADA/USD", "DOT/USD", "LINK/USD"};
  std::int64_t next_id = 0;
  auto nextBatch = [&] {
    std::vector<Metric> batch;
    for (int i = 0; i < 60; ++i, ++next_id) batch.push_back(trade(pairs[next_id % 6], next_id));
    return batch;
  };
  Outcome total;
  auto add = [&](const Outcome& o) {
    total.stored += o.stored;
    total.rejected += o.rejected;
    total.writes += o.writes;
  };
  add(writeUntilStored(output, nextBatch()));
  ASSERT_EQ(cluster.command("down 2"), "ok");
  const auto back_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::thread restore([&] {
    std::this_thread::sleep_until(back_up);
    EXPECT_EQ(cluster.command("up 2"), "ok");
  });
  // About 10 batches a second: the mock cluster keeps only ~5 MB per partition, so an unpaced loop
  // on an idle machine would have its oldest messages deleted before they are read back.
  while (std::chrono::steady_clock::now() < back_up) {
    add(writeUntilStored(output, nextBatch()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  restore.join();
  add(writeUntilStored(output, nextBatch()));

  EXPECT_EQ(total.rejected, 0u);
  EXPECT_EQ(total.stored, static_cast<std::size_t>(next_id));
  EXPECT_GT(total.writes, 3u) << "writes during the outage should have been retried";
  // Read until every id is seen (duplicates are allowed: at-least-once), a few passes at most.
  std::set<std::int64_t> ids;
  std::size_t read_count = 0;
  for (int pass = 0; pass < 3 && ids.size() < static_cast<std::size_t>(next_id); ++pass) {
    const auto read = readTopic(cluster.bootstrap(), "rawtrade",
                                static_cast<std::size_t>(next_id) * 2, std::chrono::seconds(10));
    read_count = read.size();
    for (const auto& m : read) ids.insert(tradeIdOf(m.value));
  }
  std::vector<std::int64_t> lost;
  for (std::int64_t i = 0; i < next_id; ++i) {
    if (!ids.count(i)) lost.push_back(i);
  }
  EXPECT_TRUE(lost.empty()) << lost.size() << " of " << next_id << " trades lost (last pass read "
                            << read_count << " messages), first " << lost.front() << ", last "
                            << lost.back();
}

}  // namespace
}  // namespace cvagent::outputs::kafka

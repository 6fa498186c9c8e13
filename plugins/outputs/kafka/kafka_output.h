#pragma once
// outputs.kafka: produces each metric to a Kafka topic chosen by its name, keyed by a tag so one
// pair's messages stay in order in one partition. A batch's result is given once every message of
// it has its delivery report: a metric leaves the core's buffer only when Kafka has it. Several
// batches are in flight at once (send, then collect), so the rate is not one batch per round trip.

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cvagent/codec.h"
#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"
#include "kafka/kafka_client.h"

namespace cvagent::outputs::kafka {

// A topic outputs.kafka creates at connect when it does not exist yet.
struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = -1;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  ByteSize segment_size{512ULL << 20};
  std::string compression = "lz4";

  static void describe(Schema<TopicSpec>& s);
};

// Message value: the topic's JSON shape, the generic JSON form, or line protocol.
enum class KafkaFormat { kJson, kMetricJson, kInflux };
constexpr EnumNames<KafkaFormat, 3> optionNames(KafkaFormat) {
  return {{{"json", KafkaFormat::kJson},
           {"metric_json", KafkaFormat::kMetricJson},
           {"influx", KafkaFormat::kInflux}}};
}

// Message headers. librdkafka allocates twice per header and holds it until the delivery report,
// so a header on every message costs a tenth of the output's CPU.
enum class KafkaHeaders { kNeeded, kAll, kNone };
constexpr EnumNames<KafkaHeaders, 3> optionNames(KafkaHeaders) {
  return {{{"needed", KafkaHeaders::kNeeded},
           {"all", KafkaHeaders::kAll},
           {"none", KafkaHeaders::kNone}}};
}

struct KafkaOptions {
  std::vector<std::string> brokers{"localhost:9092"};
  std::map<std::string, std::string> topics;
  std::string default_topic = "{name}";
  std::vector<std::string> key{"pair", "source", "symbol"};
  KafkaFormat format = KafkaFormat::kJson;
  KafkaHeaders headers = KafkaHeaders::kNeeded;
  std::string acks = "all";
  bool idempotence = true;
  std::string compression = "lz4";
  std::chrono::milliseconds linger{1};
  ByteSize max_batch_bytes{1ULL << 20};
  ByteSize max_message_bytes{1ULL << 20};
  std::chrono::milliseconds delivery_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::map<std::string, std::string> properties;
  bool create_default_topics = false;
  std::vector<TopicSpec> create_topics;

  static void describe(Schema<KafkaOptions>& s);
};

// The existing stack's topics (scripts/create_kafka_topics.sh), plus ohlc, sentiment, prediction.
std::vector<TopicSpec> defaultTopicSpecs();

class KafkaOutput final : public Output {
 public:
  KafkaOutput(const KafkaOptions& options, PluginContext& context);
  ~KafkaOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  std::size_t batchesInFlight() const override { return kBatchesInFlight; }
  void send(std::span<const Metric> batch) override;
  std::optional<WriteResult> collect(std::chrono::milliseconds wait) override;
  void close() override;

  // The topic a metric goes to ("" when it has none), for tests and `--test`.
  std::string topicFor(const Metric& metric) const;

  struct Slot;
  struct Batch;

 private:
  // Where a metric name goes, worked out once per name.
  struct Route {
    rd_kafka_topic_t* topic = nullptr;  // owned by topic_handles_; null: no topic
    bool metric_header = false;         // the message carries the `metric` header
  };
  struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  };

  void createProducer();
  void destroyProducer();
  void createTopics();
  rd_kafka_topic_t* topicHandle(const std::string& name);
  const Route& routeFor(const Metric& metric);
  void encode(const Metric& metric, std::string& out) const;
  static void onDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  KafkaOptions options_;
  PluginContext& context_;
  codec::Format codec_format_ = codec::Format::kJson;
  bool shaped_json_ = true;
  std::map<std::string, std::string> topics_by_metric_;
  rd_kafka_t* producer_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<rd_kafka_topic_t, TopicDeleter>> topic_handles_;
  std::unordered_map<std::string, Route> route_cache_;
  // Enough to keep producing while the oldest batches wait for their reports (linger + a round
  // trip); more only holds more metrics unconfirmed.
  static constexpr std::size_t kBatchesInFlight = 2;
  // Batches sent and not collected yet, oldest first.
  std::deque<std::unique_ptr<Batch>> in_flight_;
  // Batches given up on (no report within the deadline) whose messages may still report.
  std::vector<std::unique_ptr<Batch>> abandoned_;
  std::string value_buffer_;
  LogRateLimiter reject_log_;
  std::atomic<bool> fatal_{false};  // set by a librdkafka thread: the producer must be recreated
  cvagent::kafka::ClientEvents events_;
  Counter& produced_;
  Counter& rejected_;
  Counter& retried_;
};

// Whether a delivery or produce error can never succeed for this message (too large, no such
// topic, not authorised) rather than later (broker down, timeout).
bool isPermanentError(rd_kafka_resp_err_t err);

}  // namespace cvagent::outputs::kafka

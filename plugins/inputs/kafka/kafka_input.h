#pragma once
// inputs.kafka: a consumer-group member that reads the topics outputs.kafka writes back into
// metrics and commits an offset only once every output has stored the metrics of that message and
// of every message before it in its partition (at-least-once): a restart or a rebalance resumes
// from there, with nothing lost and no gap.

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cvagent/input.h"
#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "kafka/kafka_client.h"

namespace simdjson::dom {
class parser;
}

namespace cvagent::inputs::kafka {

// The replaced stack's topics (rawticker, rawtrade, rawarticle, rawalert), from the contract.
std::vector<std::string> legacyTopics();

struct KafkaInputOptions {
  std::vector<std::string> brokers{"localhost:9092"};
  std::vector<std::string> topics = legacyTopics();
  std::string group = "cvagent";
  std::map<std::string, std::string> metrics;
  std::string start_offset = "earliest";
  std::chrono::milliseconds commit_interval{std::chrono::seconds(1)};
  int max_undelivered = 10000;
  std::map<std::string, std::string> properties;

  static void describe(Schema<KafkaInputOptions>& s);
};

// Offsets of one partition read but not yet done, in order: the committable position is one past
// the longest done prefix.
class PartitionProgress {
 public:
  // False when `offset` is not after the last one added (the consumer went back: a re-assignment
  // resumed from the committed offset); the caller then starts afresh.
  bool add(std::int64_t offset) {
    if (!pending_.empty() && offset <= pending_.back().offset) return false;
    pending_.push_back({offset, false});
    return true;
  }
  void reset() { pending_.clear(); }
  // Marks `offset` done; returns the new committable offset (last done prefix + 1) or -1 when the
  // prefix did not move.
  std::int64_t complete(std::int64_t offset);
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Entry {
    std::int64_t offset;
    bool done;
  };
  std::deque<Entry> pending_;
};

class KafkaInput final : public Input {
 public:
  KafkaInput(const KafkaInputOptions& options, PluginContext& context);
  ~KafkaInput() override;

  bool isStreaming() const override { return true; }
  void start(Emitter& out) override;
  void stop() override;

  // Shared with the delivery callbacks, which may outlive a stopped consumer.
  struct Completions;

 private:
  struct Assigned {
    std::uint64_t generation;
    PartitionProgress progress;
  };

  void run(Emitter& out);
  void handle(rd_kafka_message_t* message, Emitter& out);
  void drainCompletions();
  void storeOffset(const std::string& topic, std::int32_t partition, std::int64_t offset);
  void commitNow();
  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  static void rebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  rd_kafka_conf_t* makeConf();

  KafkaInputOptions options_;
  PluginContext& context_;
  std::map<std::string, std::string> metric_by_topic_;
  rd_kafka_t* consumer_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Completions> completions_;
  // Consumer-thread state: partitions assigned now, keyed by "topic\0partition".
  std::map<std::pair<std::string, std::int32_t>, Assigned> assigned_;
  std::uint64_t next_generation_ = 1;
  std::unique_ptr<simdjson::dom::parser> parser_;
  LogRateLimiter malformed_log_;
  LogRateLimiter error_log_;
  cvagent::kafka::ClientEvents events_;
  Counter& consumed_;
  Counter& malformed_;
  Counter& undelivered_;
  Gauge& in_flight_;
};

}  // namespace cvagent::inputs::kafka

#pragma once
// Test helper: produces metrics the way outputs.kafka does (the contract's topic, key and JSON
// shape, or line protocol; a `metric` header), so inputs.kafka's tests and benchmark need no other
// plugin. Fails loudly: throws when a message is not delivered.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "contract/contract.h"
#include "contract/kafka_json.h"
#include "cvagent/codec.h"
#include "cvagent/metric.h"
#include "kafka/kafka_client.h"

namespace cvagent::testing {

class MetricProducer {
 public:
  // `properties`: extra librdkafka settings (batching for benchmarks).
  explicit MetricProducer(const std::string& bootstrap,
                          const std::vector<std::pair<std::string, std::string>>& properties = {}) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "partitioner", "murmur2_random");  // outputs.kafka's
    for (const auto& [key, value] : properties) set(conf, key, value);
    rd_kafka_conf_set_dr_msg_cb(conf, &MetricProducer::onDelivery);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!producer_) throw std::runtime_error(errstr);
  }
  ~MetricProducer() {
    for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer_);
  }
  MetricProducer(const MetricProducer&) = delete;
  MetricProducer& operator=(const MetricProducer&) = delete;

  // `format`: "json" (the contract's shapes) or "influx".
  void produce(const std::vector<Metric>& metrics, const std::string& format = "json") {
    std::string value;
    for (const Metric& metric : metrics) {
      value.clear();
      if (format == "influx") {
        codec::appendLineProtocol(metric, value);
      } else {
        contract::appendJson(metric, value);
      }
      std::string topic(contract::topicOf(metric));
      if (topic.empty()) topic = metric.name();
      const std::string* key = contract::keyOf(metric);
      rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
      rd_kafka_header_add(headers, "metric", -1, metric.name().data(),
                          static_cast<ssize_t>(metric.name().size()));
      const rd_kafka_resp_err_t err = kafka::produce(
          producer_, {topicHandle(topic), value, key, metric.time() / 1'000'000, headers, &failed_},
          std::chrono::steady_clock::now() + std::chrono::seconds(30));
      if (err) {
        rd_kafka_headers_destroy(headers);
        throw std::runtime_error(std::string("produce failed: ") + rd_kafka_err2str(err));
      }
    }
    if (rd_kafka_flush(producer_, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("produce: flush timed out");
    }
    if (failed_) throw std::runtime_error("produce: some messages were not delivered");
  }

 private:
  static void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error(errstr);
    }
  }
  static void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
    if (message->err) *static_cast<int*>(message->_private) += 1;
  }

  rd_kafka_topic_t* topicHandle(const std::string& name) {
    auto& topic = topics_[name];
    if (!topic) topic = rd_kafka_topic_new(producer_, name.c_str(), nullptr);
    return topic;
  }

  rd_kafka_t* producer_ = nullptr;
  std::map<std::string, rd_kafka_topic_t*> topics_;
  int failed_ = 0;
};

}  // namespace cvagent::testing

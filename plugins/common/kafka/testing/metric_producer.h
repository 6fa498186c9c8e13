#pragma once
// Test helper: produces metrics the way outputs.kafka does (the contract's topic, key and JSON
// shape, or line protocol; a `metric` header), so inputs.kafka's tests and benchmark need no other
// plugin. Fails loudly: throws when a message is not delivered.

#include <librdkafka/rdkafka.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "contract/contract.h"
#include "contract/kafka_json.h"
#include "cvagent/codec.h"
#include "cvagent/metric.h"

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
  ~MetricProducer() { rd_kafka_destroy(producer_); }
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
      rd_kafka_vu_t args[7];
      args[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      args[0].u.cstr = topic.c_str();
      args[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      args[1].u.i = RD_KAFKA_MSG_F_COPY;
      args[2].vtype = RD_KAFKA_VTYPE_VALUE;
      args[2].u.mem = {value.data(), value.size()};
      args[3].vtype = RD_KAFKA_VTYPE_KEY;
      args[3].u.mem = {key ? const_cast<char*>(key->data()) : nullptr, key ? key->size() : 0};
      args[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      args[4].u.i64 = metric.time() / 1'000'000;
      args[5].vtype = RD_KAFKA_VTYPE_HEADERS;
      args[5].u.headers = headers;
      args[6].vtype = RD_KAFKA_VTYPE_OPAQUE;
      args[6].u.ptr = &failed_;
      rd_kafka_resp_err_t err;
      for (;;) {
        rd_kafka_error_t* error = rd_kafka_produceva(producer_, args, 7);
        err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (error) rd_kafka_error_destroy(error);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(producer_, 10);
      }
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

  rd_kafka_t* producer_ = nullptr;
  int failed_ = 0;
};

}  // namespace cvagent::testing

#pragma once
// Reads a topic back from the start with a plain librdkafka consumer (assigned partitions, no
// group), so tests see exactly what is on the brokers.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cvagent::testing {

struct ReadMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::int64_t timestamp_ms = 0;
  std::map<std::string, std::string> headers;
};

// Everything in `topic` until `expected` messages were read or `timeout` passed.
inline std::vector<ReadMessage> readTopic(const std::string& bootstrap, const std::string& topic,
                                          std::size_t expected,
                                          std::chrono::seconds timeout = std::chrono::seconds(20)) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "group.id", "cvagent-test-reader", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (!rk) throw std::runtime_error(errstr);
  rd_kafka_poll_set_consumer(rk);

  const struct rd_kafka_metadata* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int partitions = 0;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (partitions == 0 && std::chrono::steady_clock::now() < until) {
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && !md->topics[0].err) partitions = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);

  std::vector<ReadMessage> out;
  while (out.size() < expected && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (!m->err) {
      ReadMessage r;
      r.topic = topic;
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_timestamp_type_t type;
      r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
      rd_kafka_headers_t* headers = nullptr;
      if (!rd_kafka_message_headers(m, &headers)) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(headers, i, &name, &value, &size); ++i) {
          r.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace cvagent::testing

#pragma once
// librdkafka configuration shared by outputs.kafka and inputs.kafka: pass-through properties with
// secrets kept out of logs and error messages, and RAII for the C handles.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cvagent/logger.h"

namespace cvagent::kafka {

// Keys whose values must never be printed: sasl.password, ssl.key.password,
// sasl.oauthbearer.client.secret, ssl.key.pem, sasl.oauthbearer.config...
bool isSecretProperty(std::string_view key);

// "k=v, k2=<secret>", for the one line a plugin logs about its configuration.
std::string describeProperties(const std::map<std::string, std::string>& properties);

// Sets one property; throws std::invalid_argument naming the key (never a secret's value).
void setProperty(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using TopicPartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter>;

// The agent log level for a librdkafka log line (syslog `level`, `facility`). Levels 0..4 are
// errors and warnings, the rest chatter. Connection failures (facility FAIL) also reach the error
// callback, which logs them rate-limited, so here they are debug.
LogLevel logLevelOf(int level, std::string_view facility);

}  // namespace cvagent::kafka

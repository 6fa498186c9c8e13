#pragma once
// The librdkafka callbacks every Kafka plugin installs: log lines at the agent's level, client
// errors logged rate-limited with the count of those held back, health from broker reachability,
// fatal errors handed to the plugin.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cvagent/logger.h"
#include "cvagent/plugin_context.h"

namespace cvagent::kafka {

class ClientEvents {
 public:
  // Called on a librdkafka thread with the reason of a fatal error (an idempotent producer that
  // can no longer guarantee order...). Without one, the error is logged and health degraded.
  using OnFatal = std::function<void(const std::string& reason)>;

  // `owner` is the plugin instance the conf's other callbacks need (see owner()).
  ClientEvents(PluginContext& context, void* owner, OnFatal on_fatal = {});
  ClientEvents(const ClientEvents&) = delete;
  ClientEvents& operator=(const ClientEvents&) = delete;

  // Sets the log and error callbacks of `conf`, and this as its opaque: must outlive the client.
  void install(rd_kafka_conf_t* conf);

  // The owner, from the opaque a librdkafka callback receives (rebalance...).
  template <typename T>
  static T* owner(void* opaque) {
    return opaque ? static_cast<T*>(static_cast<ClientEvents*>(opaque)->owner_) : nullptr;
  }

 private:
  static void onLog(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  static void onError(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  PluginContext& context_;
  void* owner_;
  OnFatal on_fatal_;
  LogRateLimiter error_log_;
};

// One message for produce(). The value and key are copied; the partition is the configured
// partitioner's choice from the key.
struct OutgoingMessage {
  rd_kafka_topic_t* topic;
  std::string_view value;
  const std::string* key;       // nullptr: no key (not an empty one)
  std::int64_t timestamp_ms;    // the message's CreateTime
  rd_kafka_headers_t* headers;  // librdkafka's once produced; still the caller's on error
  void* opaque;                 // the delivery report's `_private`
};

// Queues `message` on `producer`. While the local queue is full, serves delivery reports (they
// drain it) and tries again until `deadline`. The error when it could not be queued.
rd_kafka_resp_err_t produce(rd_kafka_t* producer, const OutgoingMessage& message,
                            std::chrono::steady_clock::time_point deadline);

}  // namespace cvagent::kafka

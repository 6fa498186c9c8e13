#include "kafka/kafka_client.h"

#include <fmt/format.h>

#include "kafka/kafka_config.h"

namespace cvagent::kafka {

ClientEvents::ClientEvents(PluginContext& context, void* owner, OnFatal on_fatal)
    : context_(context), owner_(owner), on_fatal_(std::move(on_fatal)) {}

void ClientEvents::install(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_error_cb(conf, &ClientEvents::onError);
  rd_kafka_conf_set_log_cb(conf, &ClientEvents::onLog);
  rd_kafka_conf_set_opaque(conf, this);
}

void ClientEvents::onLog(const rd_kafka_t* rk, int level, const char* facility,
                         const char* message) {
  auto* self = static_cast<ClientEvents*>(rd_kafka_opaque(rk));
  if (!self) return;
  self->context_.logger().log(logLevelOf(level, facility), "librdkafka {}: {}", facility, message);
}

void ClientEvents::onError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<ClientEvents*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof(why));
    if (self->on_fatal_) {
      self->on_fatal_(why);
    } else {
      self->context_.logger().error("fatal Kafka client error: {}", why);
      self->context_.setHealth(HealthState::kDegraded, why);
    }
    return;
  }
  self->error_log_.warn(self->context_.logger(), "kafka: {}", reason);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->context_.setHealth(HealthState::kDegraded, reason);
  }
}

rd_kafka_resp_err_t produce(rd_kafka_t* producer, const OutgoingMessage& message,
                            std::chrono::steady_clock::time_point deadline) {
  const std::string* key = message.key;
  rd_kafka_vu_t args[8];
  args[0].vtype = RD_KAFKA_VTYPE_RKT;
  args[0].u.rkt = message.topic;
  args[1].vtype = RD_KAFKA_VTYPE_PARTITION;
  args[1].u.i32 = RD_KAFKA_PARTITION_UA;
  args[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  args[2].u.i = RD_KAFKA_MSG_F_COPY;
  args[3].vtype = RD_KAFKA_VTYPE_VALUE;
  args[3].u.mem = {const_cast<char*>(message.value.data()), message.value.size()};
  args[4].vtype = RD_KAFKA_VTYPE_KEY;
  args[4].u.mem = {key ? const_cast<char*>(key->data()) : nullptr, key ? key->size() : 0};
  args[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
  args[5].u.i64 = message.timestamp_ms;
  args[6].vtype = RD_KAFKA_VTYPE_HEADERS;
  args[6].u.headers = message.headers;
  args[7].vtype = RD_KAFKA_VTYPE_OPAQUE;
  args[7].u.ptr = message.opaque;
  for (;;) {
    rd_kafka_error_t* error = rd_kafka_produceva(producer, args, 8);
    const rd_kafka_resp_err_t err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error) rd_kafka_error_destroy(error);
    // A full local queue drains as reports come in: serve them, bounded by the deadline.
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() >= deadline) {
      return err;
    }
    rd_kafka_poll(producer, 10);
  }
}

}  // namespace cvagent::kafka

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
  std::uint64_t suppressed = 0;
  if (self->error_log_.allow(suppressed)) {
    self->context_.logger().warn(
        "kafka: {}{}", reason,
        suppressed ? fmt::format(" ({} similar suppressed)", suppressed) : std::string());
  }
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->context_.setHealth(HealthState::kDegraded, reason);
  }
}

}  // namespace cvagent::kafka

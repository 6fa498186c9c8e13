#include "kafka/kafka_config.h"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace cvagent::kafka {

bool isSecretProperty(std::string_view key) {
  static constexpr std::array<std::string_view, 5> kMarkers = {"password", "secret", "key.pem",
                                                               "oauthbearer.config", "jaas"};
  for (auto marker : kMarkers) {
    if (key.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

std::string describeProperties(const std::map<std::string, std::string>& properties) {
  std::string out;
  for (const auto& [key, value] : properties) {
    if (!out.empty()) out += ", ";
    out += key;
    out += '=';
    out += isSecretProperty(key) ? std::string("<secret>") : value;
  }
  return out;
}

void setProperty(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    // librdkafka's message may quote the value: keep it out for secrets.
    throw std::invalid_argument(isSecretProperty(key)
                                    ? fmt::format("librdkafka property `{}`: invalid value", key)
                                    : fmt::format("librdkafka property `{}`: {}", key, errstr));
  }
}

LogLevel logLevelOf(int level, std::string_view facility) {
  if (facility == "FAIL") return LogLevel::kDebug;
  if (level <= 3) return LogLevel::kError;
  if (level == 4) return LogLevel::kWarn;
  return LogLevel::kDebug;
}

}  // namespace cvagent::kafka

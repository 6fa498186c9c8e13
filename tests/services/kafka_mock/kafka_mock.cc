// cvagent-kafka-mock: a Kafka cluster on loopback for tests, built on librdkafka's mock cluster.
//
//   cvagent-kafka-mock [--brokers N] [--keep-running] [--topic NAME:PARTITIONS]...
//
// Prints `bootstrap <host:port,...>` on stdout once the brokers listen (the listeners keep their
// ports for the life of the process, also across `down`/`up`), then reads one command per line on
// stdin and answers `ok` or `error <why>` to each:
//   down <broker_id|-1>              close the broker's connections and refuse new ones
//   up <broker_id|-1>                accept connections again
//   rtt <broker_id> <ms>             delay every response of the broker
//   topic <name> <partitions>        create a topic (replication factor 1; partition p led by
//                                    broker p % N + 1, round robin as Kafka assigns leaders)
//   errors <api_key> <code>...       the next requests of that API fail with these error codes
//   topic_error <name> <code>        metadata answers for the topic carry this error
//   clear_errors <api_key>           forget pending injected errors
//   ping                             ok
// librdkafka's mock keeps about 5 MB per partition and deletes the oldest messages beyond that: a
// test that reads everything back must produce less. CreateTopics is not supported (no controller).
// On end of stdin it exits, so a test that dies takes its cluster with it; `--keep-running` (for
// tests/services/kafka.sh) keeps serving until SIGTERM.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

// librdkafka's mock picks each partition's leader at random: 3 keyed partitions then land on one
// broker in one run and on three in the next, and a benchmark's rate moves by half between runs.
// Kafka spreads leaders round robin; so does this.
rd_kafka_resp_err_t createTopic(rd_kafka_mock_cluster_t* cluster, const std::string& name,
                                int partitions, int brokers) {
  if (auto err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1)) return err;
  for (int p = 0; p < partitions; ++p) {
    if (auto err = rd_kafka_mock_partition_set_leader(cluster, name.c_str(), p, p % brokers + 1)) {
      return err;
    }
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::string runCommand(rd_kafka_mock_cluster_t* cluster, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  auto check = [](rd_kafka_resp_err_t err) {
    return err ? std::string("error ") + rd_kafka_err2str(err) : std::string("ok");
  };
  if (verb == "ping") return "ok";
  if (verb == "down" || verb == "up") {
    int id = 0;
    if (!(in >> id)) return "error usage: " + verb + " <broker_id|-1>";
    return check(verb == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                                : rd_kafka_mock_broker_set_up(cluster, id));
  }
  if (verb == "rtt") {
    int id = 0, ms = 0;
    if (!(in >> id >> ms)) return "error usage: rtt <broker_id> <ms>";
    return check(rd_kafka_mock_broker_set_rtt(cluster, id, ms));
  }
  if (verb == "topic") {
    std::string name;
    int partitions = 0;
    if (!(in >> name >> partitions) || partitions < 1) {
      return "error usage: topic <name> <partitions>";
    }
    return check(createTopic(cluster, name, partitions, brokers));
  }
  if (verb == "errors") {
    int api_key = 0;
    if (!(in >> api_key)) return "error usage: errors <api_key> <code>...";
    std::vector<rd_kafka_resp_err_t> codes;
    int code = 0;
    while (in >> code) codes.push_back(static_cast<rd_kafka_resp_err_t>(code));
    if (codes.empty()) return "error usage: errors <api_key> <code>...";
    rd_kafka_mock_push_request_errors_array(cluster, static_cast<int16_t>(api_key), codes.size(),
                                            codes.data());
    return "ok";
  }
  if (verb == "topic_error") {
    std::string name;
    int code = 0;
    if (!(in >> name >> code)) return "error usage: topic_error <name> <code>";
    rd_kafka_mock_topic_set_error(cluster, name.c_str(), static_cast<rd_kafka_resp_err_t>(code));
    return "ok";
  }
  if (verb == "clear_errors") {
    int api_key = 0;
    if (!(in >> api_key)) return "error usage: clear_errors <api_key>";
    rd_kafka_mock_clear_request_errors(cluster, static_cast<int16_t>(api_key));
    return "ok";
  }
  return "error unknown command '" + verb + "'";
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  bool keep_running = false;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--keep-running") {
      keep_running = true;
    } else if (arg == "--topic" && i + 1 < argc) {
      const std::string spec = argv[++i];
      const auto colon = spec.rfind(':');
      if (colon == std::string::npos) {
        std::cerr << "cvagent-kafka-mock: --topic wants NAME:PARTITIONS, got '" << spec << "'\n";
        return 2;
      }
      topics.emplace_back(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1));
    } else {
      std::cerr << "usage: cvagent-kafka-mock [--brokers N] [--keep-running] "
                   "[--topic NAME:PARTITIONS]...\n";
      return 2;
    }
  }

  // The mock cluster needs an rd_kafka_t for its bookkeeping; it is never used to produce.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    std::cerr << "cvagent-kafka-mock: " << errstr << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!cluster) {
    std::cerr << "cvagent-kafka-mock: cannot create a mock cluster of " << brokers << " brokers\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    if (auto err = createTopic(cluster, name, partitions, brokers)) {
      std::cerr << "cvagent-kafka-mock: topic " << name << ": " << rd_kafka_err2str(err) << "\n";
    }
  }

  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::cout << "bootstrap " << rd_kafka_mock_cluster_bootstraps(cluster) << std::endl;

  std::string line;
  while (!g_stop && std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::cout << runCommand(cluster, brokers, line) << std::endl;
  }
  while (keep_running && !g_stop) pause();

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}

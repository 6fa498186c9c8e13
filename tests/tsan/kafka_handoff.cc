// What the TSan build makes of librdkafka (c11_threads.cc, tests/tsan.supp), checked both ways:
//
//   kafka_handoff handoff  one thread fills a struct and hands it to librdkafka with a message;
//                          the delivery report reads it on another thread. Ordered by librdkafka's
//                          locks alone (the queue the message waits in, the topic's rwlock, the
//                          report queue): TSan must see those edges and stay silent.
//   kafka_handoff race     the same, but the producing thread writes the struct again after
//                          handing it over: a real race, which TSan must report although one side
//                          is a callback librdkafka calls (the suppressions must not hide it).
//
// No broker listens at the bootstrap address: the message times out in librdkafka's main thread,
// whose delivery report reaches the polling thread through librdkafka's queues.

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

namespace {

struct Handed {
  std::string text;
  std::size_t read = 0;
};

bool reported = false;  // only the polling thread, which runs the callback, touches it

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* handed = static_cast<Handed*>(message->_private);
  handed->read = handed->text.size();
  reported = true;
}

bool set(rd_kafka_conf_t* conf, const char* name, const char* value) {
  char error[256];
  if (rd_kafka_conf_set(conf, name, value, error, sizeof(error)) == RD_KAFKA_CONF_OK) return true;
  std::fprintf(stderr, "%s: %s\n", name, error);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode != "handoff" && mode != "race") {
    std::fprintf(stderr, "usage: kafka_handoff handoff|race\n");
    return 2;
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!set(conf, "bootstrap.servers", "127.0.0.1:1") || !set(conf, "message.timeout.ms", "300") ||
      !set(conf, "log_level", "0")) {
    return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (!producer) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", error);
    return 2;
  }

  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, "handoff", nullptr);
  Handed handed;
  rd_kafka_resp_err_t produced = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::thread producing([&] {
    handed.text = "filled before the hand-off";
    char value[] = "m";
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value, 1, nullptr, 0,
                         &handed) != 0) {
      produced = rd_kafka_last_error();
    }
    if (mode == "race") handed.text = "written again after the hand-off, unordered";
  });
  std::thread polling([&] {
    for (int i = 0; i < 100 && !reported; ++i) rd_kafka_poll(producer, 100);
  });
  producing.join();
  polling.join();
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(producer);

  if (produced != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(produced));
    return 1;
  }
  if (!reported || handed.read == 0) {
    std::fprintf(stderr, "no delivery report read the handed-over struct\n");
    return 1;
  }
  std::printf("the delivery report read %zu bytes handed over by another thread\n", handed.read);
  return 0;
}

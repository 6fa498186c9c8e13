// The entry symbol of libcvagent_output_kafka.so.
#include "cvagent/plugin.h"
#include "kafka_output.h"

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::kafka::KafkaOutput,
                                         cvagent::outputs::kafka::KafkaOptions>(
    "kafka", "Produces metrics to Kafka topics, keyed by pair, as JSON or line protocol."))

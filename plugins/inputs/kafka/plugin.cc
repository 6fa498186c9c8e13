// The entry symbol of libcvagent_input_kafka.so.
#include "cvagent/plugin.h"
#include "kafka_input.h"

CVAGENT_PLUGIN(cvagent::inputDescriptor<cvagent::inputs::kafka::KafkaInput,
                                        cvagent::inputs::kafka::KafkaInputOptions>(
    "kafka", "Reads Kafka topics back into metrics, committing offsets only once stored."))

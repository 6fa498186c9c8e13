#include "cvagent/plugin.h"
#include "redis_output.h"

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::redis::RedisOutput,
                                         cvagent::outputs::redis::RedisOptions>(
    "redis",
    "Writes live values to Redis: the latest value per series, streams, pub/sub messages and "
    "sorted sets, pipelined and idempotent."))

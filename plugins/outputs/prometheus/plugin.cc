#include "cvagent/plugin.h"
#include "prometheus_output.h"

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::prometheus::PrometheusOutput,
                                         cvagent::outputs::prometheus::PrometheusOutputOptions>(
    "prometheus",
    "Exposes metrics as Prometheus gauges on a scrape endpoint and/or remote-writes them."))

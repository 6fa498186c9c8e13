// The plugin's one exported symbol. Everything else lives in the static library
// cvagent_output_timescale_lib, shared with the tests and the benchmark.
#include "cvagent/plugin.h"
#include "timescale_output.h"

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::timescale::TimescaleOutput,
                                         cvagent::outputs::timescale::TimescaleOptions>(
    "timescale",
    "Stores metrics in TimescaleDB or PostgreSQL tables, idempotently (COPY + ON CONFLICT)."))

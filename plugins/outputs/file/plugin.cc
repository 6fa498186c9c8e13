#include "cvagent/plugin.h"
#include "file_output.h"

CVAGENT_PLUGIN(cvagent::outputDescriptor<cvagent::outputs::file::FileOutput,
                                         cvagent::outputs::file::FileOutputOptions>(
    "file", "Appends metrics to a file as JSON lines or Influx line protocol."))

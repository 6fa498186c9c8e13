#include "cvagent/plugin.h"
#include "file_input.h"

CVAGENT_PLUGIN(cvagent::inputDescriptor<cvagent::inputs::file::FileInput,
                                        cvagent::inputs::file::FileInputOptions>(
    "file", "Reads or tails a file of JSON-lines or Influx line-protocol metrics."))

// The entry symbol of libcvagent_processor_normalize.so.

#include "cvagent/plugin.h"
#include "normalize_processor.h"

CVAGENT_PLUGIN(cvagent::processorDescriptor<cvagent::processors::normalize::NormalizeProcessor,
                                            cvagent::processors::normalize::NormalizeOptions>(
    "normalize",
    "One canonical form for every exchange's data: pair names, numbers, event times, renames."))

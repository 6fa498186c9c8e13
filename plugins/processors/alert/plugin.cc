// The entry symbol of libcvagent_processor_alert.so.

#include "cvagent/plugin.h"
#include "alert_processor.h"

CVAGENT_PLUGIN(cvagent::processorDescriptor<cvagent::processors::alert::AlertProcessor,
                                            cvagent::processors::alert::AlertOptions>(
    "alert",
    "Raises alerts from rules (change over a window, threshold, z-score, absence, forecast miss) "
    "in event time, with cooldown and hysteresis."))

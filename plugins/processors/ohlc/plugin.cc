// The entry symbol of libcvagent_processor_ohlc.so.

#include "cvagent/plugin.h"
#include "ohlc_processor.h"

CVAGENT_PLUGIN(cvagent::processorDescriptor<cvagent::processors::ohlc::OhlcProcessor,
                                            cvagent::processors::ohlc::OhlcOptions>(
    "ohlc", "Builds OHLC candles per pair and interval from trades, in event time."))

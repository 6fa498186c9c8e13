// The entry symbol of libcvagent_processor_forecast.so.

#include "cvagent/plugin.h"
#include "forecast_processor.h"

CVAGENT_PLUGIN(cvagent::processorDescriptor<cvagent::processors::forecast::ForecastProcessor,
                                            cvagent::processors::forecast::ForecastOptions>(
    "forecast",
    "Forecasts prices at fixed horizons with calibrated intervals and scores them against the "
    "actuals, in event time."))

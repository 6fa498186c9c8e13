// The entry symbol of libcvagent_input_kraken.so.
#include "cvagent/plugin.h"
#include "kraken_input.h"

CVAGENT_PLUGIN(cvagent::inputDescriptor<cvagent::inputs::kraken::KrakenInput,
                                        cvagent::inputs::kraken::KrakenOptions>(
    "kraken", "Kraken WebSocket v2 market data (ticker, trades, candles, order book) as metrics."))

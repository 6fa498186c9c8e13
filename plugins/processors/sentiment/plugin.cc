// processors.sentiment: VADER sentiment and coin tags for articles, rolling sentiment per coin.

#include "cvagent/plugin.h"
#include "sentiment_processor.h"

CVAGENT_PLUGIN(cvagent::processorDescriptor<cvagent::processors::sentiment::SentimentProcessor,
                                            cvagent::processors::sentiment::SentimentOptions>(
    "sentiment",
    "Scores articles with VADER (plus a crypto lexicon), tags coins, and emits a rolling "
    "sentiment per coin."))

// inputs.rss: polls RSS/Atom feeds and emits one `article` metric per new item.

#include "cvagent/plugin.h"
#include "rss_input.h"

CVAGENT_PLUGIN(
    cvagent::inputDescriptor<cvagent::inputs::rss::RssInput, cvagent::inputs::rss::RssOptions>(
        "rss",
        "Polls RSS 2.0, RSS 1.0/RDF and Atom feeds (conditional GET, dedup across restarts) and "
        "emits one article per new item, optionally with the page's main text."))

#pragma once
// Text out of HTML, with libxml2's tolerant HTML parser (no regexes).

#include <string>
#include <string_view>

namespace cvagent::inputs::rss {

// Plain text of an HTML fragment (feed summaries): every tag becomes a space, entities are
// decoded, script/style dropped, whitespace (NBSP included) collapsed to single spaces.
std::string htmlToText(std::string_view html);

// Main text of an article page: the headline (first <h1> of the article) and the narrative
// paragraphs, one per line. script, style, nav, header, footer, aside, forms, figures, tables,
// block quotes, embeds and blocks whose class/id mark them as ads, newsletters, comments, related
// links, share bars or paywalls are dropped. The <article> with the most paragraph text is
// preferred; inside it, the element marked itemprop="articleBody" or with a *body / *content class.
// Without an <article>, the element holding the most paragraph text. `charset` (from the
// Content-Type header) may be empty: the page's <meta charset> is used then.
std::string extractArticleText(std::string_view html, std::string_view charset = {});

}  // namespace cvagent::inputs::rss

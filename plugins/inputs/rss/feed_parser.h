#pragma once
// RSS 2.0 (and 0.9x), RSS 1.0/RDF and Atom 1.0 documents to items, with pugixml. Text comes out
// as UTF-8 whatever the document's encoding (iconv), HTML summaries as plain text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cvagent::inputs::rss {

struct FeedItem {
  std::string id;         // guid, else link, else rdf:about / atom:id, else "sha1-like" hash
  std::string link;       // absolute URL (resolved against xml:base / the feed URL)
  std::string title;      // plain text
  std::string summary;    // plain text of description / summary / content
  std::string date_text;  // as written in the feed
  std::optional<std::int64_t> time_ns;  // parsed publish (or update) date
};

struct ParsedFeed {
  std::string format;  // "rss", "rdf" or "atom"
  std::string title;
  std::vector<FeedItem> items;
  // Things that were repaired rather than rejected ("declared ISO-8859-1 but is UTF-8").
  std::vector<std::string> notes;
};

// Converts the raw document to UTF-8 following its BOM / XML declaration. A document that
// declares a legacy encoding but is valid, non-ASCII UTF-8 is taken as UTF-8 (a common server
// mistake); one that declares nothing and is not valid UTF-8 is read as windows-1252. False with
// `error` when the declared encoding is unknown or the bytes cannot be converted.
bool toUtf8(std::string_view raw, std::string& out, std::vector<std::string>& notes,
            std::string& error);

// False with `error` naming what is wrong (XML parse status and byte offset, or "not an RSS/Atom
// document: root element <html>").
bool parseFeed(std::string_view raw, std::string_view feed_url, ParsedFeed& out,
               std::string& error);

}  // namespace cvagent::inputs::rss

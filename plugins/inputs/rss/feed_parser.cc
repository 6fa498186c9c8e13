#include "feed_parser.h"

#include "cvagent/text.h"

#include <curl/curl.h>
#include <iconv.h>

#include <cerrno>
#include <memory>
#include <pugixml.hpp>
#include <sstream>

#include "feed_date.h"
#include "html_text.h"

namespace cvagent::inputs::rss {
namespace {

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool hasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

// The encoding named in <?xml ... encoding="..."?> at the start of the document, lower-cased.
std::string declaredEncoding(std::string_view doc) {
  doc = trim(doc);
  if (doc.substr(0, 5) != "<?xml") return {};
  const std::size_t end = doc.find("?>");
  const std::string_view decl = doc.substr(0, end);
  const std::size_t pos = decl.find("encoding");
  if (pos == std::string_view::npos) return {};
  std::size_t p = pos + 8;
  while (p < decl.size() && (decl[p] == ' ' || decl[p] == '=')) ++p;
  if (p >= decl.size() || (decl[p] != '"' && decl[p] != '\'')) return {};
  const char quote = decl[p];
  const std::size_t close = decl.find(quote, p + 1);
  if (close == std::string_view::npos) return {};
  return lowerAscii(decl.substr(p + 1, close - p - 1));
}

bool iconvTo8(std::string_view in, const std::string& from, std::string& out, std::string& error) {
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  // (iconv_t)-1 is iconv_open's documented failure value.
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr)
    error = "unsupported encoding '" + from + "'";
    return false;
  }
  out.clear();
  out.resize(in.size() * 2 + 16);
  std::string src(in);
  char* inp = src.data();
  std::size_t inleft = src.size();
  std::size_t done = 0;
  bool ok = true;
  while (inleft > 0) {
    char* outp = out.data() + done;
    std::size_t outleft = out.size() - done;
    const std::size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    done = out.size() - outleft;
    if (r == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) {
        out.resize(out.size() * 2);
        continue;
      }
      error = "bytes at offset " + std::to_string(src.size() - inleft) + " are not valid " + from;
      ok = false;
      break;
    }
  }
  iconv_close(cd);
  out.resize(done);
  return ok;
}

std::string_view localName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  const std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool hasPrefix(const pugi::xml_node& n) {
  return std::string_view(n.name()).find(':') != std::string_view::npos;
}

// First child element with this exact (unprefixed) name.
pugi::xml_node child(const pugi::xml_node& n, const char* name) { return n.child(name); }

// First child element with this local name and some prefix (content:encoded, dc:date).
pugi::xml_node prefixedChild(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && hasPrefix(c) && localName(c) == local) return c;
  }
  return {};
}

// Concatenated text and CDATA children.
std::string textOf(const pugi::xml_node& n) {
  std::string out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
  return out;
}

// Markup inside an Atom type="xhtml" element, serialised back to text.
std::string innerXml(const pugi::xml_node& n) {
  std::ostringstream s;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    c.print(s, "", pugi::format_raw);
  }
  return s.str();
}

// Text of an Atom text construct (type text, html or xhtml).
std::string atomText(const pugi::xml_node& n) {
  const std::string_view type = n.attribute("type").value();
  if (type == "xhtml") return htmlToText(innerXml(n));
  if (type == "html" || type == "text/html") return htmlToText(textOf(n));
  return htmlToText(textOf(n));  // decodes double-escaped entities, collapses whitespace
}

std::string resolveUrl(std::string_view base, std::string_view ref) {
  ref = trim(ref);
  if (ref.empty() || base.empty()) return std::string(ref);
  if (ref.substr(0, 7) == "http://" || ref.substr(0, 8) == "https://") return std::string(ref);
  CURLU* u = curl_url();
  std::string out(ref);
  if (u != nullptr) {
    const std::string b(base);
    const std::string r(ref);
    char* full = nullptr;
    if (curl_url_set(u, CURLUPART_URL, b.c_str(), 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, r.c_str(), 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
      out = full;
    }
    curl_free(full);
    curl_url_cleanup(u);
  }
  return out;
}

std::string xmlBase(pugi::xml_node n, std::string_view fallback) {
  std::string base(fallback);
  std::vector<std::string_view> chain;
  for (; n; n = n.parent()) {
    if (auto a = n.attribute("xml:base")) chain.push_back(a.value());
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) base = resolveUrl(base, *it);
  return base;
}

// FNV-1a of the item's text, for items with neither guid nor link.
std::string contentHash(std::string_view a, std::string_view b) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::string_view s : {a, std::string_view("\x1f"), b}) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "hash:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void finishItem(FeedItem& item, const std::string& fallback_id) {
  if (item.id.empty()) item.id = item.link;
  if (item.id.empty()) item.id = fallback_id;
  if (item.id.empty()) item.id = contentHash(item.title, item.summary);
  if (!item.date_text.empty()) item.time_ns = parseFeedDate(item.date_text);
}

FeedItem rssItem(const pugi::xml_node& n, std::string_view base) {
  FeedItem item;
  item.title = htmlToText(textOf(child(n, "title")));
  item.link = resolveUrl(base, trim(textOf(child(n, "link"))));
  item.id = std::string(trim(textOf(child(n, "guid"))));
  pugi::xml_node desc = child(n, "description");
  if (!desc) desc = prefixedChild(n, "encoded");
  item.summary = htmlToText(textOf(desc));
  pugi::xml_node date = child(n, "pubDate");
  if (!date) date = prefixedChild(n, "date");
  if (!date) date = prefixedChild(n, "updated");
  item.date_text = std::string(trim(textOf(date)));
  finishItem(item, n.attribute("rdf:about").value());
  return item;
}

FeedItem atomEntry(const pugi::xml_node& n, std::string_view feed_url) {
  FeedItem item;
  const std::string base = xmlBase(n, feed_url);
  item.title = atomText(child(n, "title"));
  for (pugi::xml_node l = n.child("link"); l; l = l.next_sibling("link")) {
    const std::string_view rel = l.attribute("rel").value();
    if (rel.empty() || rel == "alternate") {
      item.link = resolveUrl(base, l.attribute("href").value());
      break;
    }
  }
  pugi::xml_node summary = child(n, "summary");
  if (!summary) summary = child(n, "content");
  item.summary = atomText(summary);
  pugi::xml_node date = child(n, "published");
  if (!date) date = child(n, "updated");
  item.date_text = std::string(trim(textOf(date)));
  // Atom's id is the stable identity; it becomes item.id ahead of the link.
  item.id = std::string(trim(textOf(child(n, "id"))));
  finishItem(item, {});
  return item;
}

}  // namespace

bool toUtf8(std::string_view raw, std::string& out, std::vector<std::string>& notes,
            std::string& error) {
  if (raw.size() >= 3 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
  if (raw.size() >= 2 && (raw.substr(0, 2) == "\xFF\xFE" || raw.substr(0, 2) == "\xFE\xFF")) {
    return iconvTo8(raw, raw[0] == '\xFF' ? "UTF-16LE" : "UTF-16BE", out, error) &&
           (out.substr(0, 3) == "\xEF\xBB\xBF" ? (out.erase(0, 3), true) : true);
  }
  const std::string enc = declaredEncoding(raw);
  const bool valid = isValidUtf8(raw);
  if (enc.empty() || enc == "utf-8" || enc == "utf8") {
    if (valid) {
      out.assign(raw);
      return true;
    }
    notes.push_back(enc.empty() ? "no encoding declared and not valid UTF-8: read as windows-1252"
                                : "declared UTF-8 but not valid UTF-8: read as windows-1252");
    return iconvTo8(raw, "WINDOWS-1252", out, error);
  }
  if (valid && hasNonAscii(raw)) {
    notes.push_back("declared " + enc + " but the bytes are valid UTF-8: read as UTF-8");
    out.assign(raw);
    return true;
  }
  // ISO-8859-1 as browsers read it: windows-1252 (C1 bytes are curly quotes in practice).
  const std::string from = enc == "iso-8859-1" || enc == "latin1" || enc == "latin-1" ||
                                   enc == "iso8859-1" || enc == "us-ascii" || enc == "ascii"
                               ? "WINDOWS-1252"
                               : enc;
  return iconvTo8(raw, from, out, error);
}

bool parseFeed(std::string_view raw, std::string_view feed_url, ParsedFeed& out,
               std::string& error) {
  std::string doc;
  if (!toUtf8(raw, doc, out.notes, error)) return false;
  // Whitespace before the XML declaration is not well-formed XML; skip it.
  const std::size_t start = doc.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) {
    error = "empty document";
    return false;
  }
  pugi::xml_document xml;
  const pugi::xml_parse_result result =
      xml.load_buffer(doc.data() + start, doc.size() - start,
                      pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  if (!result) {
    error = std::string("XML parse error at byte offset ") +
            std::to_string(static_cast<std::size_t>(result.offset) + start) + ": " +
            result.description();
    const std::string head = lowerAscii(std::string_view(doc).substr(start, 64));
    if (head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0) {
      error = "not an RSS or Atom document: got an HTML page (" + error + ")";
    }
    return false;
  }
  pugi::xml_node root = xml.document_element();
  const std::string_view root_name = localName(root);
  if (root_name == "rss") {
    out.format = "rss";
    pugi::xml_node channel = root.child("channel");
    if (!channel) {
      error = "RSS document without <channel>";
      return false;
    }
    out.title = htmlToText(textOf(channel.child("title")));
    const std::string base = xmlBase(channel, feed_url);
    for (pugi::xml_node n = channel.child("item"); n; n = n.next_sibling("item")) {
      if (!n.first_child()) continue;  // the empty <item/> some feeds nest
      out.items.push_back(rssItem(n, base));
    }
  } else if (root_name == "RDF") {
    out.format = "rdf";
    out.title = htmlToText(textOf(root.child("channel").child("title")));
    for (pugi::xml_node n = root.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element || localName(n) != "item") continue;
      out.items.push_back(rssItem(n, feed_url));
    }
  } else if (root_name == "feed") {
    out.format = "atom";
    out.title = atomText(root.child("title"));
    for (pugi::xml_node n = root.child("entry"); n; n = n.next_sibling("entry")) {
      out.items.push_back(atomEntry(n, xmlBase(root, feed_url)));
    }
  } else {
    error = "not an RSS or Atom document: root element <" + std::string(root.name()) + ">";
    return false;
  }
  // A feed with a second top-level element is not XML; pugixml accepts fragments, we do not.
  if (root.next_sibling(root.name()) ||
      (root.next_sibling() && root.next_sibling().type() == pugi::node_element)) {
    error = "not well-formed: more than one top-level element";
    return false;
  }
  return true;
}

}  // namespace cvagent::inputs::rss

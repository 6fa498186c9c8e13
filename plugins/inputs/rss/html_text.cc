#include "html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/globals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace cvagent::inputs::rss {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

constexpr int kParseOptions = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                              HTML_PARSE_NONET | HTML_PARSE_COMPACT;

// HTML_PARSE_NOERROR only silences errors raised with the parser context. libxml2 2.9 raises
// the charset conversion failures without one ("encoding error : input conversion failed ...",
// "I/O error : encoder error", for bytes the page's charset does not define), so they go to the
// thread's generic error function, which prints them on stderr. A structured handler on this
// thread takes every error instead, for the length of one parse; the caller's own handler is put
// back after. (2.9 has no per-context handler that would see those errors, and libxml2 keeps
// these handlers per thread, so other threads are not affected.)
class ThreadErrorsSilenced {
 public:
  ThreadErrorsSilenced()
      : saved_handler_(xmlStructuredError), saved_context_(xmlStructuredErrorContext) {
    xmlSetStructuredErrorFunc(nullptr, [](void*, xmlErrorPtr) {});
  }
  ~ThreadErrorsSilenced() { xmlSetStructuredErrorFunc(saved_context_, saved_handler_); }
  ThreadErrorsSilenced(const ThreadErrorsSilenced&) = delete;
  ThreadErrorsSilenced& operator=(const ThreadErrorsSilenced&) = delete;

 private:
  xmlStructuredErrorFunc saved_handler_;
  void* saved_context_;
};

DocPtr parseHtml(std::string_view html, std::string_view charset) {
  const std::string enc(charset);
  const ThreadErrorsSilenced quiet;
  return DocPtr(htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr,
                               enc.empty() ? nullptr : enc.c_str(), kParseOptions));
}

std::string_view nameOf(const xmlNode* n) {
  return n->name ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view();
}

bool isElement(const xmlNode* n, std::string_view name) {
  return n->type == XML_ELEMENT_NODE && nameOf(n) == name;
}

std::string attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

// Appends text with whitespace (ASCII and NBSP) collapsed to one space.
class TextBuilder {
 public:
  void space() { pending_space_ = !out_.empty(); }
  void append(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        pending_space_ = !out_.empty();
        ++i;
      } else if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {
        pending_space_ = !out_.empty();
        i += 2;
      } else {
        if (pending_space_) out_ += ' ';
        pending_space_ = false;
        out_ += c;
        ++i;
      }
    }
  }
  std::string take() {
    pending_space_ = false;
    return std::move(out_);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
  bool pending_space_ = false;
};

bool isDroppedAlways(std::string_view name) {
  static constexpr std::string_view kNames[] = {"script", "style",  "noscript", "template",
                                                "iframe", "object", "embed",    "svg",
                                                "canvas", "video",  "audio",    "head"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

void collectText(const xmlNode* n, TextBuilder& out) {
  for (const xmlNode* c = n; c != nullptr; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      out.append(reinterpret_cast<const char*>(c->content));
    } else if (c->type == XML_ELEMENT_NODE) {
      if (isDroppedAlways(nameOf(c))) continue;
      out.space();  // every tag is a word boundary
      collectText(c->children, out);
      out.space();
    }
  }
}

// Class or id parts ("ad-slot", "story__inline-related", "div-gpt-top") that mark boilerplate.
bool isBoilerplateWord(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "ad",        "ads",      "advert",  "advertisement", "gpt",      "paywall", "newsletter",
      "share",     "sharing",  "social",  "comment",       "comments", "related", "promo",
      "sponsored", "outbrain", "taboola", "subscribe",     "cookie",   "consent", "modal",
      "popup",     "byline",   "dek",     "kicker",        "caption",  "meta",    "breadcrumb",
      "sidebar",   "widget",   "teaser",  "recommended",   "tags"};
  return std::find(std::begin(kWords), std::end(kWords), w) != std::end(kWords);
}

template <typename Fn>
void forEachPart(std::string_view value, Fn&& fn) {
  std::size_t p = 0;
  while (p < value.size()) {
    std::size_t q = p;
    while (q < value.size() && value[q] != ' ' && value[q] != '-' && value[q] != '_' &&
           value[q] != '\t') {
      ++q;
    }
    if (q > p) {
      std::string part(value.substr(p, q - p));
      for (char& ch : part) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      if (fn(part)) return;
    }
    p = q + 1;
  }
}

bool hasBoilerplateMark(const xmlNode* n) {
  bool found = false;
  for (const char* a : {"class", "id"}) {
    forEachPart(attr(n, a),
                [&](const std::string& part) { return found = isBoilerplateWord(part); });
    if (found) return true;
  }
  return false;
}

bool hasBodyMark(const xmlNode* n) {
  if (attr(n, "itemprop") == "articleBody") return true;
  bool found = false;
  forEachPart(attr(n, "class"),
              [&](const std::string& part) { return found = part == "body" || part == "content"; });
  return found;
}

bool isPageChrome(std::string_view name) {
  static constexpr std::string_view kNames[] = {"nav",    "aside",  "footer", "form",
                                                "button", "select", "input",  "textarea"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool isInBodyNoise(std::string_view name) {
  static constexpr std::string_view kNames[] = {"header", "figure", "figcaption", "blockquote",
                                                "table",  "h1",     "cite",       "dialog"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// Unlinks the element children of `n` for which `drop` is true (recursively).
template <typename Pred>
void removeWhere(xmlNode* n, Pred&& drop) {
  xmlNode* c = n->children;
  while (c != nullptr) {
    xmlNode* next = c->next;
    if (c->type == XML_ELEMENT_NODE) {
      if (drop(c)) {
        xmlUnlinkNode(c);
        xmlFreeNode(c);
      } else {
        removeWhere(c, drop);
      }
    } else if (c->type == XML_COMMENT_NODE) {
      xmlUnlinkNode(c);
      xmlFreeNode(c);
    }
    c = next;
  }
}

template <typename Fn>
void forEachElement(xmlNode* n, Fn&& fn) {
  for (xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    fn(c);
    forEachElement(c, fn);
  }
}

// Like forEachElement, without going into a <p>. libxml2 nests a <p> opened inside an inline
// element of another (<p>a<span><p>b ...), and the outer paragraph's text already holds the inner
// one's: the article search only looks at elements outside every paragraph, and reads each
// paragraph's text once.
template <typename Fn>
void forEachElementOutsideParagraphs(xmlNode* n, Fn&& fn) {
  for (xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    fn(c);
    if (!isElement(c, "p")) forEachElementOutsideParagraphs(c, fn);
  }
}

std::string textOf(const xmlNode* n) {
  TextBuilder b;
  collectText(n->children, b);
  return b.take();
}

// Text lengths of the outermost paragraphs, and their total under each element outside them,
// read in one pass. The article and body searches look at every candidate, and candidates nest
// (<article> in <article>, a *content block in another): reading the paragraphs again for each
// was quadratic in the nesting depth. Valid until the tree changes.
class ParagraphLengths {
 public:
  explicit ParagraphLengths(const xmlNode* root) { visit(root); }

  // Total text length of the outermost <p> elements under `n` (0 for an element inside a <p>).
  std::size_t under(const xmlNode* n) const { return lookup(under_, n); }
  // Text length of an outermost <p>.
  std::size_t of(const xmlNode* paragraph) const { return lookup(paragraph_, paragraph); }

 private:
  using Map = std::unordered_map<const xmlNode*, std::size_t>;
  static std::size_t lookup(const Map& map, const xmlNode* n) {
    const auto it = map.find(n);
    return it == map.end() ? 0 : it->second;
  }
  std::size_t visit(const xmlNode* n) {
    std::size_t total = 0;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (isElement(c, "p")) {
        const std::size_t len = textOf(c).size();
        paragraph_[c] = len;
        total += len;
      } else {
        total += visit(c);
      }
    }
    under_[n] = total;
    return total;
  }

  Map under_;
  Map paragraph_;
};

xmlNode* findFirst(xmlNode* n, std::string_view name) {
  xmlNode* found = nullptr;
  forEachElement(n, [&](xmlNode* e) {
    if (found == nullptr && isElement(e, name)) found = e;
  });
  return found;
}

}  // namespace

std::string htmlToText(std::string_view html) {
  if (html.find_first_of("<&") == std::string_view::npos) {
    TextBuilder b;
    b.append(html);
    return b.take();
  }
  DocPtr doc = parseHtml(html, "UTF-8");
  if (!doc) return {};
  TextBuilder b;
  collectText(xmlDocGetRootElement(doc.get()), b);
  return b.take();
}

std::string extractArticleText(std::string_view html, std::string_view charset) {
  DocPtr doc = parseHtml(html, charset);
  if (!doc) return {};
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) return {};

  removeWhere(root, [](xmlNode* e) {
    const std::string_view name = nameOf(e);
    return isDroppedAlways(name) || isPageChrome(name) ||
           (name != "body" && name != "html" && name != "main" && hasBoilerplateMark(e));
  });

  // The article: the <article> with the most paragraph text; else the element whose direct
  // <p> children hold the most text.
  const ParagraphLengths paragraphs(root);
  xmlNode* container = nullptr;
  std::size_t best = 0;
  forEachElementOutsideParagraphs(root, [&](xmlNode* e) {
    if (!isElement(e, "article")) return;
    const std::size_t len = paragraphs.under(e);
    if (container == nullptr || len > best) {
      container = e;
      best = len;
    }
  });
  if (container == nullptr || best == 0) {
    best = 0;
    container = nullptr;
    forEachElementOutsideParagraphs(root, [&](xmlNode* e) {
      std::size_t len = 0;
      for (xmlNode* c = e->children; c != nullptr; c = c->next) {
        if (isElement(c, "p")) len += paragraphs.of(c);
      }
      if (len > best) {
        best = len;
        container = e;
      }
    });
  }
  if (container == nullptr) return {};

  xmlNode* h1 = findFirst(container, "h1");
  if (h1 == nullptr) h1 = findFirst(root, "h1");
  std::string headline = h1 ? textOf(h1) : std::string();

  // The body inside the article: itemprop=articleBody, else the *body / *content block with the
  // most paragraph text, else the article itself.
  xmlNode* body = nullptr;
  best = 0;
  forEachElementOutsideParagraphs(container, [&](xmlNode* e) {
    if (body != nullptr && attr(body, "itemprop") == "articleBody") return;
    if (!hasBodyMark(e)) return;
    const std::size_t len = paragraphs.under(e);
    if (len == 0) return;
    if (attr(e, "itemprop") == "articleBody" || len > best) {
      body = e;
      best = len;
    }
  });
  if (body == nullptr) body = container;
  // `paragraphs` is stale from here: this frees nodes.
  removeWhere(body, [](xmlNode* e) { return isInBodyNoise(nameOf(e)); });

  std::string out = headline;
  forEachElementOutsideParagraphs(body, [&](xmlNode* e) {
    if (!isElement(e, "p")) return;
    std::string line = textOf(e);
    if (line.empty()) return;
    if (!out.empty()) out += '\n';
    out += line;
  });
  return out;
}

}  // namespace cvagent::inputs::rss

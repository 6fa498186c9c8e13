#include "html_text.h"

#include <gtest/gtest.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>
#include <unistd.h>

#include <cstdio>

#include "test_util.h"

namespace cvagent::inputs::rss {
namespace {

// What `fn` writes to file descriptor 2 (libxml2 writes there with fprintf, not through
// std::cerr).
template <typename Fn>
std::string stderrOf(Fn&& fn) {
  std::fflush(stderr);
  FILE* sink = std::tmpfile();
  if (sink == nullptr) throw std::runtime_error("tmpfile");
  const int saved = dup(2);
  dup2(fileno(sink), 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string out;
  std::rewind(sink);
  for (int c = std::fgetc(sink); c != EOF; c = std::fgetc(sink)) out += static_cast<char>(c);
  std::fclose(sink);
  return out;
}

std::string expected(const std::string& rel) {
  std::string s = test::feedFile(rel);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class ArticlePages : public ::testing::TestWithParam<std::string> {};

TEST_P(ArticlePages, ExtractsTheExpectedMainText) {
  const std::string base = "crypto/site/" + GetParam();
  EXPECT_EQ(extractArticleText(test::feedFile(base + ".html")), expected(base + ".expected.txt"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ArticlePages,
                         ::testing::Values("cryptowire/2025/03/bitcoin-etf-inflows-record",
                                           "cryptowire/2025/03/ethereum-bridge-exploit",
                                           "cryptowire/2025/03/ripple-court-ruling",
                                           "chainledger/news/bitcoin-difficulty-adjustment",
                                           "chainledger/news/coinharbor-lawsuit"));

TEST(ArticleText, WithoutArticleElementTakesTheParagraphBlock) {
  const std::string html =
      "<html><body><nav><p>Menu item one two three</p></nav><div class='x'><h1>Title</h1>"
      "<p>First paragraph of the story.</p><p>Second &amp; last.</p></div>"
      "<div class='comments'><p>A long comment that is not part of the story at all.</p></div>"
      "<footer><p>Footer</p></footer></body></html>";
  EXPECT_EQ(extractArticleText(html), "Title\nFirst paragraph of the story.\nSecond & last.");
}

TEST(ArticleText, DeclaredCharsetIsDecoded) {
  // "café" in ISO-8859-1
  const std::string html = "<html><body><article><p>caf\xE9 prices</p></article></body></html>";
  EXPECT_EQ(extractArticleText(html, "iso-8859-1"), "caf\xC3\xA9 prices");
}

TEST(ArticleText, NestedParagraphsAreReadOnce) {
  // libxml2 keeps a <p> opened inside a <span> of another <p> inside it: the outer paragraph's
  // text holds all of them, and was printed again for each nested one (100 levels of a 1 MB page
  // gave 100 MB of text).
  std::string html = "<html><body><article>";
  std::string text;
  for (int i = 0; i < 50; ++i) {
    html += "<p>x<span>";
    text += "x ";
  }
  html += "end";
  text += "end";
  for (int i = 0; i < 50; ++i) html += "</span></p>";
  html += "</article></body></html>";
  EXPECT_EQ(extractArticleText(html), text);
}

TEST(ArticleText, NestedCandidatesKeepTheirOrder) {
  // Nested <article>s and *content blocks: the one with the most paragraph text under it wins, as
  // before (the outer content block, which holds the inner one's paragraphs too).
  const std::string html =
      "<html><body><article><p>Outer article lead.</p>"
      "<article><h1>Inner</h1><div class='content'><p>Short.</p>"
      "<div class='story-content'><p>The longest paragraph of the whole page is here.</p>"
      "<p>And its second paragraph.</p></div></div></article></article></body></html>";
  EXPECT_EQ(extractArticleText(html),
            "Inner\nShort.\nThe longest paragraph of the whole page is here.\nAnd its second "
            "paragraph.");
}

TEST(ArticleText, BytesTheCharsetDoesNotDefineLeaveStderrEmpty) {
  // 0x81 is undefined in windows-1252: the conversion stops there, and libxml2 2.9 used to print
  // "encoding error : input conversion failed ..." and "I/O error : encoder error" on stderr.
  const std::string html =
      "<html><body><article><h1>Miners sell</h1><p>Hash rate fell.</p>"
      "<p>caf\xE9 \x81 owners</p></article></body></html>";
  std::string text;
  EXPECT_EQ(stderrOf([&] { text = extractArticleText(html, "windows-1252"); }), "");
  // The text up to the byte that does not convert.
  EXPECT_EQ(text, "Miners sell\nHash rate fell.\ncaf\xC3\xA9");
}

void countError(void* count, xmlErrorPtr) { ++*static_cast<int*>(count); }

TEST(ArticleText, CallersLibxmlErrorHandlerIsKept) {
  int count = 0;
  xmlSetStructuredErrorFunc(&count, countError);
  EXPECT_EQ(extractArticleText("<p>caf\x81</p><<", "windows-1252"), "caf");
  EXPECT_EQ(count, 0);  // our parse's errors did not reach it
  EXPECT_EQ(xmlStructuredError, &countError);
  EXPECT_EQ(xmlStructuredErrorContext, &count);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
}

TEST(ArticleText, EmptyOrJunkGivesEmptyText) {
  EXPECT_EQ(extractArticleText(""), "");
  EXPECT_EQ(extractArticleText("<script>var x = 1;</script>"), "");
}

TEST(HtmlToText, TagsBecomeSpacesAndEntitiesAreDecoded) {
  EXPECT_EQ(htmlToText("<p>Bitcoin <strong>rallies</strong>&nbsp;&amp; ether&#8217;s "
                       "<a href='x'>gain</a></p><script>bad()</script>"),
            "Bitcoin rallies & ether\xE2\x80\x99s gain");
  EXPECT_EQ(htmlToText("  plain\n text  "), "plain text");
  EXPECT_EQ(htmlToText("Decrypt&#039;s double-escaped"), "Decrypt's double-escaped");
}

}  // namespace
}  // namespace cvagent::inputs::rss

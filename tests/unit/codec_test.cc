// JSON lines and line protocol, both ways, and RFC 3339.
#include <gtest/gtest.h>

#include <limits>

#include "cvagent/codec.h"
#include "cvagent/testing/metric_builder.h"
#include "cvagent/text.h"
#include "cvagent/time_util.h"

namespace cvagent::codec {
namespace {

using testing::MetricBuilder;

Metric sample() {
  return MetricBuilder("trade")
      .tag("pair", "BTC/USD")
      .tag("note", "a,b=c d\"e")
      .field("price", 95863.2)
      .field("whole", 3.0)
      .field("trade_id", std::int64_t{-7})
      .field("seq", std::uint64_t{15113583034416118705ULL})
      .field("ok", true)
      .field("text", "line\n\"quoted\" \\ back")
      .time(1795962600123456789);
}

TEST(CodecTest, JsonRoundTripKeepsTypes) {
  std::string line;
  appendJson(sample(), line);
  EXPECT_NE(line.find("\"whole\":3.0"), std::string::npos) << line;
  Metric back;
  std::string error;
  ASSERT_TRUE(parseJson(line, back, error)) << error;
  EXPECT_EQ(back, sample());
}

TEST(CodecTest, LineProtocolRoundTrip) {
  std::string line;
  appendLineProtocol(sample(), line);
  Metric back;
  std::string error;
  ASSERT_TRUE(parseLineProtocol(line, back, error)) << error << ": " << line;
  EXPECT_EQ(back.tags(), sample().tags());
  EXPECT_EQ(std::get<std::int64_t>(*back.field("trade_id")), -7);
  EXPECT_EQ(std::get<std::uint64_t>(*back.field("seq")), 15113583034416118705ULL);
  EXPECT_EQ(*back.stringField("text"), "line\n\"quoted\" \\ back");
  EXPECT_EQ(back.time(), sample().time());
}

// The exact text, integers of both signs and kinds included: consumers compare bytes.
TEST(CodecTest, EncodersWriteTheExactText) {
  std::string json;
  appendJson(sample(), json);
  EXPECT_EQ(json,
            R"({"name":"trade","tags":{"note":"a,b=c d\"e","pair":"BTC/USD"},"fields":{)"
            R"("price":95863.2,"whole":3.0,"trade_id":-7,"seq":15113583034416118705,"ok":true,)"
            R"("text":"line\n\"quoted\" \\ back"},"time":1795962600123456789})");
  std::string line;
  appendLineProtocol(sample(), line);
  EXPECT_EQ(
      line,
      R"(trade,note=a\,b\=c\ d"e,pair=BTC/USD price=95863.2,whole=3,trade_id=-7i,)"
      R"(seq=15113583034416118705u,ok=true,text="line\n\"quoted\" \\ back" 1795962600123456789)");
  std::string edges;
  appendInteger(std::numeric_limits<std::int64_t>::min(), edges);
  edges += ' ';
  appendInteger(std::numeric_limits<std::uint64_t>::max(), edges);
  EXPECT_EQ(edges, "-9223372036854775808 18446744073709551615");
}

TEST(CodecTest, JsonAcceptsRfc3339TimesAndRejectsBadLines) {
  Metric m;
  std::string error;
  ASSERT_TRUE(
      parseJson(R"({"name":"x","fields":{"v":1},"time":"2026-11-24T14:27:00.5Z"})", m, error));
  EXPECT_EQ(m.time(), 1795530420500000000);  // date -u -d 2026-11-24T14:27:00Z +%s
  EXPECT_FALSE(parseJson(R"({"name":"x","fields":{"v":[1]}})", m, error));
  EXPECT_NE(error.find("field 'v'"), std::string::npos) << error;
  EXPECT_FALSE(parseJson(R"({"name":"x","fields":{}})", m, error));
  EXPECT_FALSE(parseJson(R"({"name":"x","tags":{"a":1},"fields":{"v":1}})", m, error));
  EXPECT_NE(error.find("tag 'a'"), std::string::npos) << error;
  EXPECT_FALSE(parseJson("[1,2]", m, error));
}

TEST(CodecTest, LineProtocolErrorsSayWhere) {
  Metric m;
  std::string error;
  EXPECT_FALSE(parseLineProtocol("cpu,host=a usage=abc 1", m, error));
  EXPECT_EQ(error, "column 18: bad value for field 'usage'");
  EXPECT_FALSE(parseLineProtocol("cpu", m, error));
  EXPECT_FALSE(parseLineProtocol("cpu v=\"open", m, error));
  ASSERT_TRUE(parseLineProtocol("cpu v=1", m, error, 99));
  EXPECT_EQ(m.time(), 99);
}

// Issue 16: NaN reached trade_data through line protocol; invalid UTF-8 was stored as is.
TEST(CodecTest, LineProtocolRefusesNonFiniteNumbersAndInvalidUtf8) {
  Metric m;
  std::string error;
  for (const char* value : {"nan", "NaN", "inf", "-inf", "INF", "infinity", "-Infinity"}) {
    EXPECT_FALSE(
        parseLineProtocol(std::string("trade,pair=BTC/USD price=") + value + " 1", m, error))
        << value;
    EXPECT_EQ(error,
              "column 26: bad value for field 'price': NaN and infinity are not numbers a sink "
              "can store")
        << value;
  }
  EXPECT_FALSE(parseLineProtocol("trade,pair=BTC/USD price=+Inf 1", m, error));
  EXPECT_FALSE(parseLineProtocol("trade,pair=BTC\xff price=1 1", m, error));
  EXPECT_FALSE(parseLineProtocol("trade,pair=BTC\xc3\x28 price=1 1", m, error));
  EXPECT_EQ(error, "column 1: not valid UTF-8");
  EXPECT_FALSE(parseLineProtocol("trade,pair=BTC price=1,note=\"\xed\xa0\x80\" 1", m, error));
  EXPECT_FALSE(
      parseJson("{\"name\":\"x\",\"tags\":{\"a\":\"\xff\"},\"fields\":{\"v\":1}}", m, error));
  EXPECT_EQ(error, "not valid UTF-8");
  ASSERT_TRUE(parseLineProtocol("trade,pair=\xc3\xa9 price=1.5e3 1", m, error)) << error;
  EXPECT_EQ(std::get<double>(*m.field("price")), 1500.0);
}

// Issue 16: an integer past 2^64 read as 0 (silent corruption); it must be refused.
TEST(CodecTest, JsonIntegersPastUint64AreRefusedNeverZero) {
  Metric m;
  std::string error;
  for (const char* id :
       {"18446744073709551616", "18446744073709551617", "99999999999999999999999"}) {
    EXPECT_FALSE(
        parseJson(std::string(R"({"name":"trade","fields":{"trade_id":)") + id + "}}", m, error))
        << id << " read as " << (m.field("trade_id") ? "a value" : "nothing");
    EXPECT_EQ(error, "field 'trade_id': integer out of range (past 2^64)") << id;
  }
  ASSERT_TRUE(parseJson(R"({"name":"trade","fields":{"trade_id":18446744073709551615}})", m, error))
      << error;
  EXPECT_EQ(std::get<std::uint64_t>(*m.field("trade_id")), 18446744073709551615ULL);
}

// Issue 16: one line of 100,000 fields took 21 s to parse (fields are searched linearly).
TEST(CodecTest, LinesWithTooManyFieldsOrTagsAreRefused) {
  auto lineOf = [](std::size_t tags, std::size_t fields) {
    std::string line = "wide";
    for (std::size_t i = 0; i < tags; ++i) line += ",t" + std::to_string(i) + "=v";
    line += ' ';
    for (std::size_t i = 0; i < fields; ++i) line += (i ? ",f" : "f") + std::to_string(i) + "=1i";
    return line;
  };
  Metric m;
  std::string error;
  ASSERT_TRUE(parseLineProtocol(lineOf(kMaxTagsPerLine, kMaxFieldsPerLine), m, error)) << error;
  EXPECT_EQ(m.fields().size(), kMaxFieldsPerLine);
  EXPECT_FALSE(parseLineProtocol(lineOf(1, 100'000), m, error));
  EXPECT_NE(error.find("more than 1024 fields (a limit of the agent)"), std::string::npos) << error;
  EXPECT_FALSE(parseLineProtocol(lineOf(kMaxTagsPerLine + 1, 1), m, error));
  EXPECT_NE(error.find("more than 256 tags"), std::string::npos) << error;

  std::string json = R"({"name":"wide","fields":{)";
  for (int i = 0; i < 100'000; ++i) json += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  json += "}}";
  EXPECT_FALSE(parseJson(json, m, error));
  EXPECT_EQ(error, "more than 1024 fields (a limit of the agent)");
}

// From fuzzing (plugin-api/fuzz/regressions/codec_json): years whose nanoseconds overflow an
// int64 were a signed overflow; they are now rejected, the range's ends still read.
TEST(TimeTest, Rfc3339OutsideInt64NanosecondsIsRejected) {
  std::int64_t ns = 0;
  EXPECT_TRUE(parseRfc3339("2262-04-11T23:47:16.854775807Z", ns));
  EXPECT_EQ(ns, std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(parseRfc3339("1677-09-21T00:12:43.145224192Z", ns));
  EXPECT_EQ(ns, std::numeric_limits<std::int64_t>::min());
  for (const char* text : {"2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z",
                           "1012-03-14T09:30:00+01:00", "9999-12-31T23:59:59Z"}) {
    EXPECT_FALSE(parseRfc3339(text, ns)) << text;
  }
  Metric m;
  std::string error;
  EXPECT_FALSE(
      parseJson(R"({"name":"x","fields":{"v":1},"time":"1012-03-14T09:30:00+01:00"})", m, error));
}

TEST(TimeTest, Rfc3339) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parseRfc3339("2026-11-24T14:27:00.316445Z", ns));
  EXPECT_EQ(formatRfc3339(ns, 6), "2026-11-24T14:27:00.316445Z");
  ASSERT_TRUE(parseRfc3339("2026-10-06T18:06:00.000000000Z", ns));
  EXPECT_EQ(formatRfc3339(ns), "2026-10-06T18:06:00.000000000Z");
  ASSERT_TRUE(parseRfc3339("2026-11-24T16:27:00+02:00", ns));
  EXPECT_EQ(formatRfc3339(ns, 0), "2026-11-24T14:27:00Z");
  ASSERT_TRUE(parseRfc3339("1969-12-31T23:59:59.5Z", ns));
  EXPECT_EQ(ns, -500'000'000);
  EXPECT_EQ(formatRfc3339(ns, 1), "1969-12-31T23:59:59.5Z");
  EXPECT_FALSE(parseRfc3339("2026-11-24", ns));
  EXPECT_FALSE(parseRfc3339("2026-13-24T00:00:00Z", ns));
  EXPECT_FALSE(parseRfc3339("2026-11-24T00:00:00", ns));
}

// The escapers' one home each: JSON strings (fast path and escapes alike), tab-separated text.
TEST(Escapers, JsonStringsEscapeOnlyWhatJsonNeeds) {
  std::string out;
  appendJsonString("BTC/USD", out);
  EXPECT_EQ(out, R"("BTC/USD")");
  out.clear();
  appendJsonString("a\"b\\c\n\t\r\x01\xC3\xA9", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\xC3\xA9\"");
}

TEST(Escapers, TsvEscapesRoundTrip) {
  const std::string value = "a\tb\\c\nd\re";
  std::string escaped;
  appendTsvEscaped(value, escaped);
  EXPECT_EQ(escaped, "a\\tb\\\\c\\nd\\re");
  EXPECT_EQ(escaped.find('\t'), std::string::npos);
  std::string back;
  ASSERT_TRUE(unescapeTsv(escaped, back));
  EXPECT_EQ(back, value);
  EXPECT_FALSE(unescapeTsv("dangling\\", back));
  EXPECT_FALSE(unescapeTsv("unknown\\x", back));
}

}  // namespace
}  // namespace cvagent::codec

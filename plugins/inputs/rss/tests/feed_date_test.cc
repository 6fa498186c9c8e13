#include "feed_date.h"

#include <gtest/gtest.h>

namespace cvagent::inputs::rss {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
// Fri, 12 Dec 2025 15:09:00 UTC
constexpr std::int64_t kRef = 1'765'552'140 * kS;

std::int64_t at(std::string_view text) {
  auto v = parseFeedDate(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(-1);
}

TEST(FeedDate, Rfc822AndVariants) {
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09:00 +0000"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09:00 GMT"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09:00 UT"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09:00 Z"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 10:09:00 -0500"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 10:09:00 EST"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 11:09:00 EDT"), kRef);
  EXPECT_EQ(at("Fri, 12 Dec 2025 20:39:00 +05:30"), kRef);
  EXPECT_EQ(at("12 Dec 2025 15:09:00 GMT"), kRef);       // no weekday
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09 GMT"), kRef);     // no seconds
  EXPECT_EQ(at("Sat, 12 Dec 2025 15:09:00 GMT"), kRef);  // wrong weekday: ignored
  EXPECT_EQ(at("Fri, 12 Dec 25 15:09:00 GMT"), kRef);    // two-digit year
  EXPECT_EQ(at("Fri, 12 Dec 2025 15:09:00"), kRef);      // no zone: UTC
  EXPECT_EQ(at("12 Dec 25 1509 GMT"), kRef);             // RSS 0.92 sample style
  EXPECT_EQ(at("  Fri,  12 Dec 2025 15:09:00 +0000\n"), kRef);
  EXPECT_EQ(at("Friday, December 12, 2025 3:09 PM"), kRef);  // prose
  EXPECT_EQ(at("Sex, 12 Dez 2025 12:09:00 -0300"), kRef);    // Portuguese
  EXPECT_EQ(at("03 Apr 02 1500 GMT"), 1'017'846'000 * kS);
  EXPECT_EQ(at("Seg, 24 Set 2018 19:42:40 -0300"), 1'537'828'960 * kS);
}

TEST(FeedDate, Rfc3339AndVariants) {
  EXPECT_EQ(at("2025-12-12T15:09:00Z"), kRef);
  EXPECT_EQ(at("2025-12-12T10:09:00-05:00"), kRef);
  EXPECT_EQ(at("2025-12-12T10:09:00-0500"), kRef);
  EXPECT_EQ(at("2025-12-12 15:09:00Z"), kRef);
  EXPECT_EQ(at("2025-12-12T15:09:00.250Z"), kRef + 250'000'000);
  EXPECT_EQ(at("2025-12-12T15:09:00"), kRef);  // no zone: UTC
  EXPECT_EQ(at("2025-12-12T15:09Z"), kRef);
  EXPECT_EQ(at("2025-12-12"), kRef - (15 * 3600 + 9 * 60) * kS);
  EXPECT_EQ(at("2017-06-13T09:00:00+00:0"), 1'497'344'400 * kS);  // truncated offset
}

TEST(FeedDate, RejectsWhatIsNotADate) {
  for (const char* bad :
       {"", "   ", "not a date", "Fri, 32 Dec 2025 14:01:24 -0500", "Mon, 30 Feb 2025 10:00:00 GMT",
        "2025-13-01T00:00:00Z", "2025-12-12T25:00:00Z", "Fri, 12 Foo 2025 15:09:00 GMT",
        "12 Dec 2025 15:09:00 +9999", "12 Dec 2025 15:09:00 XYZ extra"}) {
    EXPECT_FALSE(parseFeedDate(bad).has_value()) << bad;
  }
}

// From fuzzing (fuzz/regressions/rss_feed_date): a date after 2262 overflowed the int64
// nanoseconds (signed overflow); it is not a date the agent can hold.
TEST(FeedDate, RejectsDatesBeyondInt64Nanoseconds) {
  EXPECT_FALSE(parseFeedDate("4032-01-29T10:12:00+01:00").has_value());
  EXPECT_FALSE(parseFeedDate("Sat, 01 Jan 2263 00:00:00 GMT").has_value());
  EXPECT_TRUE(parseFeedDate("Fri, 11 Apr 2262 00:00:00 GMT").has_value());
  // A run of digits longer than an int overflowed while being read.
  EXPECT_FALSE(parseFeedDate(" Nov 20333333333333333333 2333333333:46:36").has_value());
}

}  // namespace
}  // namespace cvagent::inputs::rss

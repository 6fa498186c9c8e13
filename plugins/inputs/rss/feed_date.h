#pragma once
// Publish dates as feeds write them: RFC 822/2822 (RSS), RFC 3339 (Atom, dc:date) and the
// malformed variants seen in real feeds.

#include <cstdint>
#include <optional>
#include <string_view>

namespace cvagent::inputs::rss {

// Nanoseconds since the epoch, UTC; nullopt when the text is not a date we can trust.
// Accepted:
// - RFC 3339 / ISO 8601: "2025-12-12T15:09:00Z", "+05:30", "+0530", "+05", a space instead of
//   "T", fractional seconds, no zone (taken as UTC), date only (midnight UTC), a truncated
//   minute offset such as "+00:0" (read as "+00:00").
// - RFC 822: "Fri, 12 Dec 2025 15:09:00 +0000", without weekday or seconds, a wrong weekday
//   (ignored), two-digit years (< 50: 20xx, else 19xx), "1500" for 15:00, zones GMT/UT/UTC/Z,
//   US zones (EST, EDT, CST, CDT, MST, MDT, PST, PDT), +hhmm and +hh:mm, no zone (UTC), month and
//   weekday names in English, Portuguese, Spanish and German abbreviations ("Seg, 24 Set 2018").
// - Prose: "Friday, December 12, 2025 3:09 PM" (month first, 12-hour clock with AM/PM).
// Rejected: impossible dates (day 32, February 30), empty or other text.
std::optional<std::int64_t> parseFeedDate(std::string_view text);

}  // namespace cvagent::inputs::rss

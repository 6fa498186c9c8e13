#pragma once
// Time helpers shared by plugins: RFC 3339 in and out, exact to the nanosecond, no locale, no TZ.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cvagent {

// "2026-11-24T14:27:00.123456Z", "2026-11-24T14:27:00+02:00", "2026-11-24 14:27:00Z"; 0 to 9
// fractional digits (more are truncated). False on anything else, and on times outside the int64
// nanoseconds (1677-09-21..2262-04-11).
bool parseRfc3339(std::string_view text, std::int64_t& ns_out);

// "2026-11-24T14:27:00.123456789Z"; `digits` fractional digits (0..9), UTC.
std::string formatRfc3339(std::int64_t ns, int digits = 9);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day);

// A duration as options write it, in the largest unit that divides it exactly: "500ms", "90s",
// "5m", "1h", "7d"; "0s" for zero.
std::string formatDuration(std::chrono::nanoseconds d);

}  // namespace cvagent

#include "cvagent/codec.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "cvagent/text.h"
#include "cvagent/time_util.h"

namespace cvagent::codec {

// ---------------------------------------------------------------- JSON out
void appendJsonString(std::string_view text, std::string& out) {
  // The common case, nothing to escape, is one resize and one copy (an encoder writes several
  // strings per metric on the hot path of every output). `text` must not point into `out`.
  const auto needs_escape = [](char ch) {
    return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
  };
  if (std::none_of(text.begin(), text.end(), needs_escape)) {
    const std::size_t at = out.size();
    out.resize(at + text.size() + 2);
    char* p = out.data() + at;
    *p = '"';
    if (!text.empty()) std::memcpy(p + 1, text.data(), text.size());  // data() may be null
    p[text.size() + 1] = '"';
    return;
  }
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// fmt::format_int: no format string to parse at run time, nothing allocated.
void appendInteger(std::int64_t value, std::string& out) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}
void appendInteger(std::uint64_t value, std::string& out) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

namespace {
void appendDouble(double v, std::string& out, bool keep_point) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // Shortest round-trip form, formatted on the stack (cheaper than through a back_inserter).
  char buf[32];
  const auto end = fmt::format_to(buf, "{}", v);
  const std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out.append(text);
  if (keep_point && text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}
}  // namespace

void appendJsonValue(const FieldValue& value, std::string& out) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, double>) {
          appendDouble(v, out, true);
        } else if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, std::string>) {
          appendJsonString(v, out);
        } else {
          appendInteger(v, out);
        }
      },
      value);
}

void appendJson(const Metric& m, std::string& out) {
  out += "{\"name\":";
  appendJsonString(m.name(), out);
  out += ",\"tags\":{";
  bool first = true;
  for (const auto& t : m.tags()) {
    if (!first) out += ',';
    first = false;
    appendJsonString(t.key, out);
    out += ':';
    appendJsonString(t.value, out);
  }
  out += "},\"fields\":{";
  first = true;
  for (const auto& f : m.fields()) {
    if (!first) out += ',';
    first = false;
    appendJsonString(f.key, out);
    out += ':';
    appendJsonValue(f.value, out);
  }
  out += "},\"time\":";
  appendInteger(m.time(), out);
  out += '}';
}

// ---------------------------------------------------------------- line protocol out
namespace {
void appendEscaped(std::string_view s, std::string& out, std::string_view specials) {
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (specials.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}
}  // namespace

void appendLineProtocol(const Metric& m, std::string& out) {
  appendEscaped(m.name(), out, ", \\");
  for (const auto& t : m.tags()) {
    if (t.value.empty()) continue;  // line protocol has no empty tag values
    out += ',';
    appendEscaped(t.key, out, ",= \\");
    out += '=';
    appendEscaped(t.value, out, ",= \\");
  }
  out += ' ';
  bool first = true;
  for (const auto& f : m.fields()) {
    if (!first) out += ',';
    first = false;
    appendEscaped(f.key, out, ",= \\");
    out += '=';
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, double>) {
            appendDouble(v, out, false);
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            appendInteger(v, out);
            out += 'i';
          } else if constexpr (std::is_same_v<V, std::uint64_t>) {
            appendInteger(v, out);
            out += 'u';
          } else if constexpr (std::is_same_v<V, bool>) {
            out += v ? "true" : "false";
          } else {
            out += '"';
            appendEscaped(v, out, "\"\\");
            out += '"';
          }
        },
        f.value);
  }
  out += ' ';
  appendInteger(m.time(), out);
}

void append(Format format, const Metric& metric, std::string& out) {
  if (format == Format::kJson) {
    appendJson(metric, out);
  } else {
    appendLineProtocol(metric, out);
  }
}

// ---------------------------------------------------------------- JSON in
namespace {

std::string tooManyFields() {
  return fmt::format("more than {} fields (a limit of the agent)", kMaxFieldsPerLine);
}
std::string tooManyTags() {
  return fmt::format("more than {} tags (a limit of the agent)", kMaxTagsPerLine);
}

using namespace simdjson;

bool readJsonField(ondemand::value value, FieldValue& out, std::string& error) {
  ondemand::json_type type;
  if (value.type().get(type)) {
    error = "unreadable field value";
    return false;
  }
  switch (type) {
    case ondemand::json_type::number: {
      ondemand::number_type nt;
      if (value.get_number_type().get(nt)) {
        error = "bad number";
        return false;
      }
      // An integer past 2^64 has no exact type here: refused (it used to read as 0). The raw
      // token tells such an integer from a float simdjson may have classified it as.
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() &&
             (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' || raw.back() == '\n'))
        raw.remove_suffix(1);
      const bool integral = raw.find_first_of(".eE") == std::string_view::npos;
      if (nt == ondemand::number_type::signed_integer) {
        std::int64_t v;
        if (value.get_int64().get(v)) {
          error = "integer out of range (past 2^64)";
          return false;
        }
        out = v;
      } else if (nt == ondemand::number_type::unsigned_integer) {
        std::uint64_t v;
        if (value.get_uint64().get(v)) {
          error = "integer out of range (past 2^64)";
          return false;
        }
        out = v;
      } else if (integral) {
        error = "integer out of range (past 2^64)";
        return false;
      } else {
        double d;
        if (value.get_double().get(d)) {
          error = "bad number";
          return false;
        }
        out = d;
      }
      return true;
    }
    case ondemand::json_type::string: {
      std::string_view s;
      if (value.get_string().get(s)) {
        error = "bad string";
        return false;
      }
      out = std::string(s);
      return true;
    }
    case ondemand::json_type::boolean: {
      bool b;
      if (value.get_bool().get(b)) {
        error = "bad boolean";
        return false;
      }
      out = b;
      return true;
    }
    default:
      error = "field values must be numbers, strings or booleans";
      return false;
  }
}

}  // namespace

// One pass over the object's keys (an on-demand object is read once): each case is a key.
// NOLINTNEXTLINE(readability-function-cognitive-complexity)
bool parseJson(std::string_view line, Metric& out, std::string& error,
               std::int64_t default_time_ns) {
  thread_local ondemand::parser parser;
  thread_local std::string buffer;
  buffer.assign(line);
  buffer.reserve(line.size() + SIMDJSON_PADDING);
  padded_string_view padded(buffer.data(), buffer.size(), buffer.capacity());
  out = Metric();
  out.setTime(default_time_ns);
  bool have_name = false;
  bool have_fields = false;
  auto fail = [&](std::string why) {
    error = std::move(why);
    return false;
  };
  if (!isValidUtf8(line)) return fail("not valid UTF-8");
  ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return fail("not JSON");
  ondemand::object root;
  if (doc.get_object().get(root)) return fail("expected a JSON object");
  for (auto member : root) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return fail("bad key");
    ondemand::value value = member.value();
    if (key == "name") {
      std::string_view name;
      if (value.get_string().get(name) || name.empty())
        return fail("'name' must be a non-empty string");
      out.setName(std::string(name));
      have_name = true;
    } else if (key == "tags") {
      ondemand::object tags;
      if (value.get_object().get(tags)) return fail("'tags' must be an object");
      for (auto tag : tags) {
        std::string_view tk, tv;
        if (tag.unescaped_key().get(tk)) return fail("bad tag key");
        if (tag.value().get_string().get(tv))
          return fail("tag '" + std::string(tk) + "' must be a string");
        if (out.tags().size() >= kMaxTagsPerLine) return fail(tooManyTags());
        out.setTag(tk, tv);
      }
    } else if (key == "fields") {
      ondemand::object fields;
      if (value.get_object().get(fields)) return fail("'fields' must be an object");
      for (auto field : fields) {
        std::string_view fk;
        if (field.unescaped_key().get(fk)) return fail("bad field key");
        FieldValue fv;
        std::string why;
        ondemand::value v;
        if (field.value().get(v)) return fail("bad value for field '" + std::string(fk) + "'");
        if (!readJsonField(v, fv, why)) return fail("field '" + std::string(fk) + "': " + why);
        if (out.fields().size() >= kMaxFieldsPerLine) return fail(tooManyFields());
        out.setField(fk, std::move(fv));
        have_fields = true;
      }
    } else if (key == "time" || key == "timestamp") {
      ondemand::json_type type;
      if (value.type().get(type)) return fail("bad time");
      if (type == ondemand::json_type::string) {
        std::string_view ts;
        std::int64_t ns;
        if (value.get_string().get(ts) || !parseRfc3339(ts, ns))
          return fail("'time' must be integer nanoseconds or an RFC 3339 string");
        out.setTime(ns);
      } else {
        std::int64_t ns;
        if (value.get_int64().get(ns))
          return fail("'time' must be integer nanoseconds or an RFC 3339 string");
        out.setTime(ns);
      }
    }
    // Unknown keys are ignored: producers may add their own.
  }
  if (!have_name) return fail("missing 'name'");
  if (!have_fields) return fail("missing 'fields' (a metric needs at least one field)");
  return true;
}

// ---------------------------------------------------------------- line protocol in
namespace {

// Reads up to an unescaped character of `stops`, unescaping `\x` pairs.
std::size_t readToken(std::string_view s, std::size_t pos, std::string_view stops,
                      std::string& out) {
  out.clear();
  while (pos < s.size()) {
    const char c = s[pos];
    if (c == '\\' && pos + 1 < s.size()) {
      out += s[pos + 1] == 'n' ? '\n' : s[pos + 1];
      pos += 2;
      continue;
    }
    if (stops.find(c) != std::string_view::npos) break;
    out += c;
    ++pos;
  }
  return pos;
}

// False on a value that is not one; `why` says more where the value looks like a number.
bool parseLpValue(std::string_view text, FieldValue& out, std::string& why) {
  if (text.empty()) return false;
  const char last = text.back();
  if (last == 'i' || last == 'u') {
    std::string_view digits = text.substr(0, text.size() - 1);
    if (last == 'i') {
      std::int64_t v;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || p != digits.data() + digits.size()) return false;
      out = v;
    } else {
      std::uint64_t v;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || p != digits.data() + digits.size()) return false;
      out = v;
    }
    return true;
  }
  if (text == "t" || text == "T" || text == "true" || text == "True" || text == "TRUE") {
    out = true;
    return true;
  }
  if (text == "f" || text == "F" || text == "false" || text == "False" || text == "FALSE") {
    out = false;
    return true;
  }
  double d;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || p != text.data() + text.size()) return false;
  if (!std::isfinite(d)) {
    why = "NaN and infinity are not numbers a sink can store";
    return false;
  }
  out = d;
  return true;
}

}  // namespace

// One pass over the line, as the protocol's grammar reads (measurement, tags, fields, time), each
// step refusing what is malformed or past a limit in place: split, it would pass the cursor and
// the error through every step.
// NOLINTNEXTLINE(readability-function-cognitive-complexity)
bool parseLineProtocol(std::string_view s, Metric& out, std::string& error,
                       std::int64_t default_time_ns) {
  out = Metric();
  out.setTime(default_time_ns);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  auto fail = [&](std::size_t col, std::string why) {
    error = fmt::format("column {}: {}", col + 1, why);
    return false;
  };
  if (!isValidUtf8(s)) return fail(0, "not valid UTF-8");
  std::string token, value;
  std::size_t pos = readToken(s, 0, ", ", token);
  if (token.empty()) return fail(0, "missing measurement name");
  out.setName(token);
  while (pos < s.size() && s[pos] == ',') {
    const std::size_t key_start = pos + 1;
    pos = readToken(s, key_start, "=, ", token);
    if (pos >= s.size() || s[pos] != '=' || token.empty()) return fail(key_start, "bad tag");
    pos = readToken(s, pos + 1, ", ", value);
    if (value.empty()) return fail(key_start, "empty tag value for '" + token + "'");
    if (out.tags().size() >= kMaxTagsPerLine) return fail(key_start, tooManyTags());
    out.setTag(token, value);
  }
  if (pos >= s.size() || s[pos] != ' ') return fail(pos, "expected a space before the fields");
  while (pos < s.size() && s[pos] == ' ') ++pos;
  bool more = true;
  while (more) {
    const std::size_t key_start = pos;
    pos = readToken(s, pos, "=, ", token);
    if (pos >= s.size() || s[pos] != '=' || token.empty()) return fail(key_start, "bad field");
    ++pos;
    FieldValue fv;
    if (pos < s.size() && s[pos] == '"') {
      std::string str;
      ++pos;
      while (pos < s.size() && s[pos] != '"') {
        if (s[pos] == '\\' && pos + 1 < s.size() &&
            (s[pos + 1] == '"' || s[pos + 1] == '\\' || s[pos + 1] == 'n')) {
          str += s[pos + 1] == 'n' ? '\n' : s[pos + 1];
          pos += 2;
          continue;
        }
        str += s[pos++];
      }
      if (pos >= s.size()) return fail(key_start, "unterminated string in field '" + token + "'");
      ++pos;
      fv = std::move(str);
    } else {
      const std::size_t value_start = pos;
      while (pos < s.size() && s[pos] != ',' && s[pos] != ' ') ++pos;
      std::string why;
      if (!parseLpValue(s.substr(value_start, pos - value_start), fv, why))
        return fail(value_start,
                    "bad value for field '" + token + "'" + (why.empty() ? "" : ": " + why));
    }
    if (out.fields().size() >= kMaxFieldsPerLine) return fail(key_start, tooManyFields());
    out.setField(token, std::move(fv));
    more = pos < s.size() && s[pos] == ',';
    if (more) ++pos;
  }
  while (pos < s.size() && s[pos] == ' ') ++pos;
  if (pos < s.size()) {
    std::int64_t ns;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), ns);
    if (ec != std::errc() || p != s.data() + s.size()) return fail(pos, "bad timestamp");
    out.setTime(ns);
  }
  return true;
}

bool parse(Format format, std::string_view line, Metric& out, std::string& error,
           std::int64_t default_time_ns) {
  return format == Format::kJson ? parseJson(line, out, error, default_time_ns)
                                 : parseLineProtocol(line, out, error, default_time_ns);
}

}  // namespace cvagent::codec

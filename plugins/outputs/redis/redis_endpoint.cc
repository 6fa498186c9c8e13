#include "redis_endpoint.h"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace cvagent::outputs::redis {
namespace {

bool parseNumber(std::string_view text, int min, int max, int& out) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// User names and passwords may hold reserved characters percent-encoded (p%40ss for p@ss).
std::string percentDecode(std::string_view text, const char* what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hexDigit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hexDigit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      throw std::invalid_argument(std::string("endpoint: bad percent-encoding in the ") + what);
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

int parseDatabase(std::string_view text, const std::string& redacted) {
  int db = 0;
  if (!parseNumber(text, 0, 1 << 20, db)) {
    throw std::invalid_argument("endpoint " + redacted + ": database index '" + std::string(text) +
                                "' is not a number >= 0");
  }
  return db;
}

}  // namespace

Endpoint parseEndpoint(const std::string& text) {
  Endpoint e;
  std::string_view rest = text;
  if (rest.starts_with("unix:")) {
    rest.remove_prefix(5);
    while (rest.starts_with("//")) rest.remove_prefix(1);  // unix:///run/redis.sock
    e.unix_socket = true;
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest.front() != '/') {
      throw std::invalid_argument(
          "endpoint: a unix socket needs an absolute path, e.g. "
          "unix:/run/redis/redis.sock");
    }
    e.host = std::string(rest);
    e.redacted = "unix:" + e.host;
    if (!query.empty()) {
      if (!query.starts_with("db=")) {
        throw std::invalid_argument("endpoint " + e.redacted + ": only ?db=N is understood");
      }
      e.database = parseDatabase(query.substr(3), e.redacted);
      e.redacted += "?db=" + std::to_string(e.database);
    }
    return e;
  }
  std::string scheme;
  if (rest.starts_with("redis://")) {
    scheme = "redis://";
  } else if (rest.starts_with("rediss://")) {
    scheme = "rediss://";
    e.tls = true;
  } else {
    throw std::invalid_argument(
        "endpoint: expected redis://host:port/db, rediss://... or unix:/path");
  }
  rest.remove_prefix(scheme.size());
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string redacted_user;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = userinfo;
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      e.password = percentDecode(userinfo.substr(colon + 1), "password");
    }
    e.username = percentDecode(user, "user name");
    redacted_user = std::string(user) + (e.password.empty() ? "" : ":***") + "@";
  }
  std::string_view host = rest;
  if (rest.starts_with('[')) {  // [::1]:6379
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("endpoint: unterminated [ in the host");
    }
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      throw std::invalid_argument("endpoint: expected :port after ]");
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    rest = rest.substr(colon);
  } else {
    rest = {};
  }
  if (host.empty()) throw std::invalid_argument("endpoint: no host");
  e.host = std::string(host);
  std::string hostport = std::string(host);
  if (rest.starts_with(':')) {
    if (!parseNumber(rest.substr(1), 1, 65535, e.port)) {
      throw std::invalid_argument("endpoint: port '" + std::string(rest.substr(1)) +
                                  "' is not in 1..65535");
    }
  }
  e.redacted = scheme + redacted_user +
               (host.find(':') != std::string_view::npos ? "[" + hostport + "]" : hostport) + ":" +
               std::to_string(e.port);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (!path.empty()) e.database = parseDatabase(path, e.redacted);
  e.redacted += "/" + std::to_string(e.database);
  return e;
}

}  // namespace cvagent::outputs::redis

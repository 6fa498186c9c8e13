#include "conninfo.h"

#include <libpq-fe.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace cvagent::outputs::timescale {
namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// keyword='value' with libpq's quoting: backslash and single quote escaped.
void appendOption(std::string& out, std::string_view keyword, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += keyword;
  out += "='";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
}

std::vector<std::pair<std::string, std::string>> parse(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
      PQconninfoParse(conninfo.c_str(), &error));
  if (!options) {
    std::string message = error ? error : "out of memory";
    if (error) PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    throw std::invalid_argument("invalid connection string: " + message);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (o->val) out.emplace_back(o->keyword, o->val);
  }
  return out;
}

// Options whose value must never be shown: the password, and the key's passphrase.
bool isSecret(std::string_view keyword) {
  return keyword == "password" || keyword == "sslpassword";
}

}  // namespace

ConnInfo parseConnInfo(const std::string& conninfo, const ConnDefaults& defaults) {
  const auto options = parse(conninfo);
  std::set<std::string, std::less<>> given;
  ConnInfo info;
  for (const auto& [keyword, value] : options) {
    given.insert(keyword);
    appendOption(info.effective, keyword, value);
    appendOption(info.redacted, keyword, isSecret(keyword) ? "********" : value);
  }
  const std::pair<std::string_view, std::string> extra[] = {
      {"connect_timeout", std::to_string(defaults.connect_timeout.count())},
      {"application_name", defaults.application_name},
      {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},
      {"keepalives_count", "3"},
      {"client_encoding", "UTF8"},
  };
  for (const auto& [keyword, value] : extra) {
    if (given.count(keyword) || value.empty()) continue;
    if (keyword == "connect_timeout" && value == "0") continue;
    appendOption(info.effective, keyword, value);
  }
  if (info.redacted.empty()) info.redacted = "(libpq defaults)";
  return info;
}

std::string redactConnInfo(const std::string& conninfo) {
  try {
    return parseConnInfo(conninfo, {}).redacted;
  } catch (const std::exception&) {
    return "<unparsable>";
  }
}

}  // namespace cvagent::outputs::timescale

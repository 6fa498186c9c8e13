#include "conninfo.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>

#include <memory>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace cvagent::outputs::timescale {
namespace {

// Debian's CA bundle (ca-certificates), what "the system's trusted CAs" means for sslrootcert.
constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

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

// libpq quotes the part of the string it stumbled on: `missing "=" after "secret"` for an unquoted
// password with a space, `invalid connection option "b"` for one holding " b=". Only libpq's own
// keywords are kept; any other fragment may be a piece of a password.
bool isLibpqKeyword(std::string_view word) {
  std::unique_ptr<PQconninfoOption, OptionsDeleter> defaults(PQconndefaults());
  for (PQconninfoOption* o = defaults.get(); o && o->keyword; ++o) {
    if (word == o->keyword) return true;
  }
  return word == "=";
}

std::string withoutFragments(const std::string& message) {
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto open = message.find('"', pos);
    const auto close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) {
      out.append(message, pos);
      break;
    }
    const std::string_view inside(message.data() + open + 1, close - open - 1);
    out.append(message, pos, open - pos);
    out += '"';
    out += isLibpqKeyword(inside) ? inside : std::string_view("...");
    out += '"';
    pos = close + 1;
  }
  return out;
}

bool isLocalHost(std::string_view host) {
  return host.empty() || host.front() == '/' || host.front() == '@' || host == "localhost" ||
         host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

// True when every host named (host may be a comma-separated list; hostaddr skips DNS) is here.
bool allHostsLocal(const std::string& hosts) {
  std::string_view rest(hosts);
  while (true) {
    const auto comma = rest.find(',');
    if (!isLocalHost(rest.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    rest.remove_prefix(comma + 1);
  }
}

std::string envOr(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
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
    throw std::invalid_argument("invalid connection string: " + withoutFragments(message) +
                                " (quote values with spaces: password='a b')");
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
  const auto valueOf = [&](std::string_view keyword) -> std::string {
    for (const auto& [k, v] : options) {
      if (k == keyword) return v;
    }
    return {};
  };
  const std::string hosts = given.count("hostaddr")
                                ? valueOf("hostaddr")
                                : (given.count("host") ? valueOf("host") : envOr("PGHOST"));
  const std::string sslmode = given.count("sslmode") ? valueOf("sslmode") : envOr("PGSSLMODE");
  if (!allHostsLocal(hosts)) {
    if (sslmode.empty()) {
      appendOption(info.effective, "sslmode", "verify-full");
      appendOption(info.redacted, "sslmode", "verify-full");
      const char* home = std::getenv("HOME");
      const bool has_root_cert =
          given.count("sslrootcert") || std::getenv("PGSSLROOTCERT") ||
          (home && std::filesystem::exists(std::filesystem::path(home) / ".postgresql/root.crt"));
      if (!has_root_cert && std::filesystem::exists(kSystemCaBundle)) {
        appendOption(info.effective, "sslrootcert", kSystemCaBundle);
        appendOption(info.redacted, "sslrootcert", kSystemCaBundle);
      }
    } else if (sslmode != "verify-full") {
      info.tls_warning =
          "sslmode=" + sslmode + " with a server that is not on this machine (" + hosts + "): " +
          (sslmode == "verify-ca" ? "the certificate is checked but not its host name"
                                  : "the server's certificate is NOT verified") +
          "; use sslmode=verify-full";
    }
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

#pragma once
// The connection string of outputs.timescale: a libpq keyword/value string or URI, parsed by libpq
// itself so every libpq option (sslmode, sslrootcert, target_session_attrs...) passes through.

#include <chrono>
#include <string>

namespace cvagent::outputs::timescale {

struct ConnInfo {
  std::string effective;  // keyword='value' form handed to libpq, with cvagent's defaults added
  std::string redacted;   // the same without secrets, for logs and errors
};

struct ConnDefaults {
  std::chrono::seconds connect_timeout{10};
  std::string application_name = "cvagent";
};

// Parses `conninfo` (may be empty: libpq then uses PGHOST, PGDATABASE... and its defaults).
// Adds connect_timeout, application_name, TCP keepalives and client_encoding when not set, so a
// dead server is noticed in seconds rather than hours. Throws std::invalid_argument with libpq's
// message (never the string itself, which may hold a password) when it does not parse.
ConnInfo parseConnInfo(const std::string& conninfo, const ConnDefaults& defaults);

// The password-free form of any connection string, for messages; "<unparsable>" on error.
std::string redactConnInfo(const std::string& conninfo);

}  // namespace cvagent::outputs::timescale

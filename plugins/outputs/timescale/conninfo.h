#pragma once
// The connection string of outputs.timescale: a libpq keyword/value string or URI, parsed by libpq
// itself so every libpq option (sslmode, sslrootcert, target_session_attrs...) passes through.

#include <chrono>
#include <string>

namespace cvagent::outputs::timescale {

struct ConnInfo {
  std::string effective;  // keyword='value' form handed to libpq, with cvagent's defaults added
  std::string redacted;   // the same without secrets, for logs and errors
  // Set when the server's certificate will not be verified although the server is not on this
  // machine (sslmode disable, allow, prefer, require or verify-ca named by the user): to be logged.
  std::string tls_warning;
};

struct ConnDefaults {
  std::chrono::seconds connect_timeout{10};
  std::string application_name = "cvagent";
};

// Parses `conninfo` (may be empty: libpq then uses PGHOST, PGDATABASE... and its defaults).
// Adds connect_timeout, application_name, TCP keepalives and client_encoding when not set, so a
// dead server is noticed in seconds rather than hours.
// TLS: when neither the string nor PGSSLMODE names an sslmode and a host is not on this machine
// (not a Unix socket, localhost, 127.0.0.0/8 or ::1), adds sslmode=verify-full (libpq's own
// default, prefer, accepts any certificate and even no TLS at all), and, without an sslrootcert or
// PGSSLROOTCERT or ~/.postgresql/root.crt, the system CA bundle as sslrootcert (libpq 15 cannot
// name the system store itself).
// Throws std::invalid_argument when it does not parse, with libpq's message stripped of every
// quoted fragment of the string but option names: an unquoted password with a space in it made
// libpq quote its second half.
ConnInfo parseConnInfo(const std::string& conninfo, const ConnDefaults& defaults);

// The password-free form of any connection string, for messages; "<unparsable>" on error.
std::string redactConnInfo(const std::string& conninfo);

}  // namespace cvagent::outputs::timescale

#pragma once
// The `endpoint` of outputs.redis: redis://[user[:password]@]host[:port][/db] (Vector's spelling),
// rediss://... for TLS, or unix:/path/to/redis.sock[?db=N].

#include <string>

namespace cvagent::outputs::redis {

struct Endpoint {
  bool unix_socket = false;
  bool tls = false;
  std::string host = "127.0.0.1";  // or the socket path
  int port = 6379;
  int database = 0;
  std::string username;
  std::string password;
  std::string redacted;  // the endpoint without its password, for logs and errors
};

// Throws std::invalid_argument with a message that never contains the password.
Endpoint parseEndpoint(const std::string& text);

}  // namespace cvagent::outputs::redis

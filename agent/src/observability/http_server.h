#pragma once
// The agent's HTTP endpoint: GET /health (JSON; 200 healthy, 503 otherwise) and GET /metrics
// (Prometheus text format). One Asio thread; loopback by default.

#include <memory>
#include <string>

namespace cvagent::observability {

class Telemetry;

class HttpServer {
 public:
  HttpServer(Telemetry& telemetry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "host:port" ("127.0.0.1:9273", "[::1]:0", ":9273" for all addresses) and serves in a
  // thread. Throws std::runtime_error naming the address when it cannot bind.
  void start(const std::string& address);
  void stop();
  // The bound port (useful with port 0).
  unsigned short port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvagent::observability

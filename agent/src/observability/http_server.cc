#include "observability/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <thread>

#include "observability/logging.h"
#include "observability/telemetry.h"

namespace cvagent::observability {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Telemetry& telemetry)
      : stream_(std::move(socket)), telemetry_(telemetry) {}

  void run() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

 private:
  void respond() {
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "cvagent");
    const std::string target(request_.target());
    const std::string path = target.substr(0, target.find('?'));
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      response_.result(http::status::method_not_allowed);
      response_.set(http::field::content_type, "text/plain");
      response_.body() = "only GET\n";
    } else if (path == "/health" || path == "/healthz") {
      response_.result(telemetry_.healthy() ? http::status::ok : http::status::service_unavailable);
      response_.set(http::field::content_type, "application/json");
      response_.body() = telemetry_.healthJson() + "\n";
    } else if (path == "/ready" || path == "/readyz") {
      response_.result(telemetry_.ready() ? http::status::ok : http::status::service_unavailable);
      response_.set(http::field::content_type, "application/json");
      response_.body() = telemetry_.readyJson() + "\n";
    } else if (path == "/metrics") {
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response_.body() = telemetry_.scrape();
    } else {
      response_.result(http::status::not_found);
      response_.set(http::field::content_type, "text/plain");
      response_.body() = "not found: try /health, /ready or /metrics\n";
    }
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  Telemetry& telemetry_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(Telemetry& t) : telemetry(t), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(s), telemetry)->run();
      accept();
    });
  }

  Telemetry& telemetry;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
};

HttpServer::HttpServer(Telemetry& telemetry) : impl_(std::make_unique<Impl>(telemetry)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw std::runtime_error("agent.http '" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  unsigned long port_number = 0;
  try {
    port_number = std::stoul(port_text);
  } catch (const std::exception&) {
    throw std::runtime_error("agent.http '" + address + "': bad port '" + port_text + "'");
  }
  beast::error_code ec;
  const auto ip = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec || port_number > 65535) {
    throw std::runtime_error("agent.http '" + address + "': bad address");
  }
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port_number));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use) {
    throw std::runtime_error(
        "cannot serve /health and /metrics: " + address +
        " (agent.http) is already in use by another process (another cvagent, or Telegraf's "
        "Prometheus output, whose default port is also 9273); stop it, or set agent.http to a "
        "free address (`ss -ltnp` shows who listens there)");
  }
  if (ec == asio::error::access_denied) {
    throw std::runtime_error("cannot serve /health and /metrics on " + address +
                             " (agent.http): permission denied; ports below 1024 need privileges "
                             "the agent does not have: choose a port above 1023");
  }
  if (ec) {
    throw std::runtime_error("cannot serve /health and /metrics on " + address + " (agent.http): " +
                             ec.message() + "; set agent.http to an address of this machine");
  }
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  agentLog().info("serving /health and /metrics on {}:{}", host, this->port());
}

void HttpServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace cvagent::observability

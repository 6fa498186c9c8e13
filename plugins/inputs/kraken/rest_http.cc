// RestClient's transport: one HTTP/1.1 GET over Boost.Beast, as a C++20 coroutine on a private
// io_context (kept apart from the response parser in rest_client.cc: clang-tidy 14 cannot parse
// Asio's coroutines, scripts/tidy.sh).
#include "rest_client.h"

#include <fmt/format.h>
#include <utility>  // std::exchange: Boost 1.74's awaitable.hpp uses it without the include

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "kraken_input.h"
#include "tls_client.h"

namespace cvagent::inputs::kraken {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

// The REST base: http(s)://host[:port][/prefix]; the prefix without its trailing slash.
Endpoint parseBaseUrl(const std::string& url) {
  Endpoint out;
  std::string error;
  if (!parseEndpoint(url, out, error, "http", "https")) {
    throw std::invalid_argument("rest_url: " + error);
  }
  while (!out.target.empty() && out.target.back() == '/') out.target.pop_back();
  return out;
}

}  // namespace

struct RestClient::Impl {
  Endpoint base;
  std::string base_url;
  std::string ca_file;
  std::chrono::milliseconds timeout;
  const std::atomic<bool>& cancelled;
  std::unique_ptr<ssl::context> tls;  // made on the first https request

  ssl::context& tlsContext() {
    if (!tls) tls = makeVerifyingTlsContext(ca_file);
    return *tls;
  }

  template <typename Stream>
  awaitable<http::response<http::string_body>> exchange(Stream& stream, std::string target) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, base.host);
    request.set(http::field::user_agent, "cvagent-kraken");
    request.set(http::field::accept, "application/json");
    co_await http::async_write(stream, request, use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    co_await http::async_read(stream, buffer, parser, use_awaitable);
    co_return parser.release();
  }

  awaitable<http::response<http::string_body>> fetch(std::string target) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    const auto endpoints = co_await resolver.async_resolve(base.host, base.port, use_awaitable);
    if (!base.tls) {
      beast::tcp_stream stream(ex);
      stream.expires_after(timeout);  // one deadline for connect, write and read together
      co_await stream.async_connect(endpoints, use_awaitable);
      co_return co_await exchange(stream, std::move(target));
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, tlsContext());
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
    expectHost(stream, base.host);
    co_await stream.async_handshake(ssl::stream_base::client, use_awaitable);
    co_return co_await exchange(stream, std::move(target));
  }
};

RestClient::RestClient(std::string base_url, std::string ca_file, std::chrono::milliseconds timeout,
                       const std::atomic<bool>& cancelled)
    : impl_(new Impl{parseBaseUrl(base_url), std::move(base_url), std::move(ca_file), timeout,
                     cancelled, nullptr}) {
  while (!impl_->base_url.empty() && impl_->base_url.back() == '/') impl_->base_url.pop_back();
}

RestClient::~RestClient() = default;

std::string RestClient::get(const std::string& path_and_query) {
  const std::string url = impl_->base_url + path_and_query;
  // A private io_context on the caller's thread: the request blocks like a plain function call,
  // and whatever is left of it when the deadline passes or the input stops is destroyed with it.
  std::optional<http::response<http::string_body>> response;
  std::string error;
  const std::string timed_out = fmt::format("timed out after {} ms", impl_->timeout.count());
  asio::io_context io;  // destroyed first: a request still pending cannot outlive its results
  asio::co_spawn(io, impl_->fetch(impl_->base.target + path_and_query),
                 [&](std::exception_ptr e, http::response<http::string_body> r) {
                   if (!e) {
                     response = std::move(r);
                     return;
                   }
                   try {
                     std::rethrow_exception(e);
                   } catch (const boost::system::system_error& ex) {
                     error = ex.code() == beast::error::timeout ? timed_out : ex.what();
                   } catch (const std::exception& ex) {
                     error = ex.what();
                   }
                 });
  // The streams' deadline bounds connect, write and read; this one also bounds name resolution.
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  while (!io.stopped() && !impl_->cancelled.load()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      error = timed_out;
      break;
    }
    io.run_for(std::chrono::milliseconds(50));  // wakes up to see `cancelled`
  }
  if (!response && error.empty()) error = "cancelled: the input is stopping";
  if (!response) throw std::runtime_error(fmt::format("GET {}: {}", url, error));
  if (response->result_int() != 200) {
    throw std::runtime_error(fmt::format("GET {}: HTTP {}", url, response->result_int()));
  }
  return std::move(response->body());
}

}  // namespace cvagent::inputs::kraken

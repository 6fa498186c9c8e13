#pragma once
// TLS as a client of Kraken, shared by the WebSocket (kraken_input.cc) and the REST backfill
// (rest_http.cc): always verified, never "insecure".

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <memory>
#include <stdexcept>
#include <string>

namespace cvagent::inputs::kraken {

// A client context that trusts the system store, or only the CA file the user names.
inline std::unique_ptr<boost::asio::ssl::context> makeVerifyingTlsContext(
    const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  if (ca_file.empty()) {
    context->set_default_verify_paths();
  } else {
    context->load_verify_file(ca_file);
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

// Before the handshake: SNI (Cloudflare needs it) and the host name checked on top of the chain.
template <typename SslStream>
void expectHost(SslStream& stream, const std::string& host) {
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (!SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                const_cast<char*>(host.c_str()))) {
    throw std::runtime_error("cannot set TLS SNI host name");
  }
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace cvagent::inputs::kraken

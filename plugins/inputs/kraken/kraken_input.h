#pragma once
// inputs.kraken: Kraken WebSocket v2 market data (ticker, trade, ohlc, book) as metrics.
// The transport (Boost.Beast over Asio on the input's own thread) lives here; turning frames into
// metrics is the Decoder's job (decoder.h).

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "cvagent/input.h"
#include "cvagent/plugin_context.h"
#include "kraken_options.h"

namespace cvagent::inputs::kraken {

// Where an endpoint is: <scheme>://host[:port][/target], the WebSocket's (ws, wss) or REST's
// (http, https).
struct Endpoint {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target = "/";
};
// False (with `error`) when `url` is not a `plain`:// or `secure`:// URL (secure means TLS).
bool parseEndpoint(std::string_view url, Endpoint& out, std::string& error,
                   std::string_view plain = "ws", std::string_view secure = "wss");

class KrakenInput final : public Input {
 public:
  KrakenInput(const KrakenOptions& options, PluginContext& context);
  ~KrakenInput() override;

  bool isStreaming() const override { return true; }
  void start(Emitter& out) override;
  void stop() override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvagent::inputs::kraken

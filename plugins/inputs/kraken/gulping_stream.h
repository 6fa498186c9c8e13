#pragma once
// A read buffer under Beast's WebSocket on plain TCP.
//
// Beast reads a small frame through a 1,536-byte buffer of its own (websocket::stream's
// tcp_frame_size): straight on a socket, that is one recv() per 7 or so trade frames, the input
// thread's largest cost in the kernel. This layer reads the socket in gulps of up to 64 KiB and
// serves Beast's reads from memory. (Over TLS the SSL stream already reads whole 16 KiB records.)
//
// Unlike beast::buffered_read_stream, a read served from memory completes through the handler's
// own executor, not the stream's: a frame loop on an inline executor never passes through the
// scheduler for it.

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/async_base.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace cvagent::inputs::kraken {

template <typename NextLayer>
class GulpingStream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = boost::beast::executor_type<NextLayer>;
  static constexpr std::size_t kGulpBytes = 64 * 1024;

  template <typename... Args>
  explicit GulpingStream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  template <typename ConstBuffers, typename WriteHandler>
  auto async_write_some(const ConstBuffers& buffers, WriteHandler&& handler) {
    return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
  }

  template <typename MutableBuffers, typename ReadHandler>
  auto async_read_some(const MutableBuffers& buffers, ReadHandler&& handler) {
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const MutableBuffers& b) {
          ReadOp<MutableBuffers, std::decay_t<decltype(h)>>(std::forward<decltype(h)>(h), *this, b);
        },
        handler, buffers);
  }

 private:
  template <typename MutableBuffers, typename Handler>
  class ReadOp : public boost::beast::async_base<Handler, executor_type> {
   public:
    template <typename H>
    ReadOp(H&& handler, GulpingStream& stream, const MutableBuffers& buffers)
        : boost::beast::async_base<Handler, executor_type>(std::forward<H>(handler),
                                                           stream.get_executor()),
          stream_(stream),
          buffers_(buffers) {
      if (stream_.buffer_.size() > 0 || boost::asio::buffer_size(buffers_) == 0) {
        // Not a continuation: async_base posts to the handler's executor. (An empty read
        // completes at once, as Asio's own do.)
        this->complete(false, boost::beast::error_code{}, take());
        return;
      }
      stream_.next_.async_read_some(stream_.buffer_.prepare(kGulpBytes), std::move(*this));
    }
    ReadOp(ReadOp&&) noexcept = default;

    void operator()(boost::beast::error_code ec, std::size_t bytes) {
      stream_.buffer_.commit(bytes);
      this->complete_now(ec, take());
    }

   private:
    std::size_t take() {
      const std::size_t n = boost::asio::buffer_copy(buffers_, stream_.buffer_.data());
      stream_.buffer_.consume(n);
      return n;
    }

    GulpingStream& stream_;
    MutableBuffers buffers_;
  };

  NextLayer next_;
  boost::beast::flat_buffer buffer_;
};

// The WebSocket's closing handshake ends with the next layer's own teardown (found by ADL).
template <typename NextLayer>
void teardown(boost::beast::role_type role, GulpingStream<NextLayer>& stream,
              boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}
template <typename NextLayer, typename TeardownHandler>
void async_teardown(boost::beast::role_type role, GulpingStream<NextLayer>& stream,
                    TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace cvagent::inputs::kraken

#include "tls/internal/tcp_connect.h"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace armored::tls {

asio::awaitable<TcpConnectError> tcp_connect(asio::ip::tcp::socket& socket, const std::string& host,
                                             std::uint16_t port) {
  constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
  asio::ip::tcp::resolver resolver(socket.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), kNoThrow);
  if (rec) co_return TcpConnectError{true, rec};
  auto [cec, ep] = co_await asio::async_connect(socket, endpoints, kNoThrow);
  (void)ep;
  co_return TcpConnectError{false, cec};
}

}  // namespace armored::tls

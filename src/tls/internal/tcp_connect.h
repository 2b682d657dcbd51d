#pragma once
// The TCP half of every client connection (gateway uplink, direct devices,
// the TLS client runner): resolve a host name and connect to the first
// address that answers. Errors come back as values, never as exceptions.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace armored::tls {

struct TcpConnectError {
  bool resolving = false;  // true: the name did not resolve; false: no address accepted
  asio::error_code code;
  explicit operator bool() const { return static_cast<bool>(code); }
};

// Connects `socket` (unopened, on the caller's executor) to host:port.
asio::awaitable<TcpConnectError> tcp_connect(asio::ip::tcp::socket& socket, const std::string& host,
                                             std::uint16_t port);

}  // namespace armored::tls

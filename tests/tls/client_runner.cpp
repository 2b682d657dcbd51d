#include "tls/client_runner.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

namespace armored::testing {

ClientRun run_client(tls::TlsContext& ctx, ConnectOptions opts, const std::string& send, bool read_reply,
                     bool wait_ticket) {
  asio::io_context io;
  ClientRun out;
  auto body = [&]() -> asio::awaitable<void> {
    std::string host = opts.host;
    std::uint16_t port = opts.port;
    tls::SessionStore* store = opts.sessions;
    auto s = co_await ClientLink::connect(ctx, std::move(opts));
    if (!s) {
      out.handshake = unexpected(s.error());
      co_return;
    }
    out.handshake = (*s)->handshake_info();
    if (!send.empty()) (void)(*s)->write(as_bytes(send));
    while (read_reply && out.reply.empty()) {
      auto d = co_await (*s)->read();
      if (!d || d->bytes.empty()) break;
      out.reply += std::string(as_string(d->bytes));
    }
    if (wait_ticket) co_await (*s)->wait_for_ticket(std::chrono::seconds(5));
    (*s)->save_tickets(store, host, port);
    co_await (*s)->close();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(std::chrono::seconds(20));
  return out;
}

}  // namespace armored::testing

// tls_probe_client: a separate client process for restart tests. Connects
// with the test client over tls::Duplex and an on-disk SessionStore, sends one message (as
// 0-RTT when the stored ticket allows), waits for a new ticket, and prints
// "resumed=<0|1> early=<0|1>" or "failed=<reason>".
// Usage: tls_probe_client CA CERT KEY HOST PORT STORE_DIR MAX_AGE_S MESSAGE
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <string>

#include "common/log.h"
#include "tls/client_link.h"

int main(int argc, char** argv) {
  using namespace armored;
  if (argc != 9) {
    std::fprintf(stderr, "usage: tls_probe_client CA CERT KEY HOST PORT STORE_DIR MAX_AGE_S MESSAGE\n");
    return 2;
  }
  init_logging("info");  // warnings to stderr; stdout carries the result
  SystemClock clock;
  tls::TlsConfig c;
  c.ca_file = argv[1];
  c.cert_chain = argv[2];
  c.key_file = argv[3];
  auto ctx = tls::TlsContext::create(c, clock);
  if (!ctx) {
    std::fprintf(stderr, "%s\n", ctx.error().message.c_str());
    return 2;
  }
  tls::SessionStore store(argv[6], clock, std::chrono::seconds(std::stol(argv[7])));
  testing::ConnectOptions o;
  o.host = argv[4];
  o.port = static_cast<std::uint16_t>(std::stoi(argv[5]));
  o.sessions = &store;
  std::string msg = argv[8];
  o.early_data.assign(msg.begin(), msg.end());
  int rc = 1;
  asio::io_context io;
  auto body = [&]() -> asio::awaitable<void> {
    auto s = co_await testing::ClientLink::connect(**ctx, o);
    if (!s) {
      std::printf("failed=%s\n", std::string(tls::reason_name(s.error().reason)).c_str());
      co_return;
    }
    auto hs = (*s)->handshake_info();
    co_await (*s)->wait_for_ticket(std::chrono::seconds(3));
    (*s)->save_tickets(&store, o.host, o.port);
    co_await (*s)->close();
    std::printf("resumed=%d early=%d\n", hs.resumed ? 1 : 0, hs.early_data_accepted ? 1 : 0);
    rc = 0;
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(std::chrono::seconds(15));
  return rc;
}

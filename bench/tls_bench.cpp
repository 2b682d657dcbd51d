// tls_bench: E4 handshake figures on loopback, side by side with
// `openssl s_server` driven by the same client in the same run.
//   1. server handshakes/s: full mTLS, resumed psk_dhe_ke, resumed psk_ke
//   2. bytes on the wire per handshake, each direction: full, resumed, 0-RTT
//   3. client flights before the first application byte reaches the server
//   4. memory held per idle established server connection
// Every loop is bounded in count and time.

#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "common/log.h"
#include "tls/asio_client.h"
#include "tls/fleet.h"
#include "tls/openssl_peers.h"
#include "tls/server_thread.h"

namespace {

using namespace armored;
using Steady = std::chrono::steady_clock;

constexpr int kMaxHandshakes = 300;
constexpr auto kMaxTime = std::chrono::seconds(4);

struct Rate {
  int done = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? done / seconds : 0; }
};

// Sequential client: connect, handshake (resuming if `resume`), send "x\n",
// read the reply, close. The same client drives both servers.
Rate drive(tls::TlsContext& client_ctx, std::uint16_t port, bool resume) {
  asio::io_context io;
  Rate rate;
  auto body = [&]() -> asio::awaitable<void> {
    std::optional<Bytes> ticket;
    auto run_one = [&](bool count) -> asio::awaitable<bool> {
      tls::ConnectOptions o;
      o.host = "localhost";
      o.port = port;
      asio::ip::tcp::socket sock(io);
      // tls_connect resolves each time; keep it simple and identical for both servers.
      (void)count;
      tls::SessionStore* none = nullptr;
      o.sessions = none;
      auto conn = tls::Connection::client(client_ctx, tls::ClientOptions{o.host, resume ? ticket : std::nullopt, {}});
      if (!conn) co_return false;
      asio::error_code ec;
      co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      tls::TlsStream s(std::move(sock), std::move(*conn));
      auto hs = co_await s.handshake(std::chrono::seconds(5));
      if (!hs) co_return false;
      if (!(co_await s.write(as_bytes("x\n")))) co_return false;
      auto r = co_await s.read();
      auto tickets = s.take_tickets();
      if (!tickets.empty()) ticket = tickets.back().der;
      co_await s.close();
      co_return r.has_value() && (!resume || hs->resumed || !ticket);
    };
    co_await run_one(false);  // warm-up, and the ticket for resumption
    if (resume && !ticket) co_return;
    auto start = Steady::now();
    while (rate.done < kMaxHandshakes && Steady::now() - start < kMaxTime) {
      if (!co_await run_one(true)) break;
      ++rate.done;
    }
    rate.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(kMaxTime + std::chrono::seconds(10));
  return rate;
}

std::unique_ptr<tls::TlsContext> make_ctx(tls::TlsConfig c, Clock& clock) {
  auto ctx = tls::TlsContext::create(c, clock);
  if (!ctx) {
    std::fprintf(stderr, "tls_bench: %s\n", ctx.error().message.c_str());
    std::exit(1);
  }
  return std::move(*ctx);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void handshake_rates(const testing::Fleet& fleet, Clock& clock, int rounds) {
  std::printf("\n1. Server handshakes per second (loopback, sequential client, median of %d rounds)\n", rounds);
  std::printf("   %-26s %12s %14s %8s\n", "mode", "armored", "openssl s_srv", "ratio");
  struct Mode {
    const char* name;
    bool resume;
    tls::ResumptionMode kex;
  };
  for (Mode m : {Mode{"full mTLS", false, tls::ResumptionMode::kPskDheKe},
                 Mode{"resumed psk_dhe_ke", true, tls::ResumptionMode::kPskDheKe},
                 Mode{"resumed psk_ke", true, tls::ResumptionMode::kPskKe}}) {
    auto sc = fleet.server_config();
    auto cc = fleet.client_config();
    sc.resumption = cc.resumption = m.kex;
    sc.max_early_data = 0;
    auto client_ctx = make_ctx(cc, clock);
    std::vector<double> ours, theirs;
    for (int r = 0; r < rounds; ++r) {
      {
        auto server_ctx = make_ctx(sc, clock);
        testing::ServerThread server(*server_ctx);
        ours.push_back(drive(*client_ctx, server.port(), m.resume).per_second());
      }
      {
        // push_back, not an initializer list: GCC 12 -Warray-bounds false positive.
        std::vector<std::string> args;
        args.emplace_back("-rev");
        args.emplace_back("-quiet");
        if (m.kex == tls::ResumptionMode::kPskKe) args.push_back("-allow_no_dhe_kex");
        testing::OpensslServer srv(fleet, args);
        theirs.push_back(drive(*client_ctx, srv.port(), m.resume).per_second());
      }
    }
    double a = median(ours), b = median(theirs);
    std::printf("   %-26s %12.1f %14.1f %7.0f%%\n", m.name, a, b, b > 0 ? 100.0 * a / b : 0.0);
  }
}

struct Wire {
  std::size_t c2s = 0, s2c = 0;
  int flights_to_first_byte = 0;
  bool resumed = false, early = false;
};

// In memory: counts bytes each way and the client flights (ClientHello is
// flight 1) until the server delivers the first application byte.
Wire measure_wire(tls::TlsContext& client_ctx, tls::TlsContext& server_ctx, std::optional<Bytes> ticket,
                  Bytes early, Bytes* ticket_out, Clock& clock) {
  Wire w;
  bool has_early = !early.empty();
  auto c = tls::Connection::client(client_ctx, {"localhost", std::move(ticket), early}).value();
  auto s = tls::Connection::server(server_ctx).value();
  if (!has_early) (void)c->write(as_bytes("x"));
  c->start(clock.now());
  int flight = 0;
  for (int round = 0; round < 16; ++round) {
    Bytes out = c->take_output();
    if (!out.empty()) {
      ++flight;
      w.c2s += out.size();
      for (auto& e : s->feed(out, clock.now())) {
        if (std::holds_alternative<tls::ApplicationData>(e) && w.flights_to_first_byte == 0) {
          w.flights_to_first_byte = flight;
        }
        if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) {
          w.resumed = hc->resumed;
          w.early = hc->early_data_accepted;
        }
      }
    }
    Bytes back = s->take_output();
    w.s2c += back.size();
    for (auto& e : c->feed(back, clock.now())) {
      if (auto* t = std::get_if<tls::NewSessionTicket>(&e); t && ticket_out) *ticket_out = t->der;
    }
    if (out.empty() && back.empty()) break;
  }
  return w;
}

void wire_and_flights(const testing::Fleet& fleet, Clock& clock) {
  auto sc = make_ctx(fleet.server_config(), clock);
  auto cc = make_ctx(fleet.client_config(), clock);
  Bytes ticket;
  Wire full = measure_wire(*cc, *sc, std::nullopt, {}, &ticket, clock);
  Bytes t2;
  Wire resumed = measure_wire(*cc, *sc, ticket, {}, &t2, clock);
  Bytes t3;
  // The server renews tickets only when their key rotated; reuse otherwise.
  Wire zero = measure_wire(*cc, *sc, t2.empty() ? ticket : t2, Bytes{'x'}, &t3, clock);
  std::printf("\n2. Bytes on the wire per handshake incl. tickets and 1 app byte (in memory)\n");
  std::printf("   %-10s %12s %12s %10s %8s\n", "handshake", "client->srv", "srv->client", "total", "vs full");
  auto row = [&](const char* n, const Wire& w) {
    std::size_t t = w.c2s + w.s2c, f = full.c2s + full.s2c;
    std::printf("   %-10s %12zu %12zu %10zu %7.0f%%%s\n", n, w.c2s, w.s2c, t, 100.0 * static_cast<double>(t) / static_cast<double>(f),
                (w.resumed || &w == &full) ? "" : "  (NOT resumed)");
  };
  row("full", full);
  row("resumed", resumed);
  row("0-RTT", zero);
  // Why resumption is not smaller: the stateless ticket carries the session,
  // including the client's certificate.
  const unsigned char* p = ticket.data();
  SSL_SESSION* sess = d2i_SSL_SESSION(nullptr, &p, static_cast<long>(ticket.size()));
  const unsigned char* tick = nullptr;
  std::size_t tick_len = 0;
  if (sess) SSL_SESSION_get0_ticket(sess, &tick, &tick_len);
  SSL_SESSION_free(sess);
  BIO* b = BIO_new_mem_buf(fleet.gateway.cert_pem.data(), static_cast<int>(fleet.gateway.cert_pem.size()));
  X509* leaf = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  int leaf_len = leaf ? i2d_X509(leaf, nullptr) : 0;
  X509_free(leaf);
  BIO_free(b);
  std::printf("   ticket on the wire: %zu bytes, of which the client certificate inside: %d bytes\n", tick_len, leaf_len);
  std::printf("\n3. Client flights until the first application byte reaches the server\n");
  std::printf("   full: flight %d (%d RTT)   resumed: flight %d (%d RTT)   0-RTT: flight %d (%d RTT, early=%s)\n",
              full.flights_to_first_byte, full.flights_to_first_byte - 1, resumed.flights_to_first_byte,
              resumed.flights_to_first_byte - 1, zero.flights_to_first_byte, zero.flights_to_first_byte - 1,
              zero.early ? "accepted" : "REJECTED");
}

// Heap held by N idle established server connections, per connection:
// the heap in use with all N pairs idle minus the heap after destroying the
// N server connections (client connections stay alive throughout).
double idle_memory_per_connection(const testing::Fleet& fleet, Clock& clock, bool release_buffers, int n,
                                  bool leaf_only = false) {
  auto sconf = fleet.server_config();
  sconf.release_buffers = release_buffers;
  auto cconf = fleet.client_config();
  if (leaf_only) {
    // The server trusts the issuing CA directly, so the gateway sends only
    // its leaf and the server keeps one parsed certificate, not two.
    testing::write_text(fleet.dir / "ca_and_issuing.pem", fleet.root->cert_pem() + fleet.issuing->cert_pem());
    testing::write_text(fleet.dir / "gateway_leaf.pem", fleet.gateway.cert_pem);
    sconf.ca_file = fleet.dir / "ca_and_issuing.pem";
    cconf.cert_chain = fleet.dir / "gateway_leaf.pem";
  }
  auto sc = make_ctx(sconf, clock);
  auto cc = make_ctx(cconf, clock);
  std::vector<std::unique_ptr<tls::Connection>> servers, clients;
  servers.reserve(static_cast<std::size_t>(n));
  clients.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto c = tls::Connection::client(*cc, {"localhost", std::nullopt, {}}).value();
    auto s = tls::Connection::server(*sc).value();
    c->start(clock.now());
    for (int round = 0; round < 16; ++round) {
      Bytes out = c->take_output();
      if (!out.empty()) (void)s->feed(out, clock.now());
      Bytes back = s->take_output();
      (void)c->feed(back, clock.now());
      if (out.empty() && back.empty()) break;
    }
    // One application message each way, then idle.
    (void)c->write(as_bytes("reading"));
    (void)s->feed(c->take_output(), clock.now());
    (void)s->write(as_bytes("ack"));
    (void)c->feed(s->take_output(), clock.now());
    servers.push_back(std::move(s));
    clients.push_back(std::move(c));
  }
  malloc_trim(0);
  auto with_servers = mallinfo2().uordblks;
  servers.clear();
  malloc_trim(0);
  auto without_servers = mallinfo2().uordblks;
  return static_cast<double>(with_servers - without_servers) / n;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  testing::Fleet fleet;
  SystemClock clock;
  std::printf("tls_bench: armored E4 TLS vs openssl s_server (%s), AES acceleration: %s, default suites: %s\n",
              OpenSSL_version(OPENSSL_VERSION), tls::cpu_has_aes_acceleration() ? "yes" : "no",
              tls::default_tls13_ciphersuites().c_str());
  int rounds = 3;
  if (const char* r = std::getenv("TLS_BENCH_ROUNDS")) rounds = std::clamp(std::atoi(r), 1, 9);
  handshake_rates(fleet, clock, rounds);
  wire_and_flights(fleet, clock);
  std::printf("\n4. Memory held per idle established server connection (200 connections, heap in use via mallinfo2)\n");
  double with = idle_memory_per_connection(fleet, clock, true, 200);
  double without = idle_memory_per_connection(fleet, clock, false, 200);
  double leaf = idle_memory_per_connection(fleet, clock, true, 200, true);
  std::printf("   armored (release buffers, BIOs shrunk): %8.0f bytes (%.1f KiB)\n", with, with / 1024);
  std::printf("   same, without SSL_MODE_RELEASE_BUFFERS:%8.0f bytes (%.1f KiB)\n", without, without / 1024);
  std::printf("   armored, gateway sends its leaf only:   %8.0f bytes (%.1f KiB)\n", leaf, leaf / 1024);
  return 0;
}

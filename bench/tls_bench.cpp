// tls_bench: E4 handshake figures on loopback, side by side with
// `openssl s_server` driven by the same client in the same run.
//   1. server handshakes/s: full mTLS, resumed psk_dhe_ke, resumed psk_ke
//   2. bytes on the wire per handshake, each direction: full, resumed,
//      0-RTT, and what the session ticket carries (tls_bench_wire.cpp)
//   3. client flights before the first application byte reaches the server
//   4. memory held per idle established server connection and where it
//      goes (tls_bench_memory.cpp)
// Certificates come from `armored pki` (the production profile); section 2
// is repeated with the test PKI the figures were first measured with.
// Every loop is bounded in count and time.

#include <openssl/crypto.h>
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
#include "pki/pki.h"
#include "crypto/cpu.h"
#include "tls/client_link.h"
#include "tls/test_fleet.h"
#include "tls/openssl_peers.h"
#include "tls/server_thread.h"
#include "tls_bench.h"

namespace armored::tlsbench {

std::unique_ptr<tls::TlsContext> make_ctx(const tls::TlsConfig& c, Clock& clock) {
  auto ctx = tls::TlsContext::create(c, clock);
  if (!ctx) {
    std::fprintf(stderr, "tls_bench: %s\n", ctx.error().message.c_str());
    std::exit(1);
  }
  return std::move(*ctx);
}

void adopt_armored_pki(testing::Fleet& fleet) {
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "tls_bench: armored pki: %s\n", what.c_str());
    std::exit(1);
  };
  auto now = SystemClock().now();
  auto dir = fleet.dir / "fleet-pki";
  pki::InitOptions init;
  init.validity = pki::validity_for_days(now, 3650);
  auto created = pki::Authority::create(dir, init, now);
  if (!created) fail(created.error().message);
  auto authority = pki::Authority::open(dir, pki::Authority::Access::read_write);
  if (!authority) fail(authority.error().message);
  pki::IssueRequest cloud;
  cloud.role = pki::Role::cloud;
  cloud.id = "cloud-1";
  cloud.dns = {"localhost"};
  cloud.ips = {"127.0.0.1"};
  cloud.validity = pki::validity_for_days(now, 365);
  pki::IssueRequest gateway;
  gateway.role = pki::Role::gateway;
  gateway.id = "gw-0001";
  gateway.validity = pki::validity_for_days(now, 365);
  auto c = authority->issue(cloud, now);
  auto g = authority->issue(gateway, now);
  if (!c || !g) fail(!c ? c.error().message : g.error().message);
  std::string issuing = testing::slurp(pki::Authority::issuing_cert_path(dir));
  fleet.ca_file = pki::Authority::root_cert_path(dir);
  fleet.crl_file = pki::Authority::crl_path(dir);
  fleet.issuing_file = pki::Authority::issuing_cert_path(dir);
  fleet.server.cert_pem = testing::slurp(c->cert);
  fleet.gateway.cert_pem = testing::slurp(g->cert);
  fleet.server_chain = dir / "cloud-chain.pem";
  fleet.gateway_chain = dir / "gateway-chain.pem";
  testing::write_text(fleet.server_chain, fleet.server.cert_pem + issuing);
  testing::write_text(fleet.gateway_chain, fleet.gateway.cert_pem + issuing);
  fleet.server_key = c->key;
  fleet.gateway_key = g->key;
}

namespace {

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
    auto run_one = [&]() -> asio::awaitable<bool> {
      asio::ip::tcp::socket sock(io);
      asio::error_code ec;
      co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      const tls::ClientOptions options{"localhost", resume ? ticket : std::nullopt, {}};
      auto s = co_await testing::ClientLink::handshake(std::move(sock), client_ctx, options, std::chrono::seconds(5));
      if (!s) co_return false;
      const bool resumed = (*s)->handshake_info().resumed;
      if (!(*s)->write(as_bytes("x\n"))) co_return false;
      auto r = co_await (*s)->read();
      auto tickets = (*s)->take_tickets();
      if (!tickets.empty()) ticket = tickets.back().der;
      co_await (*s)->close();
      co_return r.has_value() && (!resume || resumed || !ticket);
    };
    co_await run_one();  // warm-up, and the ticket for resumption
    if (resume && !ticket) co_return;
    auto start = Steady::now();
    while (rate.done < kMaxHandshakes && Steady::now() - start < kMaxTime) {
      if (!co_await run_one()) break;
      ++rate.done;
    }
    rate.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run_for(kMaxTime + std::chrono::seconds(10));
  return rate;
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

}  // namespace

}  // namespace armored::tlsbench

int main() {
  using namespace armored;
  tlsbench::install_openssl_allocation_counter();
  spdlog::set_level(spdlog::level::warn);
  testing::Fleet test_fleet;
  testing::Fleet fleet;
  tlsbench::adopt_armored_pki(fleet);
  SystemClock clock;
  std::printf("tls_bench: armored E4 TLS vs openssl s_server (%s), AES acceleration: %s, default suites: %s\n",
              OpenSSL_version(OPENSSL_VERSION), crypto::cpu_has_aes_acceleration() ? "yes" : "no",
              tls::default_tls13_ciphersuites().c_str());
  int rounds = 3;
  if (const char* r = std::getenv("TLS_BENCH_ROUNDS")) rounds = std::clamp(std::atoi(r), 1, 9);
  tlsbench::handshake_rates(fleet, clock, rounds);
  tlsbench::wire_and_flights(fleet, clock, "armored pki (production profile)", true);
  tlsbench::wire_and_flights(test_fleet, clock, "test PKI (tests/tls/test_pki)", true);
  tlsbench::idle_memory(fleet, clock);
  return 0;
}

// Our client against `openssl s_server`, and `openssl s_client` against our
// server (asio runners), on 127.0.0.1.
#include <asio/io_context.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "crypto/cpu.h"
#include "tls/client_runner.h"
#include "tls/openssl_peers.h"
#include "tls/server_thread.h"

namespace armored::tls {
namespace {

using testing::ConnectOptions;

using testing::Fleet;
using testing::OpensslServer;
using testing::run_client;
using testing::run_s_client;

ConnectOptions opts(const std::string& host, std::uint16_t port, SessionStore* store = nullptr,
                    Bytes early = {}) {
  ConnectOptions o;
  o.host = host;
  o.port = port;
  o.sessions = store;
  o.early_data = std::move(early);
  return o;
}

std::string expected_cipher() {
  return crypto::cpu_has_aes_acceleration() ? "TLS_AES_128_GCM_SHA256" : "TLS_CHACHA20_POLY1305_SHA256";
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("openssl")) GTEST_SKIP() << "openssl CLI not installed";
  }
  std::unique_ptr<TlsContext> make(const TlsConfig& c) {
    auto ctx = TlsContext::create(c, clock);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    return ctx ? std::move(*ctx) : nullptr;
  }
  std::pair<std::filesystem::path, std::filesystem::path> gateway() const {
    return {fleet.gateway_chain, fleet.gateway_key};
  }
  Fleet fleet;
  SystemClock clock;
};

// --- our client, openssl s_server ---

TEST_F(InteropTest, OurClientCompletesMutualTlsWithOpensslServer) {
  OpensslServer srv(fleet, {"-rev"});
  auto ctx = make(fleet.client_config());
  auto r = run_client(*ctx, opts("localhost", srv.port()), "hello\n");
  ASSERT_TRUE(r.handshake) << r.handshake.error().message << srv.output();
  EXPECT_EQ(r.handshake->version, "TLSv1.3");
  EXPECT_EQ(r.handshake->cipher, expected_cipher());
  EXPECT_FALSE(r.handshake->resumed);
  EXPECT_EQ(r.reply, "olleh\n");
  EXPECT_EQ(ctx->counters().full_handshakes.load(), 1u);
}

TEST_F(InteropTest, OurClientVerifiesIpAddressSan) {
  OpensslServer srv(fleet, {"-rev"});
  auto ctx = make(fleet.client_config());
  auto r = run_client(*ctx, opts("127.0.0.1", srv.port()), "ip\n");
  ASSERT_TRUE(r.handshake) << r.handshake.error().message;
  EXPECT_EQ(r.reply, "pi\n");
}

TEST_F(InteropTest, OurClientFollowsConfiguredChachaPreference) {
  OpensslServer srv(fleet, {"-rev"});
  auto c = fleet.client_config();
  c.tls13_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
  auto ctx = make(c);
  auto r = run_client(*ctx, opts("localhost", srv.port()), "x\n");
  ASSERT_TRUE(r.handshake) << r.handshake.error().message;
  EXPECT_EQ(r.handshake->cipher, "TLS_CHACHA20_POLY1305_SHA256");
}

TEST_F(InteropTest, OurClientResumesFromDiskAndSendsEarlyDataToOpensslServer) {
  OpensslServer srv(fleet, {"-early_data"});
  SessionStore store(fleet.dir / "tickets", clock);
  {
    auto ctx = make(fleet.client_config());
    auto first = run_client(*ctx, opts("localhost", srv.port(), &store), "", false, true);
    ASSERT_TRUE(first.handshake) << first.handshake.error().message << srv.output();
    EXPECT_FALSE(first.handshake->resumed);
  }
  ASSERT_TRUE(store.load("localhost", srv.port())) << "ticket saved to disk";
  // A new context stands for a restarted client process: only the file remains.
  auto ctx = make(fleet.client_config());
  ConnectOptions o = opts("localhost", srv.port(), &store, Bytes{'r', 'e', 'a', 'd', 'i', 'n', 'g', '\n'});
  auto second = run_client(*ctx, o, "", false, true);
  ASSERT_TRUE(second.handshake) << second.handshake.error().message;
  EXPECT_TRUE(second.handshake->resumed);
  EXPECT_TRUE(second.handshake->early_data_accepted);
  EXPECT_EQ(ctx->counters().zero_rtt_handshakes.load(), 1u);
  EXPECT_TRUE(testing::eventually([&] { return srv.output().find("Early data received:") != std::string::npos; }));
  EXPECT_NE(srv.output().find("reading"), std::string::npos);
}

// --- openssl s_client, our server ---

class OurServerTest : public InteropTest {
 protected:
  void SetUp() override {
    InteropTest::SetUp();
    if (IsSkipped()) return;
    server_ctx = make(fleet.server_config());
    server = std::make_unique<testing::ServerThread>(*server_ctx);
  }
  void TearDown() override {
    server.reset();
    server_ctx.reset();
  }
  std::unique_ptr<TlsContext> server_ctx;
  std::unique_ptr<testing::ServerThread> server;
};

TEST_F(OurServerTest, OpensslClientMutualTlsReachesHandlerWithIdentity) {
  auto r = run_s_client(fleet, server->port(), {}, "ping\n", gateway());
  EXPECT_NE(r.out.find("New, TLSv1.3, Cipher is " + expected_cipher()), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("echo:ping"), std::string::npos);
  auto seen = server->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].handshake.peer.id, "gw-1");
  EXPECT_EQ(seen[0].handshake.peer.kind, PeerIdentity::Kind::kGateway);
  EXPECT_FALSE(seen[0].data_was_early);
  EXPECT_EQ(server_ctx->counters().full_handshakes.load(), 1u);
}

TEST_F(OurServerTest, HonoursClientThatPrefersChacha) {
  auto r = run_s_client(fleet, server->port(),
                        {"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"}, "c\n", gateway());
  EXPECT_NE(r.out.find("Cipher is TLS_CHACHA20_POLY1305_SHA256"), std::string::npos) << r.out;
}

TEST_F(OurServerTest, ServerOrderAppliesWhenClientDoesNotPreferChacha) {
  auto r = run_s_client(fleet, server->port(),
                        {"-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"},
                        "c\n", gateway());
  std::string want = crypto::cpu_has_aes_acceleration() ? "TLS_AES_128_GCM_SHA256" : "TLS_AES_256_GCM_SHA384";
  EXPECT_NE(r.out.find("Cipher is " + want), std::string::npos) << r.out;
}

TEST_F(OurServerTest, OpensslClientResumesAndSendsEarlyData) {
  auto sess = fleet.dir / "sess.pem";
  auto r1 = run_s_client(fleet, server->port(), {"-sess_out", sess.string()}, "one\n", gateway());
  ASSERT_NE(r1.out.find("New, TLSv1.3"), std::string::npos) << r1.out << r1.err;
  auto r2 = run_s_client(fleet, server->port(), {"-sess_in", sess.string()}, "two\n", gateway());
  EXPECT_NE(r2.out.find("Reused, TLSv1.3"), std::string::npos) << r2.out << r2.err;
  EXPECT_NE(r2.out.find("echo:two"), std::string::npos);
  auto early = fleet.dir / "early.txt";
  testing::write_text(early, "telemetry\n");
  auto r3 = run_s_client(fleet, server->port(), {"-sess_in", sess.string(), "-early_data", early.string()}, "",
                         gateway());
  EXPECT_NE(r3.out.find("Early data was accepted"), std::string::npos) << r3.out << r3.err;
  auto seen = server->wait_for(3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[1].handshake.resumed);
  EXPECT_EQ(seen[1].handshake.peer.id, "gw-1");
  EXPECT_TRUE(seen[2].handshake.early_data_accepted);
  EXPECT_TRUE(seen[2].data_was_early);
  EXPECT_EQ(seen[2].data, "telemetry\n");
  EXPECT_EQ(server_ctx->counters().full_handshakes.load(), 1u);
  EXPECT_EQ(server_ctx->counters().resumed_handshakes.load(), 1u);
  EXPECT_EQ(server_ctx->counters().zero_rtt_handshakes.load(), 1u);
}

TEST_F(OurServerTest, TicketMayBeReusedForEarlyDataWithFreshClientHellos) {
  auto sess = fleet.dir / "sess.pem";
  run_s_client(fleet, server->port(), {"-sess_out", sess.string()}, "one\n", gateway());
  auto early = fleet.dir / "early.txt";
  testing::write_text(early, "t\n");
  std::vector<std::string> args = {"-sess_in", sess.string(), "-early_data", early.string()};
  // stdin data follows the early data, so the handler always gets a chunk.
  auto a = run_s_client(fleet, server->port(), args, "x\n", gateway());
  auto b = run_s_client(fleet, server->port(), args, "x\n", gateway());
  EXPECT_NE(a.out.find("Early data was accepted"), std::string::npos) << a.out;
  EXPECT_NE(b.out.find("Early data was accepted"), std::string::npos) << b.out;
  EXPECT_EQ(server_ctx->counters().early_data_replays_refused.load(), 0u);
  EXPECT_EQ(server_ctx->counters().early_data_accepted.load(), 2u);
}

TEST_F(OurServerTest, ReplayedZeroRttFlightOverTcpIsRefused) {
  auto client_ctx = make(fleet.client_config());
  SessionStore store(fleet.dir / "tickets", clock);
  auto first = run_client(*client_ctx, opts("localhost", server->port(), &store), "one\n", true, true);
  ASSERT_TRUE(first.handshake) << first.handshake.error().message;
  ASSERT_TRUE(store.load("localhost", server->port()));
  ClientOptions co{"localhost", store.load("localhost", server->port()), Bytes{'o', 'n', 'c', 'e'}};
  auto conn = Connection::client(*client_ctx, co).value();
  conn->start(clock.now());
  Bytes flight = conn->take_output();
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> socks;
  for (int i = 0; i < 2; ++i) {  // the captured flight, sent twice by an attacker
    socks.emplace_back(io);
    socks.back().connect({asio::ip::make_address("127.0.0.1"), server->port()});
    asio::write(socks.back(), asio::buffer(flight));
  }
  EXPECT_TRUE(testing::eventually([&] { return server_ctx->counters().early_data_replays_refused.load() == 1; }));
}

}  // namespace
}  // namespace armored::tls

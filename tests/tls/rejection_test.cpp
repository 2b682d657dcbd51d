// The rejection matrix with real peers: each refusal carries a typed reason
// and increments that reason's counter.
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "ossl/ossl.h"
#include "tls/client_runner.h"
#include "tls/openssl_peers.h"
#include "tls/server_thread.h"

namespace armored::tls {
namespace {

using testing::ConnectOptions;

using testing::Eku;
using testing::Fleet;
using testing::LeafSpec;
using testing::OpensslServer;

class ClientRejects : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("openssl")) GTEST_SKIP() << "openssl CLI not installed";
  }
  // Starts s_server with `leaf` as its certificate and connects our client.
  Result<HandshakeComplete, TlsError> connect_to(const testing::Issued& leaf, TlsConfig client,
                                                 std::vector<std::string> server_args = {},
                                                 const std::string& host = "localhost") {
    auto cert = leaf.write(fleet.dir.path(), "bad_server");
    OpensslServer srv(fleet, std::move(server_args), {cert, fleet.dir / "bad_server.key"});
    auto ctx = TlsContext::create(client, clock);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    ConnectOptions o;
    o.host = host;
    o.port = srv.port();
    auto r = testing::run_client(**ctx, o, "x\n");
    counters_ = &(*ctx)->counters();
    last_ctx_ = std::move(*ctx);
    return r.handshake;
  }
  void expect_refused(const Result<HandshakeComplete, TlsError>& r, Reason want) {
    ASSERT_FALSE(r) << "handshake unexpectedly succeeded";
    EXPECT_EQ(r.error().reason, want) << reason_name(r.error().reason) << ": " << r.error().message;
    EXPECT_EQ(counters_->failures_for(want), 1u);
    EXPECT_EQ(counters_->full_handshakes.load(), 0u);
  }
  LeafSpec server_leaf() { return testing::server_spec(); }

  Fleet fleet;
  SystemClock clock;
  TlsCounters* counters_ = nullptr;
  std::unique_ptr<TlsContext> last_ctx_;
};

TEST_F(ClientRejects, ExpiredServerCertificate) {
  auto spec = server_leaf();
  spec.not_before = std::chrono::hours(-48);
  spec.not_after = std::chrono::hours(-24);
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config()), Reason::kCertExpired);
}

TEST_F(ClientRejects, NotYetValidServerCertificate) {
  auto spec = server_leaf();
  spec.not_before = std::chrono::hours(24);
  spec.not_after = std::chrono::hours(48);
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config()), Reason::kCertNotYetValid);
}

TEST_F(ClientRejects, ServerCertificateFromAnotherCa) {
  auto other = testing::TestAuthority::root("Other Root");
  expect_refused(connect_to(other->issue(server_leaf()), fleet.client_config()), Reason::kUnknownCa);
}

TEST_F(ClientRejects, WrongHostName) {
  auto spec = server_leaf();
  spec.dns = {"other.armored.test"};
  spec.ips = {};
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config()), Reason::kHostnameMismatch);
}

TEST_F(ClientRejects, WrongIpAddress) {
  auto spec = server_leaf();
  spec.dns = {"localhost"};
  spec.ips = {"10.1.2.3"};
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config(), {}, "127.0.0.1"),
                 Reason::kHostnameMismatch);
}

TEST_F(ClientRejects, RevokedServerCertificate) {
  auto leaf = fleet.issuing->issue(server_leaf());
  fleet.issuing->revoke(leaf.serial);
  fleet.rewrite_crl();
  expect_refused(connect_to(leaf, fleet.client_config()), Reason::kRevoked);
}

TEST_F(ClientRejects, SelfSignedServerCertificate) {
  expect_refused(connect_to(testing::TestAuthority::self_signed(server_leaf()), fleet.client_config()),
                 Reason::kSelfSigned);
}

TEST_F(ClientRejects, ServerCertificateWithoutServerAuthEku) {
  auto spec = server_leaf();
  spec.eku = Eku::kClient;
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config()), Reason::kWrongEku);
}

TEST_F(ClientRejects, ServerCertificateWithoutAnyEku) {
  auto spec = server_leaf();
  spec.eku = Eku::kNone;
  expect_refused(connect_to(fleet.issuing->issue(spec), fleet.client_config()), Reason::kWrongEku);
}

TEST_F(ClientRejects, Tls12OnlyServerUnderDefaultPolicy) {
  expect_refused(connect_to(fleet.server, fleet.client_config(), {"-tls1_2"}), Reason::kProtocolVersion);
}

TEST_F(ClientRejects, PinMismatch) {
  auto c = fleet.client_config();
  auto other = testing::TestAuthority::root("Unrelated Root");
  c.spki_pins = {testing::spki_sha256(other->cert_pem())};
  expect_refused(connect_to(fleet.server, c), Reason::kPinMismatch);
}

TEST_F(ClientRejects, PinOfIssuingCaIsAccepted) {
  auto c = fleet.client_config();
  c.spki_pins = {testing::spki_sha256(fleet.issuing->cert_pem())};
  auto r = connect_to(fleet.server, c);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
}

TEST_F(ClientRejects, Tls12WhenConfiguredUsesEcdheAead) {
  auto c = fleet.client_config();
  c.min_version = MinVersion::kTls12;
  auto r = connect_to(fleet.server, c, {"-tls1_2"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, "TLSv1.2");
  EXPECT_NE(r->cipher.find("ECDHE"), std::string::npos);
  EXPECT_TRUE(r->cipher.find("GCM") != std::string::npos || r->cipher.find("CHACHA20") != std::string::npos);
}

class ServerRejects : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("openssl")) GTEST_SKIP() << "openssl CLI not installed";
    auto ctx = TlsContext::create(fleet.server_config(), clock);
    ASSERT_TRUE(ctx) << ctx.error().message;
    ctx_ = std::move(*ctx);
  }
  void TearDown() override {
    server_.reset();
    ctx_.reset();
  }
  void start() { server_ = std::make_unique<testing::ServerThread>(*ctx_); }
  // s_client presents `leaf` (or no certificate); our server must refuse it.
  void expect_refused(const testing::Issued* leaf, Reason want, std::vector<std::string> args = {}) {
    std::pair<std::filesystem::path, std::filesystem::path> cert;
    if (leaf) cert = {leaf->write(fleet.dir.path(), "bad_client"), fleet.dir / "bad_client.key"};
    if (!server_) start();
    auto r = testing::run_s_client(fleet, server_->port(), std::move(args), "x\n", cert);
    EXPECT_EQ(r.out.find("echo:x"), std::string::npos) << "refused client reached the application";
    EXPECT_TRUE(testing::eventually([&] { return ctx_->counters().failures_for(want) == 1; }))
        << "reason " << reason_name(want) << " not counted; s_client said: " << r.out << r.err;
    EXPECT_EQ(ctx_->counters().full_handshakes.load(), 0u);
  }
  LeafSpec client_leaf() { return testing::gateway_spec("gw-9"); }

  Fleet fleet;
  SystemClock clock;
  std::unique_ptr<TlsContext> ctx_;
  std::unique_ptr<testing::ServerThread> server_;
};

TEST_F(ServerRejects, MissingClientCertificate) { expect_refused(nullptr, Reason::kNoPeerCertificate); }

TEST_F(ServerRejects, ClientCertificateFromAnotherCa) {
  auto other = testing::TestAuthority::root("Other Root");
  auto leaf = other->issue(client_leaf());
  expect_refused(&leaf, Reason::kUnknownCa);
}

TEST_F(ServerRejects, ClientCertificateWithWrongEku) {
  auto spec = client_leaf();
  spec.eku = Eku::kServer;
  auto leaf = fleet.issuing->issue(spec);
  expect_refused(&leaf, Reason::kWrongEku);
}

TEST_F(ServerRejects, ExpiredClientCertificate) {
  auto spec = client_leaf();
  spec.not_before = std::chrono::hours(-48);
  spec.not_after = std::chrono::hours(-1);
  auto leaf = fleet.issuing->issue(spec);
  expect_refused(&leaf, Reason::kCertExpired);
}

TEST_F(ServerRejects, NotYetValidClientCertificate) {
  auto spec = client_leaf();
  spec.not_before = std::chrono::hours(2);
  auto leaf = fleet.issuing->issue(spec);
  expect_refused(&leaf, Reason::kCertNotYetValid);
}

TEST_F(ServerRejects, RevokedClientCertificate) {
  auto leaf = fleet.issuing->issue(client_leaf());
  fleet.issuing->revoke(leaf.serial);
  fleet.rewrite_crl();
  ASSERT_TRUE(ctx_->reload_crl());
  expect_refused(&leaf, Reason::kRevoked);
}

// reload_crl() trusts a CRL only when its signature verifies with a known
// issuer; otherwise the previous CRL stays in force (a revoked client stays out).
TEST_F(ServerRejects, ReloadRefusesForeignOrForgedCrlAndKeepsThePreviousOne) {
  auto leaf = fleet.issuing->issue(client_leaf());
  fleet.issuing->revoke(leaf.serial);
  fleet.rewrite_crl();
  auto revoked = ctx_->reload_crl();
  ASSERT_TRUE(revoked) << revoked.error().message;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%lX", leaf.serial);
  // Upper-case hex in whole bytes (1004 is "03EC"), the spelling
  // PeerIdentity::serial and pki.json use.
  std::string serial = ::armored::ossl::normal_serial(hex);
  ASSERT_EQ(serial.size() % 2, 0u) << serial;
  EXPECT_EQ(std::count(revoked->begin(), revoked->end(), serial), 1) << serial;

  auto write = [&](const std::string& pem) { std::ofstream(fleet.crl_file, std::ios::trunc) << pem; };
  const std::string good = fleet.root->crl_pem() + fleet.issuing->crl_pem();
  auto other = testing::TestAuthority::root("Other Root");
  write(other->crl_pem());
  auto r = ctx_->reload_crl();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("CRL issuer is not among"), std::string::npos) << r.error().message;
  std::string forged = good;
  const auto end = forged.rfind("-----END");
  forged[end - 6] = forged[end - 6] == 'A' ? 'B' : 'A';  // inside the last CRL's signature
  write(forged);
  r = ctx_->reload_crl();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("signature does not verify"), std::string::npos) << r.error().message;
  write(good.substr(0, good.find("-----END") - 10));  // cut inside the first CRL
  EXPECT_FALSE(ctx_->reload_crl());
  write("");
  r = ctx_->reload_crl();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no CRL"), std::string::npos) << r.error().message;
  expect_refused(&leaf, Reason::kRevoked);
}

TEST_F(ServerRejects, SelfSignedClientCertificate) {
  auto leaf = testing::TestAuthority::self_signed(client_leaf());
  expect_refused(&leaf, Reason::kSelfSigned);
}

TEST_F(ServerRejects, ClientCertificateWithoutFleetIdentity) {
  auto spec = client_leaf();
  spec.uris = {"https://example.com/not-a-gateway"};
  auto leaf = fleet.issuing->issue(spec);
  expect_refused(&leaf, Reason::kMissingIdentity);
}

TEST_F(ServerRejects, Tls12OnlyClientUnderDefaultPolicy) {
  expect_refused(&fleet.gateway, Reason::kProtocolVersion, {"-tls1_2"});
}

TEST_F(ServerRejects, Tls12ClientWithNonAeadCipherWhenTls12Allowed) {
  auto c = fleet.server_config();
  c.min_version = MinVersion::kTls12;
  ctx_ = TlsContext::create(c, clock).value();
  expect_refused(&fleet.gateway, Reason::kNoSharedCipher, {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"});
}

TEST_F(ServerRejects, Tls12ClientAcceptedWithEcdheAeadWhenConfigured) {
  auto c = fleet.server_config();
  c.min_version = MinVersion::kTls12;
  ctx_ = TlsContext::create(c, clock).value();
  start();
  auto r = testing::run_s_client(fleet, server_->port(), {"-tls1_2"}, "x\n",
                                 {fleet.gateway_chain, fleet.gateway_key});
  EXPECT_NE(r.out.find("echo:x"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("Protocol  : TLSv1.2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Cipher    : ECDHE-ECDSA-"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.find("GCM-SHA") != std::string::npos || r.out.find("CHACHA20-POLY1305") != std::string::npos);
}

TEST_F(ServerRejects, SilentClientIsDroppedAfterHandshakeTimeout) {
  testing::ServeOptions o;
  o.handshake_timeout = std::chrono::milliseconds(300);
  server_ = std::make_unique<testing::ServerThread>(*ctx_, o);
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  std::array<char, 16> buf;
  asio::error_code ec;
  auto start_time = std::chrono::steady_clock::now();
  sock.read_some(asio::buffer(buf), ec);  // blocks until the server gives up
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, std::chrono::seconds(5));
  EXPECT_TRUE(testing::eventually([&] { return ctx_->counters().failures_for(Reason::kTimeout) == 1; }));
}

}  // namespace
}  // namespace armored::tls

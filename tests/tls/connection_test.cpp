// In-memory handshakes through the sans-I/O connection: no sockets.
#include "tls/connection.h"

#include <gtest/gtest.h>

#include "crypto/cpu.h"
#include "tls/test_fleet.h"

namespace armored::tls {
namespace {

using testing::app_bytes;
using testing::find_event;
using testing::pump;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { make_contexts(fleet.server_config(), fleet.client_config()); }
  void make_contexts(const TlsConfig& s, const TlsConfig& c) {
    auto sc = TlsContext::create(s, clock);
    ASSERT_TRUE(sc) << sc.error().message;
    server_ctx = std::move(*sc);
    auto cc = TlsContext::create(c, clock);
    ASSERT_TRUE(cc) << cc.error().message;
    client_ctx = std::move(*cc);
  }
  std::unique_ptr<Connection> client(ClientOptions o = {}) {
    if (o.server_name.empty()) o.server_name = "localhost";
    auto c = Connection::client(*client_ctx, o);
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return std::move(*c);
  }
  std::unique_ptr<Connection> server() {
    auto s = Connection::server(*server_ctx);
    EXPECT_TRUE(s);
    return std::move(*s);
  }
  // Full handshake; returns the session ticket the client received.
  Bytes handshake_for_ticket() {
    auto c = client();
    auto s = server();
    auto ex = pump(*c, *s, clock.now(), true);
    auto* t = find_event<NewSessionTicket>(ex.client_events);
    EXPECT_NE(t, nullptr);
    return t ? t->der : Bytes{};
  }

  testing::Fleet fleet;
  ManualClock clock{SystemClock().now()};
  std::unique_ptr<TlsContext> server_ctx, client_ctx;
};

TEST_F(ConnectionTest, FullMutualHandshakeDeliversIdentityAndData) {
  auto c = client();
  auto s = server();
  ASSERT_TRUE(c->write(as_bytes("hello server")));
  auto ex = pump(*c, *s, clock.now(), true);
  auto* shc = find_event<HandshakeComplete>(ex.server_events);
  auto* chc = find_event<HandshakeComplete>(ex.client_events);
  ASSERT_NE(shc, nullptr);
  ASSERT_NE(chc, nullptr);
  EXPECT_FALSE(shc->resumed);
  EXPECT_EQ(shc->version, "TLSv1.3");
  EXPECT_EQ(shc->peer.kind, PeerIdentity::Kind::kGateway);
  EXPECT_EQ(shc->peer.id, "gw-1");
  EXPECT_EQ(shc->peer.uri, "urn:armored:gateway:gw-1");
  // The presented certificate's serial, in whole bytes as pki.json spells it
  // (the test fleet's gateway has serial 1003, 0x3EB).
  ASSERT_EQ(fleet.gateway.serial, 0x3EB);
  EXPECT_EQ(shc->peer.serial, "03EB") << "the presented certificate's serial";
  std::string expected = crypto::cpu_has_aes_acceleration() ? "TLS_AES_128_GCM_SHA256" : "TLS_CHACHA20_POLY1305_SHA256";
  EXPECT_EQ(shc->cipher, expected);
  EXPECT_EQ(chc->cipher, expected);
  EXPECT_EQ(app_bytes(ex.server_events), "hello server");
  EXPECT_EQ(app_bytes(ex.server_events, true), "");
  ASSERT_TRUE(s->write(as_bytes("hello gateway")));
  auto ex2 = pump(*c, *s, clock.now(), false);
  EXPECT_EQ(app_bytes(ex2.client_events), "hello gateway");
  EXPECT_EQ(server_ctx->counters().full_handshakes.load(), 1u);
  EXPECT_EQ(client_ctx->counters().full_handshakes.load(), 1u);
  EXPECT_NE(find_event<NewSessionTicket>(ex.client_events), nullptr);
}

TEST_F(ConnectionTest, CloseNotifyReachesPeer) {
  auto c = client();
  auto s = server();
  pump(*c, *s, clock.now(), true);
  c->close();
  auto ex = pump(*c, *s, clock.now(), false);
  auto* closed = find_event<Closed>(ex.server_events);
  ASSERT_NE(closed, nullptr);
  EXPECT_TRUE(closed->clean);
  EXPECT_FALSE(s->is_open());
  EXPECT_FALSE(c->write(as_bytes("late")));
}

TEST_F(ConnectionTest, ResumesWithTicketPskDheKe) {
  Bytes ticket = handshake_for_ticket();
  auto c = client({"localhost", ticket, {}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  for (auto* evs : {&ex.server_events, &ex.client_events})
    if (auto* f = find_event<Failed>(*evs)) ADD_FAILURE() << reason_name(f->error.reason) << " " << f->error.message;
  ASSERT_NE(hc, nullptr);
  EXPECT_TRUE(hc->resumed);
  EXPECT_FALSE(hc->early_data_accepted);
  EXPECT_EQ(hc->peer.id, "gw-1") << "identity survives resumption";
  EXPECT_EQ(hc->peer.serial, "03EB") << "so does the certificate's serial";
  EXPECT_EQ(server_ctx->counters().resumed_handshakes.load(), 1u);
  EXPECT_EQ(client_ctx->counters().resumed_handshakes.load(), 1u);
}

TEST_F(ConnectionTest, ResumesWithPskKeWhenConfigured) {
  auto sc = fleet.server_config();
  auto cc = fleet.client_config();
  sc.resumption = cc.resumption = ResumptionMode::kPskKe;
  make_contexts(sc, cc);
  Bytes ticket = handshake_for_ticket();
  auto c = client({"localhost", ticket, {}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_TRUE(hc->resumed);
}

TEST_F(ConnectionTest, ZeroRttDataIsMarkedEarly) {
  Bytes ticket = handshake_for_ticket();
  auto c = client({"localhost", ticket, Bytes{'t', 'e', 'l', 'e'}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_TRUE(hc->resumed);
  EXPECT_TRUE(hc->early_data_accepted);
  EXPECT_EQ(app_bytes(ex.server_events, true), "tele");
  EXPECT_EQ(server_ctx->counters().zero_rtt_handshakes.load(), 1u);
  EXPECT_EQ(server_ctx->counters().early_data_accepted.load(), 1u);
  EXPECT_EQ(client_ctx->counters().early_data_accepted.load(), 1u);
}

TEST_F(ConnectionTest, ReplayedZeroRttFlightIsRefusedEarlyData) {
  Bytes ticket = handshake_for_ticket();
  auto c = client({"localhost", ticket, Bytes{'o', 'n', 'c', 'e'}});
  c->start(clock.now());
  Bytes first_flight = c->take_output();
  auto s1 = server();
  auto ev1 = s1->feed(first_flight, clock.now());
  EXPECT_EQ(app_bytes(ev1, true), "once");
  // An attacker replays the captured ClientHello + early data.
  auto s2 = server();
  auto ev2 = s2->feed(first_flight, clock.now());
  EXPECT_EQ(app_bytes(ev2, true), "") << "replayed early data must not be delivered";
  EXPECT_EQ(server_ctx->counters().early_data_replays_refused.load(), 1u);
}

TEST_F(ConnectionTest, EarlyDataLargerThanTicketAllowsGoesAfterHandshake) {
  auto sc = fleet.server_config();
  sc.max_early_data = 8;
  make_contexts(sc, fleet.client_config());
  Bytes ticket = handshake_for_ticket();
  Bytes big(100, 'x');
  auto c = client({"localhost", ticket, big});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_FALSE(hc->early_data_accepted);
  EXPECT_EQ(app_bytes(ex.server_events, true), "");
  EXPECT_EQ(app_bytes(ex.server_events), std::string(100, 'x'));
}

TEST_F(ConnectionTest, RejectedEarlyDataIsResentAfterHandshake) {
  Bytes ticket = handshake_for_ticket();
  // A server with fresh ticket keys cannot decrypt the ticket: full
  // handshake, early data rejected, bytes resent as 1-RTT.
  make_contexts(fleet.server_config(), fleet.client_config());
  auto c = client({"localhost", ticket, Bytes{'a', 'b'}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.client_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_FALSE(hc->resumed);
  EXPECT_FALSE(hc->early_data_accepted);
  EXPECT_EQ(app_bytes(ex.server_events, true), "");
  EXPECT_EQ(app_bytes(ex.server_events), "ab");
  EXPECT_EQ(client_ctx->counters().early_data_rejected.load(), 1u);
  EXPECT_EQ(server_ctx->counters().early_data_rejected.load(), 1u);
}

TEST_F(ConnectionTest, TicketKeyRotationKeepsOldKeyForItsLifetime) {
  auto sc = fleet.server_config();
  sc.ticket_key_rotation = std::chrono::seconds(60);
  sc.ticket_lifetime = std::chrono::seconds(600);
  make_contexts(sc, fleet.client_config());
  Bytes ticket = handshake_for_ticket();
  clock.advance(std::chrono::seconds(120));  // rotated, old key still decrypts
  {
    auto c = client({"localhost", ticket, {}});
    auto s = server();
    auto ex = pump(*c, *s, clock.now(), true);
    auto* hc = find_event<HandshakeComplete>(ex.server_events);
    ASSERT_NE(hc, nullptr);
    EXPECT_TRUE(hc->resumed);
    EXPECT_NE(find_event<NewSessionTicket>(ex.client_events), nullptr) << "renewed under the new key";
  }
  clock.advance(std::chrono::seconds(700));  // old key retired
  auto c = client({"localhost", ticket, {}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_FALSE(hc->resumed);
}

TEST_F(ConnectionTest, GarbageInputFailsWithProtocolError) {
  auto s = server();
  Bytes junk(64, 0x42);
  auto ev = s->feed(junk, clock.now());
  auto* f = find_event<Failed>(ev);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->error.reason, Reason::kProtocolError) << f->error.message;
  EXPECT_EQ(server_ctx->counters().failures_for(Reason::kProtocolError), 1u);
  EXPECT_FALSE(s->is_open());
  EXPECT_TRUE(s->feed(junk, clock.now()).empty()) << "no input after failure";
}

TEST_F(ConnectionTest, TruncatedClientHelloWaitsForMore) {
  auto c = client();
  c->start(clock.now());
  Bytes hello = c->take_output();
  auto s = server();
  auto ev = s->feed(ByteSpan(hello).first(hello.size() / 2), clock.now());
  EXPECT_TRUE(ev.empty());
  EXPECT_TRUE(s->is_open());
}

TEST_F(ConnectionTest, CorruptSessionFallsBackToFullHandshake) {
  Bytes ticket = handshake_for_ticket();
  ticket[ticket.size() / 2] ^= 0xff;
  ticket.resize(ticket.size() - 3);
  auto c = client({"localhost", ticket, {}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_FALSE(hc->resumed);
}

TEST_F(ConnectionTest, ServerNameIsMandatory) {
  ClientOptions o;
  EXPECT_FALSE(Connection::client(*client_ctx, o));
}

TEST_F(ConnectionTest, IdleEstablishedConnectionReleasesBuffers) {
  auto c = client();
  auto s = server();
  pump(*c, *s, clock.now(), true);
  EXPECT_TRUE(s->handshake_done());
  EXPECT_FALSE(s->has_output());
}

}  // namespace
}  // namespace armored::tls

namespace armored::tls {
namespace {

TEST_F(ConnectionTest, RevokedClientCannotResumeOldTicket) {
  Bytes ticket = handshake_for_ticket();
  fleet.issuing->revoke(fleet.gateway.serial);
  fleet.rewrite_crl();
  ASSERT_TRUE(server_ctx->reload_crl());
  auto c = client({"localhost", ticket, {}});
  auto s = server();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* f = find_event<Failed>(ex.server_events);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->error.reason, Reason::kRevoked);
  EXPECT_EQ(server_ctx->counters().failures_for(Reason::kRevoked), 1u);
  EXPECT_EQ(server_ctx->counters().resumed_handshakes.load(), 0u);
  auto* chc = find_event<HandshakeComplete>(ex.client_events);
  ASSERT_NE(chc, nullptr) << "the ticket was accepted; the post-resumption check refused it";
  EXPECT_TRUE(chc->resumed);
}

}  // namespace
}  // namespace armored::tls

namespace armored::tls {
namespace {

TEST_F(ConnectionTest, CertificatesAreJudgedAtTheTimeGivenToFeed) {
  // Fleet certificates are valid for 30 days from now; a year later the
  // server's certificate has expired, whatever the wall clock says.
  auto later = clock.now() + std::chrono::hours(24 * 365);
  auto cc = fleet.client_config();
  cc.crl_file.clear();  // otherwise the CRL's nextUpdate fails first (crl_unavailable)
  make_contexts(fleet.server_config(), cc);
  auto c = client();
  auto s = server();
  auto ex = pump(*c, *s, later, true);
  auto* f = find_event<Failed>(ex.client_events);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->error.reason, Reason::kCertExpired) << f->error.message;
}

}  // namespace
}  // namespace armored::tls

namespace armored::tls {
namespace {

TEST_F(ConnectionTest, ExpiredCrlRefusesClientCertificates) {
  // Past the CRL's nextUpdate the server cannot know who is revoked: it
  // refuses rather than accept unchecked certificates.
  auto cc = fleet.client_config();
  cc.crl_file.clear();
  make_contexts(fleet.server_config(), cc);
  auto later = clock.now() + std::chrono::hours(48);
  auto c = client();
  auto s = server();
  auto ex = pump(*c, *s, later, true);
  auto* f = find_event<Failed>(ex.server_events);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->error.reason, Reason::kCrlUnavailable) << f->error.message;
  EXPECT_EQ(server_ctx->counters().failures_for(Reason::kCrlUnavailable), 1u);
}

}  // namespace
}  // namespace armored::tls

namespace armored::tls {
namespace {

TEST_F(ConnectionTest, OversizedFeedIsRefused) {
  auto s = server();
  Bytes huge(Connection::kMaxFeed + 1, 0x16);
  auto ev = s->feed(huge, clock.now());
  auto* f = find_event<Failed>(ev);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->error.reason, Reason::kProtocolError);
}

TEST_F(ConnectionTest, WritesQueuedBeforeHandshakeArriveInOrder) {
  auto c = client();
  auto s = server();
  ASSERT_TRUE(c->write(as_bytes("one,")));
  ASSERT_TRUE(c->write(as_bytes("two")));
  ASSERT_TRUE(s->write(as_bytes("server-first")));
  auto ex = pump(*c, *s, clock.now(), true);
  EXPECT_EQ(app_bytes(ex.server_events), "one,two");
  EXPECT_EQ(app_bytes(ex.client_events), "server-first");
}

TEST_F(ConnectionTest, CloseBeforeHandshakeSendsCloseNotifyAfterIt) {
  auto c = client();
  auto s = server();
  c->close();
  EXPECT_FALSE(c->write(as_bytes("late")));
  auto ex = pump(*c, *s, clock.now(), true);
  EXPECT_NE(find_event<HandshakeComplete>(ex.server_events), nullptr);
  EXPECT_NE(find_event<Closed>(ex.server_events), nullptr);
}

TEST_F(ConnectionTest, TooMuchQueuedBeforeHandshakeIsRefused) {
  auto c = client();
  Bytes big(Connection::kMaxPendingWrite, 'x');
  ASSERT_TRUE(c->write(big));
  auto r = c->write(as_bytes("y"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Reason::kProtocolError);
}

TEST_F(ConnectionTest, WritesAfterFailedInputAreRefused) {
  auto s = server();
  Bytes junk(16, 0x00);
  (void)s->feed(junk, clock.now());
  EXPECT_FALSE(s->is_open());
  EXPECT_FALSE(s->write(as_bytes("x")));
}

}  // namespace
}  // namespace armored::tls

namespace armored::tls {
namespace {

// A gateway with a wide PUBLISH window can have ~5 MB of MQTT output after a
// reconnect: one write() refuses it, write_in_pieces() delivers all of it.
TEST_F(ConnectionTest, BacklogLargerThanOneWriteArrivesInPieces) {
  auto c = client();
  auto s = server();
  pump(*c, *s, clock.now(), true);
  ASSERT_TRUE(c->handshake_done());
  Bytes backlog(5 * Connection::kMaxPendingWrite + 123);
  for (std::size_t i = 0; i < backlog.size(); ++i) backlog[i] = static_cast<std::uint8_t>(i * 31 + i / 977);
  EXPECT_FALSE(c->write(backlog)) << "one write() is limited to kMaxPendingWrite";
  ASSERT_TRUE(c->is_open());
  EXPECT_EQ(write_in_pieces(*c, backlog), backlog.size());
  Bytes wire = c->take_output();
  Bytes got;
  for (std::size_t off = 0; off < wire.size(); off += Connection::kMaxFeed) {
    const std::size_t n = std::min(Connection::kMaxFeed, wire.size() - off);
    for (auto& e : s->feed(ByteSpan(wire).subspan(off, n), clock.now())) {
      ASSERT_EQ(std::get_if<Failed>(&e), nullptr);
      if (auto* a = std::get_if<ApplicationData>(&e)) got.insert(got.end(), a->bytes.begin(), a->bytes.end());
    }
  }
  EXPECT_EQ(got, backlog);
}

TEST_F(ConnectionTest, WriteInPiecesStopsWhereTheConnectionRefuses) {
  auto c = client();  // no handshake yet: at most kMaxPendingWrite is held
  Bytes backlog(2 * Connection::kMaxPendingWrite + 5, 'z');
  EXPECT_EQ(write_in_pieces(*c, backlog), Connection::kMaxPendingWrite);
  c->close();
  EXPECT_EQ(write_in_pieces(*c, backlog), 0u);
}

}  // namespace
}  // namespace armored::tls

// What our handshakes put on the wire: the session ticket's contents (opened
// with the server's own key ring), the ClientHello's extensions, and input
// arriving in arbitrary pieces through the connection's own BIO.
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "tls/connection.h"
#include "tls/context_impl.h"
#include "tls/test_fleet.h"

namespace armored::tls {
namespace {

using testing::find_event;
using testing::pump;

class WireSizeTest : public ::testing::Test {
 protected:
  std::unique_ptr<TlsContext> context(const TlsConfig& c) {
    auto ctx = TlsContext::create(c, clock);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message);
    return ctx ? std::move(*ctx) : nullptr;
  }

  // The serialized session the client stores after a full handshake.
  Bytes full_handshake_session(TlsContext& sc, TlsContext& cc) {
    auto c = Connection::client(cc, {"localhost", std::nullopt, {}}).value();
    auto s = Connection::server(sc).value();
    auto ex = pump(*c, *s, clock.now(), true);
    auto* t = find_event<NewSessionTicket>(ex.client_events);
    EXPECT_NE(t, nullptr);
    return t ? t->der : Bytes{};
  }

  testing::Fleet fleet;
  ManualClock clock{SystemClock().now()};
};

struct SessionPtrDel {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using Session = std::unique_ptr<SSL_SESSION, SessionPtrDel>;

Session parse_session(const Bytes& der) {
  const unsigned char* p = der.data();
  return Session(d2i_SSL_SESSION(nullptr, &p, static_cast<long>(der.size())));
}

// OpenSSL's ticket: key name (16) | IV (16) | AES-256-CBC(session) | HMAC (32).
Bytes open_ticket(TlsContext& server_ctx, const unsigned char* t, std::size_t len, Clock::TimePoint now) {
  if (len < 16 + 16 + 16 + 32) return {};
  std::array<std::uint8_t, 16> name{};
  std::copy(t, t + 16, name.begin());
  auto key = server_ctx.impl().ticket_keys->decryption_key(name, now);
  if (!key) return {};
  Bytes plain(len);
  int n1 = 0, n2 = 0;
  EVP_CIPHER_CTX* x = EVP_CIPHER_CTX_new();
  bool ok = EVP_DecryptInit_ex(x, EVP_aes_256_cbc(), nullptr, key->key.aes_key.data(), t + 16) == 1 &&
            EVP_DecryptUpdate(x, plain.data(), &n1, t + 32, static_cast<int>(len - 64)) == 1 &&
            EVP_DecryptFinal_ex(x, plain.data() + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(x);
  if (!ok) return {};
  plain.resize(static_cast<std::size_t>(n1 + n2));
  return plain;
}

// Extension types (and the legacy session id length) of the ClientHello in
// a client's first flight.
struct Hello {
  std::size_t legacy_session_id = 0;
  std::vector<std::uint16_t> types;
  Bytes signature_algorithms;
};

Hello parse_client_hello(const Bytes& flight) {
  Hello h;
  ByteReader r(flight);
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  // record header, handshake header, legacy_version, random
  EXPECT_TRUE(r.read_u8(u8) && u8 == 22);
  EXPECT_TRUE(r.skip(4 + 4 + 2 + 32));
  EXPECT_TRUE(r.read_u8(u8) && r.skip(u8));
  h.legacy_session_id = u8;
  EXPECT_TRUE(r.read_u16be(u16) && r.skip(u16));  // cipher suites
  EXPECT_TRUE(r.read_u8(u8) && r.skip(u8));       // compression methods
  std::uint16_t ext_len = 0;
  EXPECT_TRUE(r.read_u16be(ext_len));
  ByteSpan exts;
  EXPECT_TRUE(r.read_bytes(ext_len, exts));
  ByteReader e(exts);
  while (!e.empty()) {
    std::uint16_t type = 0, len = 0;
    ByteSpan body;
    if (!e.read_u16be(type) || !e.read_u16be(len) || !e.read_bytes(len, body)) {
      ADD_FAILURE() << "malformed extension";
      break;
    }
    h.types.push_back(type);
    if (type == 13) h.signature_algorithms.assign(body.begin(), body.end());
  }
  return h;
}

bool has(const Hello& h, std::uint16_t type) {
  return std::find(h.types.begin(), h.types.end(), type) != h.types.end();
}

TEST_F(WireSizeTest, TicketCarriesNoSessionIdNoHostNameAndAOneByteContext) {
  auto sc = context(fleet.server_config());
  auto cc = context(fleet.client_config());
  Bytes der = full_handshake_session(*sc, *cc);
  Session client_session = parse_session(der);
  ASSERT_TRUE(client_session);
  const unsigned char* ticket = nullptr;
  std::size_t ticket_len = 0;
  SSL_SESSION_get0_ticket(client_session.get(), &ticket, &ticket_len);
  Bytes inner = open_ticket(*sc, ticket, ticket_len, clock.now());
  ASSERT_FALSE(inner.empty()) << "the server's key ring opens its own ticket";
  EXPECT_EQ(ticket_len, 16 + 16 + (inner.size() / 16 + 1) * 16 + 32) << "CBC pads to the next block";
  Session sealed = parse_session(inner);
  ASSERT_TRUE(sealed);
  unsigned int id_len = 0, ctx_len = 0;
  SSL_SESSION_get_id(sealed.get(), &id_len);
  SSL_SESSION_get0_id_context(sealed.get(), &ctx_len);
  EXPECT_EQ(id_len, 0u) << "the 32-byte session id is dropped before sealing";
  EXPECT_EQ(ctx_len, 1u);
  EXPECT_EQ(SSL_SESSION_get0_hostname(sealed.get()), nullptr);
  // OpenSSL 3.0 keeps the client certificate in every session it seals;
  // the server re-checks it on resumption (revocation, expiry).
  EXPECT_NE(SSL_SESSION_get0_peer(sealed.get()), nullptr);
}

TEST_F(WireSizeTest, SessionWithoutIdStillResumesWithIdentity) {
  auto sc = context(fleet.server_config());
  auto cc = context(fleet.client_config());
  Bytes der = full_handshake_session(*sc, *cc);
  auto c = Connection::client(*cc, {"localhost", der, {}}).value();
  auto s = Connection::server(*sc).value();
  auto ex = pump(*c, *s, clock.now(), true);
  auto* hc = find_event<HandshakeComplete>(ex.server_events);
  ASSERT_NE(hc, nullptr);
  EXPECT_TRUE(hc->resumed);
  EXPECT_EQ(hc->peer.uri, "urn:armored:gateway:gw-1");
}

TEST_F(WireSizeTest, Tls13OnlyClientHelloCarriesNoTls12Extensions) {
  auto cc = context(fleet.client_config());
  auto c = Connection::client(*cc, {"localhost", std::nullopt, {}}).value();
  c->start(clock.now());
  Hello h = parse_client_hello(c->take_output());
  EXPECT_EQ(h.legacy_session_id, 0u) << "middlebox compatibility mode is off";
  EXPECT_FALSE(has(h, 22)) << "encrypt_then_mac";
  EXPECT_FALSE(has(h, 23)) << "extended_master_secret";
  EXPECT_FALSE(has(h, 35)) << "session_ticket (RFC 5077)";
  EXPECT_TRUE(has(h, 0)) << "server_name";
  EXPECT_TRUE(has(h, 43)) << "supported_versions";
  EXPECT_EQ(h.signature_algorithms, (Bytes{0x00, 0x02, 0x04, 0x03})) << "ecdsa_secp256r1_sha256 only";
}

TEST_F(WireSizeTest, Tls12EnabledClientHelloKeepsExtendedMasterSecret) {
  auto conf = fleet.client_config();
  conf.min_version = MinVersion::kTls12;
  auto cc = context(conf);
  auto c = Connection::client(*cc, {"localhost", std::nullopt, {}}).value();
  c->start(clock.now());
  Hello h = parse_client_hello(c->take_output());
  EXPECT_TRUE(has(h, 23)) << "TLS 1.2 without extended_master_secret is unsafe (RFC 7627)";
  EXPECT_TRUE(has(h, 35)) << "TLS 1.2 tickets";
}

TEST_F(WireSizeTest, InputArrivingOneByteAtATimeCompletesTheHandshake) {
  auto sc = context(fleet.server_config());
  auto cc = context(fleet.client_config());
  auto c = Connection::client(*cc, {"localhost", std::nullopt, {}}).value();
  auto s = Connection::server(*sc).value();
  (void)c->write(as_bytes("hello"));
  c->start(clock.now());
  std::vector<Event> server_events;
  for (int round = 0; round < 16 && !(c->handshake_done() && s->handshake_done() && !c->has_output()); ++round) {
    Bytes out = c->take_output();
    for (std::uint8_t b : out) {
      for (auto& e : s->feed(ByteSpan(&b, 1), clock.now())) server_events.push_back(std::move(e));
    }
    (void)c->feed(s->take_output(), clock.now());
  }
  ASSERT_NE(find_event<HandshakeComplete>(server_events), nullptr);
  EXPECT_EQ(testing::app_bytes(server_events), "hello");
}

}  // namespace
}  // namespace armored::tls

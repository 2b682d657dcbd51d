// tls_bench sections 2 and 3: bytes on the wire per handshake, what the
// session ticket carries, client flights to the first application byte.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "tls/context_impl.h"
#include "tls/openssl_peers.h"
#include "tls_bench.h"

namespace armored::tlsbench {

namespace {

struct Wire {
  std::size_t c2s = 0, s2c = 0;
  int flights_to_first_byte = 0;
  bool resumed = false, early = false;
  std::size_t total() const { return c2s + s2c; }
};

// In memory: counts bytes each way and the client flights (ClientHello is
// flight 1) until the server delivers the first application byte. The
// client sends one application byte ("x", or `early` as 0-RTT); the server
// sends nothing but the handshake and its ticket.
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

// The same exchange against a TCP server (openssl s_server): our client
// sends one byte without a newline (s_server -rev answers only whole
// lines), and counting stops after 300 ms without traffic.
Wire measure_wire_tcp(tls::TlsContext& client_ctx, std::uint16_t port, std::optional<Bytes> ticket,
                      Bytes* ticket_out, Clock& clock) {
  Wire w;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return w;
  }
  auto c = tls::Connection::client(client_ctx, {"localhost", std::move(ticket), {}}).value();
  (void)c->write(as_bytes("x"));
  c->start(clock.now());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    Bytes out = c->take_output();
    if (!out.empty()) {
      w.c2s += out.size();
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 300) <= 0) break;
    std::uint8_t buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    w.s2c += static_cast<std::size_t>(n);
    for (auto& e : c->feed(ByteSpan(buf, static_cast<std::size_t>(n)), clock.now())) {
      if (auto* t = std::get_if<tls::NewSessionTicket>(&e); t && ticket_out) *ticket_out = t->der;
      if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) w.resumed = hc->resumed;
    }
  }
  ::close(fd);
  return w;
}

// The ticket (OpenSSL's format: key name 16 | IV 16 | AES-256-CBC | HMAC 32)
// opened with the server's own key ring: the serialized SSL_SESSION inside.
Bytes open_ticket(tls::TlsContext& server_ctx, ByteSpan ticket, Clock& clock) {
  if (ticket.size() < 16 + 16 + 16 + 32) return {};
  std::array<std::uint8_t, 16> name{};
  std::copy(ticket.begin(), ticket.begin() + 16, name.begin());
  auto key = server_ctx.impl().ticket_keys->decryption_key(name, clock.now());
  if (!key) return {};
  Bytes plain(ticket.size());
  int n1 = 0, n2 = 0;
  EVP_CIPHER_CTX* x = EVP_CIPHER_CTX_new();
  bool ok = EVP_DecryptInit_ex(x, EVP_aes_256_cbc(), nullptr, key->key.aes_key.data(), ticket.data() + 16) == 1 &&
            EVP_DecryptUpdate(x, plain.data(), &n1, ticket.data() + 32, static_cast<int>(ticket.size() - 64)) == 1 &&
            EVP_DecryptFinal_ex(x, plain.data() + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(x);
  if (!ok) return {};
  plain.resize(static_cast<std::size_t>(n1 + n2));
  return plain;
}

// Field names of OpenSSL 3.0's SSL_SESSION_ASN1, by position (universal
// tags) or context tag.
const char* session_field(std::size_t index, std::uint8_t tag) {
  static const char* const kUniversal[] = {"format version", "protocol version", "cipher suite",
                                           "session id", "resumption secret (PSK)"};
  if ((tag & 0xC0) == 0 && index < 5) return kUniversal[index];
  switch (tag & 0x1F) {
    case 1: return "time";
    case 2: return "timeout";
    case 3: return "peer certificate (client leaf)";
    case 4: return "session id context";
    case 5: return "verify result";
    case 6: return "SNI host name";
    case 9: return "ticket lifetime hint";
    case 13: return "flags";
    case 14: return "ticket age add";
    case 15: return "max early data";
    case 16: return "ALPN";
    case 18: return "ticket app data";
    case 19: return "key exchange group";
    default: return "other";
  }
}

// Prints each top-level field of the DER session with its size in bytes.
void print_session_fields(const Bytes& der) {
  ByteReader r(der);
  std::uint8_t tag = 0, len0 = 0;
  auto read_len = [&](std::size_t& len) {
    if (!r.read_u8(len0)) return false;
    if (len0 < 0x80) {
      len = len0;
      return true;
    }
    std::uint64_t v = 0;
    if (!r.read_uint_be(len0 & 0x7F, v)) return false;
    len = static_cast<std::size_t>(v);
    return true;
  };
  std::size_t outer = 0;
  if (!r.read_u8(tag) || !read_len(outer)) return;
  std::size_t header = der.size() - outer;
  std::printf("     %-34s %4zu\n", "SEQUENCE header", header);
  for (std::size_t i = 0; r.remaining() > 0; ++i) {
    std::size_t before = r.remaining(), len = 0;
    ByteSpan body;
    if (!r.read_u8(tag) || !read_len(len) || !r.read_bytes(len, body)) return;
    std::printf("     %-34s %4zu\n", session_field(i, tag), before - r.remaining());
  }
}

std::size_t der_size(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = b ? PEM_read_bio_X509(b, nullptr, nullptr, nullptr) : nullptr;
  int n = x ? i2d_X509(x, nullptr) : 0;
  X509_free(x);
  BIO_free(b);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void ticket_anatomy(tls::TlsContext& server_ctx, const Bytes& session_der, const testing::Fleet& fleet,
                    Clock& clock) {
  const unsigned char* p = session_der.data();
  SSL_SESSION* sess = d2i_SSL_SESSION(nullptr, &p, static_cast<long>(session_der.size()));
  const unsigned char* tick = nullptr;
  std::size_t tick_len = 0;
  if (sess) SSL_SESSION_get0_ticket(sess, &tick, &tick_len);
  Bytes ticket(tick, tick + tick_len);
  SSL_SESSION_free(sess);
  Bytes inner = open_ticket(server_ctx, ticket, clock);
  std::printf("   ticket on the wire: %zu bytes = key name 16 + IV 16 + HMAC 32 + AES-CBC %zu"
              " (session %zu + padding %zu)\n",
              tick_len, tick_len - 64, inner.size(), tick_len - 64 - inner.size());
  std::printf("   client leaf certificate: %zu bytes DER; the session inside the ticket:\n",
              der_size(fleet.gateway.cert_pem));
  print_session_fields(inner);
}

}  // namespace

void wire_and_flights(const testing::Fleet& fleet, Clock& clock, const char* label, bool with_reference) {
  auto sc = make_ctx(fleet.server_config(), clock);
  auto cc = make_ctx(fleet.client_config(), clock);
  auto psk_sc_conf = fleet.server_config();
  auto psk_cc_conf = fleet.client_config();
  psk_sc_conf.resumption = psk_cc_conf.resumption = tls::ResumptionMode::kPskKe;
  auto psk_sc = make_ctx(psk_sc_conf, clock);
  auto psk_cc = make_ctx(psk_cc_conf, clock);

  Bytes ticket, t2, t3, psk_ticket, unused;
  Wire full = measure_wire(*cc, *sc, std::nullopt, {}, &ticket, clock);
  Wire resumed = measure_wire(*cc, *sc, ticket, {}, &t2, clock);
  // The server renews tickets only when their key rotated; reuse otherwise.
  Wire zero = measure_wire(*cc, *sc, t2.empty() ? ticket : t2, Bytes{'x'}, &t3, clock);
  Wire psk_full = measure_wire(*psk_cc, *psk_sc, std::nullopt, {}, &psk_ticket, clock);
  Wire psk = measure_wire(*psk_cc, *psk_sc, psk_ticket, {}, &unused, clock);

  std::printf("\n2. Bytes on the wire per handshake incl. tickets and 1 app byte; certificates: %s\n", label);
  std::printf("   %-22s %12s %12s %10s %8s\n", "handshake", "client->srv", "srv->client", "total", "vs full");
  auto row = [&](const char* n, const Wire& w, const Wire& base, bool want_resumed) {
    std::printf("   %-22s %12zu %12zu %10zu %7.1f%%%s\n", n, w.c2s, w.s2c, w.total(),
                100.0 * static_cast<double>(w.total()) / static_cast<double>(base.total()),
                (want_resumed && !w.resumed) ? "  (NOT resumed)" : "");
  };
  row("armored full", full, full, false);
  row("armored resumed", resumed, full, true);
  row("armored 0-RTT", zero, full, true);
  // OpenSSL 3.0's client always offers psk_dhe_ke too, and its server then
  // picks it: configuring psk_ke saves no bytes between OpenSSL peers.
  row("armored resumed, psk_ke", psk, psk_full, true);
  if (with_reference) {
    Bytes s_ticket, s_unused;
    testing::OpensslServer srv(fleet, {"-rev", "-quiet"});
    Wire s_full = measure_wire_tcp(*cc, srv.port(), std::nullopt, &s_ticket, clock);
    Wire s_res = measure_wire_tcp(*cc, srv.port(), s_ticket, &s_unused, clock);
    row("s_server full", s_full, s_full, false);
    row("s_server resumed", s_res, s_full, true);
  }
  ticket_anatomy(*sc, ticket, fleet, clock);

  std::printf("\n3. Client flights until the first application byte reaches the server (%s)\n", label);
  std::printf("   full: flight %d (%d RTT)   resumed: flight %d (%d RTT)   0-RTT: flight %d (%d RTT, early=%s)\n",
              full.flights_to_first_byte, full.flights_to_first_byte - 1, resumed.flights_to_first_byte,
              resumed.flights_to_first_byte - 1, zero.flights_to_first_byte, zero.flights_to_first_byte - 1,
              zero.early ? "accepted" : "REJECTED");
}

}  // namespace armored::tlsbench

// tls_bench section 4: heap held per idle established server connection,
// for our server and for a plain OpenSSL server with `openssl s_server`'s
// defaults, and which allocations make up ours.

#include <fcntl.h>
#include <malloc.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls_bench.h"

namespace armored::tlsbench {

namespace {

constexpr int kConnections = 200;

// OpenSSL allocation counter: while `on`, every allocation is remembered
// with its size and source line until freed.
struct LiveAllocation {
  std::size_t size;
  const char* file;
  int line;
};
std::mutex g_mu;
std::atomic<bool> g_on{false};
std::atomic<bool> g_watching{false};  // frees must be looked up
std::unordered_map<void*, LiveAllocation>* g_live = nullptr;

void* counting_malloc(std::size_t n, const char* file, int line) {
  void* p = std::malloc(n);
  if (p != nullptr && g_on.load(std::memory_order_relaxed)) {
    std::lock_guard lock(g_mu);
    (*g_live)[p] = {n, file, line};
  }
  return p;
}

void counting_free(void* p, const char*, int) {
  if (p != nullptr && g_watching.load(std::memory_order_relaxed)) {
    std::lock_guard lock(g_mu);
    g_live->erase(p);
  }
  std::free(p);
}

void* counting_realloc(void* p, std::size_t n, const char* file, int line) {
  if (p != nullptr && g_watching.load(std::memory_order_relaxed)) {
    std::lock_guard lock(g_mu);
    g_live->erase(p);
  }
  void* q = std::realloc(p, n);
  if (q != nullptr && g_on.load(std::memory_order_relaxed)) {
    std::lock_guard lock(g_mu);
    (*g_live)[q] = {n, file, line};
  }
  return q;
}

// What an allocation site holds, by the OpenSSL source file that allocates.
const char* category(const std::string& file) {
  static const std::pair<const char*, const char*> kRules[] = {
      {"ssl/ssl_lib.c", "SSL object (SSL_new)"},
      {"cipher_aes_gcm.c", "AES-GCM record keys, read + write"},
      {"evp/evp_enc.c", "AES-GCM record keys, read + write"},
      {"ssl/ssl_sess.c", "SSL_SESSION"},
      {"ssl/ssl_cert.c", "per-connection copy of our cert settings (CERT)"},
      {"sha2_prov.c", "transcript hash (kept by OpenSSL after the handshake)"},
      {"evp/digest.c", "transcript hash (kept by OpenSSL after the handshake)"},
      {"ecx_key.c", "X25519 key shares (ours and the peer's)"},
      {"evp/p_lib.c", "EVP_PKEY objects (certificate keys, key shares)"},
      {"crypto/x509/x509_vpm.c", "verify parameters"},
      {"crypto/x509/", "parsed client certificates"},
      {"crypto/asn1/", "parsed client certificates"},
      {"crypto/bn/", "parsed client certificates (EC public keys)"},
      {"crypto/ec/", "parsed client certificates (EC public keys)"},
      {"threads_pthread.c", "locks (one per certificate, key, session, ...)"},
      {"stack/stack.c", "stacks (peer chain, verified chain, peer ciphers)"},
      {"crypto/bio/", "BIO"},
      {"crypto/buffer/", "buffers"},
  };
  for (auto& [needle, name] : kRules) {
    if (file.find(needle) != std::string::npos) return name;
  }
  return "other";
}

using Conn = std::unique_ptr<tls::Connection>;

// One client and one server connection, handshake done, one application
// message each way, then idle. Allocations are counted only inside the
// server's calls when `count` is set.
void establish(tls::TlsContext& cc, tls::TlsContext& sc, Clock& clock, Conn& c, Conn& s, bool count) {
  auto counted = [&](auto&& fn) {
    if (count) g_on = true;
    fn();
    g_on = false;
  };
  c = tls::Connection::client(cc, {"localhost", std::nullopt, {}}).value();
  counted([&] { s = tls::Connection::server(sc).value(); });
  c->start(clock.now());
  for (int round = 0; round < 16; ++round) {
    Bytes out = c->take_output();
    Bytes back;
    counted([&] {
      if (!out.empty()) (void)s->feed(out, clock.now());
      back = s->take_output();
    });
    (void)c->feed(back, clock.now());
    if (out.empty() && back.empty()) break;
  }
  (void)c->write(as_bytes("reading"));
  Bytes msg = c->take_output();
  Bytes ack;
  counted([&] {
    (void)s->feed(msg, clock.now());
    (void)s->write(as_bytes("ack"));
    ack = s->take_output();
  });
  (void)c->feed(ack, clock.now());
}

// Heap in use with N idle pairs minus heap after destroying the N server
// connections (clients stay alive throughout), per connection. `fill`
// establishes the N pairs in a `Servers`.
template <typename Servers, typename Fill>
double heap_per_connection(Fill fill) {
  Servers servers;
  fill(servers);
  malloc_trim(0);
  auto with_servers = mallinfo2().uordblks;
  servers.reset_servers();
  malloc_trim(0);
  auto without_servers = mallinfo2().uordblks;
  return static_cast<double>(with_servers - without_servers) / kConnections;
}

struct OurServers {
  std::unique_ptr<tls::TlsContext> sc, cc;
  std::vector<Conn> servers, clients;
  void reset_servers() { servers.clear(); }
};

void our_idle_servers(OurServers& o, const tls::TlsConfig& sconf, const tls::TlsConfig& cconf, Clock& clock) {
  o.sc = make_ctx(sconf, clock);
  o.cc = make_ctx(cconf, clock);
  for (int i = 0; i < kConnections; ++i) {
    Conn c, s;
    establish(*o.cc, *o.sc, clock, c, s, false);
    o.servers.push_back(std::move(s));
    o.clients.push_back(std::move(c));
  }
}

// The reference: a plain OpenSSL server with `openssl s_server`'s defaults
// (-Verify 1 -CAfile -CRLfile, session id context, 2 tickets, no
// SSL_MODE_RELEASE_BUFFERS, middlebox compatibility on) reading and
// writing a socket as s_server does (a socketpair here), driven by our client.
struct ReferenceServers {
  SSL_CTX* ctx = nullptr;
  std::unique_ptr<tls::TlsContext> cc;
  std::vector<SSL*> servers;
  std::vector<Conn> clients;
  std::vector<int> fds;
  ReferenceServers() = default;
  ReferenceServers(const ReferenceServers&) = delete;
  ReferenceServers& operator=(const ReferenceServers&) = delete;
  void reset_servers() {
    for (SSL* s : servers) SSL_free(s);
    servers.clear();
  }
  ~ReferenceServers() {
    reset_servers();
    for (int fd : fds) ::close(fd);
    SSL_CTX_free(ctx);
  }
};

void drain_socket(int fd, tls::Connection& c, Clock& clock) {
  std::uint8_t buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    (void)c.feed(ByteSpan(buf, static_cast<std::size_t>(n)), clock.now());
  }
}

void write_all(int fd, const Bytes& b) {
  std::size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::write(fd, b.data() + off, b.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

void reference_idle_servers(ReferenceServers& r, const testing::Fleet& fleet, Clock& clock) {
  r.ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate_chain_file(r.ctx, fleet.server_chain.c_str());
  SSL_CTX_use_PrivateKey_file(r.ctx, fleet.server_key.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(r.ctx, fleet.ca_file.c_str(), nullptr);
  X509_STORE* store = SSL_CTX_get_cert_store(r.ctx);
  X509_load_crl_file(X509_STORE_add_lookup(store, X509_LOOKUP_file()), fleet.crl_file.c_str(), X509_FILETYPE_PEM);
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  static const unsigned char kContext[] = {1, 0, 0, 0};  // s_server's: an int 1
  SSL_CTX_set_session_id_context(r.ctx, kContext, sizeof kContext);
  r.cc = make_ctx(fleet.client_config(), clock);
  for (int i = 0; i < kConnections; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) break;
    r.fds.insert(r.fds.end(), {sv[0], sv[1]});
    SSL* s = SSL_new(r.ctx);
    SSL_set_fd(s, sv[0]);
    SSL_set_accept_state(s);
    auto c = tls::Connection::client(*r.cc, {"localhost", std::nullopt, {}}).value();
    c->start(clock.now());
    std::uint8_t buf[256];
    for (int round = 0; round < 16; ++round) {
      write_all(sv[1], c->take_output());
      if (SSL_is_init_finished(s)) {
        std::size_t n = 0;
        (void)SSL_read_ex(s, buf, sizeof buf, &n);
      } else {
        (void)SSL_do_handshake(s);
      }
      drain_socket(sv[1], *c, clock);
      if (SSL_is_init_finished(s) && c->handshake_done() && !c->has_output()) break;
    }
    (void)c->write(as_bytes("reading"));
    write_all(sv[1], c->take_output());
    std::size_t n = 0;
    (void)SSL_read_ex(s, buf, sizeof buf, &n);
    (void)SSL_write_ex(s, "ack", 3, &n);
    drain_socket(sv[1], *c, clock);
    ERR_clear_error();
    r.servers.push_back(s);
    r.clients.push_back(std::move(c));
  }
}

// Leaf-only variant: the gateway sends its leaf alone and the server's CA
// file also holds the issuing CA (chain.pem from `armored pki`), so the
// server parses one certificate per connection instead of two.
void leaf_only(const testing::Fleet& fleet, tls::TlsConfig& sconf, tls::TlsConfig& cconf) {
  auto issuing = testing::slurp(fleet.issuing_file);
  testing::write_text(fleet.dir / "ca_and_issuing.pem", testing::slurp(fleet.ca_file) + issuing);
  testing::write_text(fleet.dir / "gateway_leaf.pem", fleet.gateway.cert_pem);
  sconf.ca_file = fleet.dir / "ca_and_issuing.pem";
  cconf.cert_chain = fleet.dir / "gateway_leaf.pem";
  cconf.intermediates.clear();
}

// Which OpenSSL allocations one idle server connection holds, summed by
// category (requested sizes, without malloc's own overhead).
void attribute(const testing::Fleet& fleet, Clock& clock) {
  constexpr int kSample = 50;
  auto sc = make_ctx(fleet.server_config(), clock);
  auto cc = make_ctx(fleet.client_config(), clock);
  std::vector<Conn> servers, clients;
  g_watching = true;
  for (int i = 0; i < kSample; ++i) {
    Conn c, s;
    establish(*cc, *sc, clock, c, s, true);
    servers.push_back(std::move(s));
    clients.push_back(std::move(c));
  }
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_category;
  std::size_t total = 0, count = 0;
  {
    std::lock_guard lock(g_mu);
    for (auto& [p, a] : *g_live) {
      auto& slot = by_category[category(a.file ? a.file : "")];
      slot.first += a.size;
      slot.second += 1;
      total += a.size;
      ++count;
    }
  }
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> rows(by_category.begin(),
                                                                                  by_category.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
  std::printf("   OpenSSL allocations held per idle armored server connection (chain from the gateway):\n");
  for (auto& [name, v] : rows) {
    std::printf("     %-58s %6.0f bytes in %5.1f allocations\n", name.c_str(),
                static_cast<double>(v.first) / kSample, static_cast<double>(v.second) / kSample);
  }
  std::printf("     %-58s %6.0f bytes in %5.1f allocations\n", "total requested from malloc",
              static_cast<double>(total) / kSample, static_cast<double>(count) / kSample);
  servers.clear();
  clients.clear();
  g_watching = false;
  std::lock_guard lock(g_mu);
  g_live->clear();
}

}  // namespace

void install_openssl_allocation_counter() {
  g_live = new std::unordered_map<void*, LiveAllocation>();  // lives for the process
  CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free);
}

void idle_memory(const testing::Fleet& fleet, Clock& clock) {
  std::printf("\n4. Memory held per idle established server connection (%d connections, heap in use via mallinfo2)\n",
              kConnections);
  auto sconf = fleet.server_config();
  auto cconf = fleet.client_config();
  double ours = heap_per_connection<OurServers>([&](OurServers& o) { our_idle_servers(o, sconf, cconf, clock); });
  auto no_release = sconf;
  no_release.release_buffers = false;
  double ours_no_release = heap_per_connection<OurServers>([&](OurServers& o) { our_idle_servers(o, no_release, cconf, clock); });
  auto lsconf = sconf;
  auto lcconf = cconf;
  leaf_only(fleet, lsconf, lcconf);
  double ours_leaf = heap_per_connection<OurServers>([&](OurServers& o) { our_idle_servers(o, lsconf, lcconf, clock); });
  double reference = heap_per_connection<ReferenceServers>([&](ReferenceServers& r) { reference_idle_servers(r, fleet, clock); });
  auto kib = [](double b) { return b / 1024; };
  std::printf("   %-58s %8.0f bytes (%.1f KiB)\n", "armored (default: release buffers, no idle buffers)", ours, kib(ours));
  std::printf("   %-58s %8.0f bytes (%.1f KiB)\n", "armored, gateway sends its leaf only", ours_leaf, kib(ours_leaf));
  std::printf("   %-58s %8.0f bytes (%.1f KiB)\n", "armored without SSL_MODE_RELEASE_BUFFERS", ours_no_release,
              kib(ours_no_release));
  std::printf("   %-58s %8.0f bytes (%.1f KiB)\n", "reference: OpenSSL with s_server's defaults, socket BIO",
              reference, kib(reference));
  attribute(fleet, clock);
}

}  // namespace armored::tlsbench

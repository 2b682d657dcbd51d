#include "audit/tls_probe.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "audit/internal/net.h"
#include "audit/pcap_protocols.h"
#include "audit/internal/tls_chain.h"
#include "ossl/ossl.h"

namespace armored::audit {

namespace {

constexpr RuleInfo kRules[] = {
    {"tls-protocol-obsolete", Severity::kHigh, "Server accepts a TLS version below 1.2",
     "TLS 1.0 and 1.1 lack AEAD suites and modern signatures; clients that still offer them "
     "can be pushed down to them.",
     "Set the server's minimum protocol to TLS 1.2 (TLS 1.3 where every client supports it)."},
    {"tls13-not-supported", Severity::kLow, "Server does not accept TLS 1.3",
     "TLS 1.3 removes the weak key exchanges and ciphers and encrypts more of the handshake.",
     "Enable TLS 1.3 on the server."},
    {"tls-cipher-non-aead", Severity::kMedium, "TLS 1.2 suites without AEAD accepted",
     "MAC-then-encrypt suites have a history of padding-oracle and timing attacks (Lucky13, "
     "POODLE-style).",
     "Accept only AES-GCM or ChaCha20-Poly1305 suites in TLS 1.2."},
    {"tls-cipher-cbc", Severity::kMedium, "TLS 1.2 CBC suites accepted",
     "CBC suites in TLS are MAC-then-encrypt and prone to padding oracles.",
     "Remove CBC suites; keep ECDHE with AES-GCM or ChaCha20-Poly1305."},
    {"tls-cipher-rsa-kex", Severity::kHigh, "TLS 1.2 RSA key exchange accepted",
     "With RSA key exchange there is no forward secrecy: whoever gets the server key later "
     "decrypts every recorded session; it is also the target of Bleichenbacher-style attacks.",
     "Offer only ECDHE key exchange."},
    {"tls-cipher-no-ecdhe", Severity::kMedium, "TLS 1.2 suites without ECDHE accepted",
     "Static RSA or finite-field DHE key exchange is slower and weaker (no or costly forward "
     "secrecy, small-group risks).",
     "Offer ECDHE suites only."},
    {"tls-cipher-weak", Severity::kHigh, "Broken TLS suites accepted (NULL, anonymous, RC4, 3DES, export)",
     "These suites give no confidentiality or authentication, or have practical attacks.",
     "Remove them from the server's cipher list."},
    {"tls13-ccm8", Severity::kLow, "TLS_AES_128_CCM_8_SHA256 accepted",
     "CCM_8 has a 64-bit tag, below the security margin of the other TLS 1.3 suites.",
     "Disable TLS_AES_128_CCM_8_SHA256 unless a constrained peer needs it."},
    {"tls-cert-expired", Severity::kHigh, "Server certificate expired",
     "Clients that verify refuse the connection; clients that accept it have verification "
     "off.",
     "Renew the certificate and automate renewal."},
    {"tls-cert-not-yet-valid", Severity::kHigh, "Server certificate not yet valid",
     "Verifying clients refuse it; often a sign of a wrong clock.", "Check clocks and reissue."},
    {"tls-cert-expiring", Severity::kMedium, "Server certificate expires within 30 days",
     "Devices in the field cannot connect once it expires.", "Renew it now and automate renewal."},
    {"tls-cert-weak-key", Severity::kHigh, "Weak certificate key",
     "RSA/DSA keys below 2048 bits and EC keys below 256 bits are within reach of attackers.",
     "Reissue with an EC P-256/P-384 or RSA-3072 key."},
    {"tls-cert-weak-signature", Severity::kHigh, "Certificate signed with MD5 or SHA-1",
     "Collisions against MD5 and SHA-1 allow forged certificates.",
     "Reissue with a SHA-256 (or stronger) signature."},
    {"tls-cert-hostname-mismatch", Severity::kHigh, "Certificate does not match the host name",
     "Verifying clients refuse it; clients that accept it do not check names and can be "
     "redirected to any server with any certificate.",
     "Issue the certificate for the names (SAN) clients use."},
    {"tls-cert-self-signed", Severity::kHigh, "Self-signed server certificate",
     "Clients can only trust it by pinning it or by turning verification off, which is what "
     "usually happens.",
     "Use a certificate from your own CA (or a public CA) and give devices that CA."},
    {"tls-cert-untrusted", Severity::kHigh, "Certificate chain does not verify to the trusted CA",
     "Verifying clients refuse it; clients that connect anyway have verification off.",
     "Serve the full chain up to the CA the clients trust."},
    {"tls-no-client-auth", Severity::kMedium, "Server does not ask for a client certificate",
     "Without mutual TLS any client that reaches the port can connect; device identity rests "
     "on passwords or nothing.",
     "Require client certificates (mutual TLS) issued by your device CA."},
    {"tls-client-auth-optional", Severity::kLow, "Client certificate requested but not required",
     "Clients without a certificate are still let in.",
     "Require the client certificate (e.g. SSL_VERIFY_PEER with FAIL_IF_NO_PEER_CERT)."},
    // Info, not a flaw by itself: whether 0-RTT is safe depends on what the
    // application accepts in it (RFC 8446 section 8), which no probe can see.
    {"tls-early-data", Severity::kInfo, "0-RTT early data accepted",
     "Early data can be replayed by an attacker; it is safe only when the application accepts "
     "nothing but replay-safe messages in it.",
     "Confirm the application refuses non-idempotent early data (or detects replays); otherwise "
     "disable 0-RTT."},
    {"mqtt-plaintext-anonymous", Severity::kCritical, "Plaintext MQTT broker accepts anonymous clients",
     "Anyone who reaches the port can subscribe to every topic and publish commands, and all "
     "traffic is in clear.",
     "Close port 1883; serve MQTT on 8883 with TLS and require client certificates or "
     "credentials."},
    {"mqtt-plaintext-listener", Severity::kHigh, "Plaintext MQTT broker answers",
     "Clients that log in here send their credentials and data in clear.",
     "Close port 1883 and serve MQTT over TLS on 8883 only."},
};

const RuleInfo& rule(std::string_view id) {
  for (const auto& r : kRules) {
    if (r.id == id) return r;
  }
  return kRules[0];
}

using CtxPtr = ossl::SslCtxPtr;
using ossl::ChainPtr;
using ossl::SessionPtr;
using ossl::SslPtr;


// What the handshake showed, collected by the message callback.
struct Observed {
  std::optional<ServerHelloInfo> server_hello;
  bool cert_request = false;
  int alert = -1;
};

void on_message(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* arg) {
  auto* o = static_cast<Observed*>(arg);
  const auto* b = static_cast<const std::uint8_t*>(buf);
  if (write_p || o == nullptr) return;
  if (content_type == SSL3_RT_HANDSHAKE && len >= 4) {
    if (b[0] == SSL3_MT_SERVER_HELLO && !o->server_hello) {
      o->server_hello = parse_server_hello(ByteSpan(b + 4, len - 4));
    } else if (b[0] == SSL3_MT_CERTIFICATE_REQUEST) {
      o->cert_request = true;
    }
  } else if (content_type == SSL3_RT_ALERT && len >= 2) {
    o->alert = b[1];
  }
}

std::string drain_openssl_errors() {
  std::string first;
  while (unsigned long e = ERR_get_error()) {
    if (first.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof(buf));
      first = buf;
    }
  }
  return first;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

struct Attempt {
  bool tcp = false;
  bool completed = false;
  bool rejected_after_handshake = false;  // alert right after our Finished
  Observed seen;
  std::string error;
  int version = 0;
  const SSL_CIPHER* cipher = nullptr;
  bool reused = false;
  ChainPtr chain;
  SessionPtr session;
  bool hello_with(int v) const {
    return seen.server_hello && seen.server_hello->version() == static_cast<std::uint16_t>(v);
  }
};

class Prober {
 public:
  explicit Prober(const TlsProbeOptions& o) : o_(o) {
    name_ = o.sni.empty() ? o.host : o.sni;
  }

  // A context that can offer anything from `min` to `max`: security level 0
  // so old versions and suites are even put on the wire. The verify mode
  // stays at the fresh-context default: the probe reads the chain and
  // verifies it itself afterwards.
  CtxPtr context(int min, int max, const std::string& ciphers12, const std::string& suites13,
                 bool with_client_cert = true) const {
    CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return ctx;
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), min);
    SSL_CTX_set_max_proto_version(ctx.get(), max);
    SSL_CTX_set_options(ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT);
    std::string list = ciphers12.empty() ? "ALL:COMPLEMENTOFALL:@SECLEVEL=0" : ciphers12;
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1) {
      drain_openssl_errors();
      if (max <= TLS1_2_VERSION) return CtxPtr();
    }
    if (!suites13.empty() && SSL_CTX_set_ciphersuites(ctx.get(), suites13.c_str()) != 1) {
      drain_openssl_errors();
      return CtxPtr();
    }
    if (with_client_cert && !o_.client_cert.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx.get(), o_.client_cert.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx.get(), o_.client_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        client_cert_error_ = drain_openssl_errors();
      } else if (!o_.client_chain.empty() && !add_chain(ctx.get())) {
        client_cert_error_ = "cannot load " + o_.client_chain + ": " + drain_openssl_errors();
      }
    }
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
    return ctx;
  }

  // One handshake; `post_read` waits briefly afterwards for tickets or a
  // rejection alert. No application data is ever written.
  Attempt handshake(SSL_CTX* ctx, SSL_SESSION* resume = nullptr, bool post_read = false) const {
    Attempt a;
    auto now = std::chrono::steady_clock::now;
    auto step = std::chrono::milliseconds(o_.timeout_ms);
    auto sock = connect_tcp(o_.host, o_.port, now() + step);
    if (!sock) {
      a.error = sock.error().message;
      return a;
    }
    a.tcp = true;
    SslPtr ssl(SSL_new(ctx));
    if (!ssl) {
      a.error = drain_openssl_errors();
      return a;
    }
    SSL_set_fd(ssl.get(), sock->fd());
    if (!is_ip_literal(name_)) SSL_set_tlsext_host_name(ssl.get(), name_.c_str());
    SSL_set_msg_callback(ssl.get(), on_message);
    SSL_set_msg_callback_arg(ssl.get(), &a.seen);
    if (resume) SSL_set_session(ssl.get(), resume);
    auto deadline = now() + step;
    for (;;) {
      int rc = SSL_connect(ssl.get());
      if (rc == 1) {
        a.completed = true;
        break;
      }
      int err = SSL_get_error(ssl.get(), rc);
      if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
          wait_fd(sock->fd(), err == SSL_ERROR_WANT_WRITE, deadline)) {
        continue;
      }
      a.error = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? "handshake timed out"
                                                                          : drain_openssl_errors();
      if (a.error.empty()) a.error = "connection closed during handshake";
      break;
    }
    if (a.completed && post_read) {
      auto until = now() + std::min(step, std::chrono::milliseconds(1000));
      char buf[256];
      for (;;) {
        int n = SSL_read(ssl.get(), buf, sizeof(buf));
        if (n > 0) continue;
        int err = SSL_get_error(ssl.get(), n);
        if (err == SSL_ERROR_WANT_READ && wait_fd(sock->fd(), false, until)) continue;
        if (err != SSL_ERROR_WANT_READ && a.seen.alert >= 0 && a.seen.alert != 0) {
          a.rejected_after_handshake = true;  // 0 is close_notify
        }
        break;
      }
      drain_openssl_errors();
    }
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get())) a.chain.reset(X509_chain_up_ref(chain));
    if (a.completed) {
      a.version = SSL_version(ssl.get());
      a.cipher = SSL_get_current_cipher(ssl.get());
      a.reused = SSL_session_reused(ssl.get()) == 1;
      a.session.reset(SSL_get1_session(ssl.get()));
      if (!a.rejected_after_handshake) SSL_shutdown(ssl.get());
    }
    drain_openssl_errors();
    return a;
  }

  const std::string& name() const { return name_; }
  const std::string& client_cert_error() const { return client_cert_error_; }

 private:
  // Appends every certificate of --client-chain to the client certificate's
  // chain: a leaf issued under an intermediate CA is rejected without it.
  bool add_chain(SSL_CTX* ctx) const {
    ossl::BioPtr bio(BIO_new_file(o_.client_chain.c_str(), "r"));
    if (!bio) return false;
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      if (SSL_CTX_add0_chain_cert(ctx, cert) != 1) {
        X509_free(cert);
        return false;
      }
      ++added;
    }
    ERR_clear_error();  // the loop ends on "no start line"
    return added > 0;
  }

  const TlsProbeOptions& o_;
  std::string name_;
  mutable std::string client_cert_error_;
};

std::string cipher_name(const SSL_CIPHER* c) {
  const char* std_name = SSL_CIPHER_standard_name(c);
  return std_name ? std_name : SSL_CIPHER_get_name(c);
}

struct SuiteTraits {
  bool aead, cbc, rsa_kex, ecdhe, weak;
};

SuiteTraits traits(const SSL_CIPHER* c) {
  std::string n = cipher_name(c);
  int kx = SSL_CIPHER_get_kx_nid(c);
  int auth = SSL_CIPHER_get_auth_nid(c);
  SuiteTraits t{};
  t.aead = SSL_CIPHER_is_aead(c) == 1;
  t.cbc = n.find("_CBC_") != std::string::npos;
  t.rsa_kex = kx == NID_kx_rsa;
  t.ecdhe = kx == NID_kx_ecdhe || kx == NID_kx_ecdhe_psk;
  t.weak = n.find("NULL") != std::string::npos || n.find("RC4") != std::string::npos ||
           n.find("3DES") != std::string::npos || n.find("_DES_") != std::string::npos ||
           n.find("EXPORT") != std::string::npos || n.find("anon") != std::string::npos ||
           n.find("MD5") != std::string::npos || auth == NID_auth_null;
  return t;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

}  // namespace

std::span<const RuleInfo> tls_rules() { return kRules; }

Expected<Report> audit_tls(const TlsProbeOptions& o) {
  Report report;
  report.command = "tls";
  std::string endpoint = o.host + ":" + std::to_string(o.port);
  if (o.host.find(':') != std::string::npos) endpoint = "[" + o.host + "]:" + std::to_string(o.port);
  report.targets.push_back(endpoint);
  report.rules.assign(kRules, kRules + std::size(kRules));
  Prober p(o);
  auto add = [&](std::string_view id, std::string evidence, std::string message = {}) {
    Location where;
    where.endpoint = endpoint;
    report.findings.push_back(make_finding(rule(id), where, std::move(evidence), std::move(message)));
  };

  // 1. Protocol versions, one at a time.
  struct Version {
    int v;
    const char* name;
  };
  const Version kVersions[] = {{TLS1_VERSION, "TLS 1.0"}, {TLS1_1_VERSION, "TLS 1.1"},
                               {TLS1_2_VERSION, "TLS 1.2"}, {TLS1_3_VERSION, "TLS 1.3"}};
  std::map<int, bool> accepted;
  bool reached = false;
  std::string last_error;
  nlohmann::json versions = nlohmann::json::object();
  for (const auto& v : kVersions) {
    auto ctx = p.context(v.v, v.v, "", "");
    if (!ctx) continue;
    Attempt a = p.handshake(ctx.get());
    reached = reached || a.tcp;
    if (!a.tcp) last_error = a.error;
    accepted[v.v] = a.hello_with(v.v);
    versions[v.name] = accepted[v.v];
    report.summary.push_back(std::string(v.name) + ": " + (accepted[v.v] ? "accepted" : "not accepted"));
    if (accepted[v.v] && v.v < TLS1_2_VERSION) {
      add("tls-protocol-obsolete", std::string(v.name) + " handshake answered with a ServerHello",
          std::string("Server accepts ") + v.name);
    }
  }
  if (!reached) return fail(last_error.empty() ? "cannot reach " + endpoint : last_error);
  if (!accepted[TLS1_3_VERSION]) add("tls13-not-supported", "TLS 1.3 ClientHello refused");
  report.details["versions"] = versions;

  // 2. TLS 1.2 suites: offer everything, remove what the server picked, repeat.
  nlohmann::json suites12 = nlohmann::json::array();
  if (accepted[TLS1_2_VERSION]) {
    std::string exclude;
    std::vector<std::string> non_aead, cbc, rsa, no_ecdhe, weak;
    for (int i = 0; i < 200; ++i) {
      auto ctx = p.context(TLS1_2_VERSION, TLS1_2_VERSION, "ALL:COMPLEMENTOFALL" + exclude + ":@SECLEVEL=0", "");
      if (!ctx) break;
      Attempt a = p.handshake(ctx.get());
      if (!a.seen.server_hello) break;
      std::uint8_t id[2] = {static_cast<std::uint8_t>(a.seen.server_hello->cipher_suite >> 8),
                            static_cast<std::uint8_t>(a.seen.server_hello->cipher_suite)};
      SslPtr tmp(SSL_new(ctx.get()));
      const SSL_CIPHER* c = tmp ? SSL_CIPHER_find(tmp.get(), id) : nullptr;
      if (!c) break;
      std::string n = cipher_name(c);
      suites12.push_back(n);
      exclude += std::string(":!") + SSL_CIPHER_get_name(c);
      auto t = traits(c);
      if (!t.aead) non_aead.push_back(n);
      if (t.cbc) cbc.push_back(n);
      if (t.rsa_kex) rsa.push_back(n);
      if (!t.ecdhe) no_ecdhe.push_back(n);
      if (t.weak) weak.push_back(n);
    }
    report.summary.push_back("TLS 1.2 suites accepted (" + std::to_string(suites12.size()) + ")");
    auto list_finding = [&](std::string_view id, const std::vector<std::string>& names) {
      if (names.empty()) return;
      add(id, join(names), std::string(rule(id).title) + ": " + std::to_string(names.size()) + " suites");
    };
    list_finding("tls-cipher-weak", weak);
    list_finding("tls-cipher-rsa-kex", rsa);
    list_finding("tls-cipher-no-ecdhe", no_ecdhe);
    list_finding("tls-cipher-cbc", cbc);
    list_finding("tls-cipher-non-aead", non_aead);
  }
  report.details["tls12_suites"] = suites12;

  // 3. TLS 1.3 suites one by one, then the server's choice when ChaCha20 leads.
  nlohmann::json suites13 = nlohmann::json::array();
  if (accepted[TLS1_3_VERSION]) {
    for (const char* s : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                          "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                          "TLS_AES_128_CCM_8_SHA256"}) {
      auto ctx = p.context(TLS1_3_VERSION, TLS1_3_VERSION, "", s);
      if (!ctx) continue;
      Attempt a = p.handshake(ctx.get());
      if (a.hello_with(TLS1_3_VERSION)) {
        suites13.push_back(s);
        if (std::string_view(s) == "TLS_AES_128_CCM_8_SHA256") add("tls13-ccm8", s);
      }
    }
    auto ctx = p.context(TLS1_3_VERSION, TLS1_3_VERSION, "",
                         "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
    if (ctx) {
      Attempt a = p.handshake(ctx.get());
      if (a.seen.server_hello) {
        std::uint8_t id[2] = {static_cast<std::uint8_t>(a.seen.server_hello->cipher_suite >> 8),
                              static_cast<std::uint8_t>(a.seen.server_hello->cipher_suite)};
        SslPtr tmp(SSL_new(ctx.get()));
        const SSL_CIPHER* c = tmp ? SSL_CIPHER_find(tmp.get(), id) : nullptr;
        std::string choice = c ? cipher_name(c) : "unknown";
        report.details["tls13_choice_when_client_prefers_chacha20"] = choice;
        report.summary.push_back("TLS 1.3 suites accepted: " + std::to_string(suites13.size()) +
                                 "; with ChaCha20 preferred the server chose " + choice);
      }
    }
  }
  report.details["tls13_suites"] = suites13;

  // 4. A normal handshake at the best version: chain, client auth, tickets.
  auto ctx = p.context(TLS1_VERSION, TLS1_3_VERSION, "", "");
  Attempt main = ctx ? p.handshake(ctx.get(), nullptr, true) : Attempt{};
  if (main.chain && sk_X509_num(main.chain.get()) > 0) {
    auto facts = check_chain(main.chain.get(), p.name(), o.ca_file, std::time(nullptr));
    report.details["certificate"] = facts.to_json();
    for (const auto& line : facts.summary()) report.summary.push_back(line);
    for (const auto& [id, evidence] : facts.problems) add(id, evidence);
  } else {
    report.summary.push_back("no certificate chain received: " + main.error);
  }

  bool requested = main.seen.cert_request;
  bool presented = !o.client_cert.empty() && p.client_cert_error().empty();
  // With a certificate presented, the main handshake cannot tell whether
  // one is required: ask again without it.
  Attempt bare_attempt;
  const Attempt* bare = &main;
  if (presented && requested) {
    auto bare_ctx = p.context(TLS1_VERSION, TLS1_3_VERSION, "", "", /*with_client_cert=*/false);
    if (bare_ctx) {
      bare_attempt = p.handshake(bare_ctx.get(), nullptr, true);
      bare = &bare_attempt;
    }
  }
  bool required = requested && (!bare->completed || bare->rejected_after_handshake);
  report.details["client_certificate"] = {{"requested", requested},
                                          {"required", required},
                                          {"presented", presented}};
  if (!p.client_cert_error().empty()) report.summary.push_back("client certificate not loaded: " + p.client_cert_error());
  if (!requested) {
    add("tls-no-client-auth", "no CertificateRequest in the handshake");
  } else if (!required && bare->completed) {
    add("tls-client-auth-optional", "handshake completed without a client certificate");
  }
  report.summary.push_back(std::string("client certificate: ") +
                           (requested ? (required ? "required" : "optional")
                                      : "not requested"));
  // The server refused the certificate we presented: every later step
  // (resumption, 0-RTT) then sees a failed connection, not the server.
  const bool own_cert_refused = presented && main.rejected_after_handshake;
  report.details["client_certificate"]["refused"] = own_cert_refused;
  if (own_cert_refused) {
    std::string alert = SSL_alert_desc_string_long(main.seen.alert);
    report.details["client_certificate"]["alert"] = alert;
    report.summary.push_back("  the server refused our client certificate (alert: " + alert +
                             "); resumption not tested. Does it need --client-chain?");
  }

  // 5. Resumption and 0-RTT from the session of that handshake.
  nlohmann::json resumption = {{"ticket", false}, {"resumed", false}, {"max_early_data", 0}};
  if (main.session && SSL_SESSION_is_resumable(main.session.get())) {
    resumption["ticket"] = SSL_SESSION_has_ticket(main.session.get()) == 1;
    std::uint32_t early = SSL_SESSION_get_max_early_data(main.session.get());
    resumption["max_early_data"] = early;
    Attempt again = p.handshake(ctx.get(), main.session.get());
    resumption["resumed"] = again.reused;
    if (early > 0) add("tls-early-data", "max_early_data " + std::to_string(early) + " in the session ticket");
  }
  report.details["resumption"] = resumption;
  report.summary.push_back(std::string("session resumption: ") +
                           (resumption["resumed"].get<bool>() ? "yes" : "no") +
                           ", 0-RTT max_early_data " + std::to_string(resumption["max_early_data"].get<std::uint32_t>()));

  // 6. Plaintext MQTT on the same host.
  if (o.mqtt) {
    auto m = probe_plain_mqtt(o.host, o.mqtt_port, o.timeout_ms);
    std::string mqtt_ep = (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) + ":" +
                          std::to_string(o.mqtt_port);
    report.details["mqtt"] = {{"endpoint", mqtt_ep},
                              {"reachable", m.reachable},
                              {"answered", m.answered},
                              {"connack_code", m.connack_code},
                              {"detail", m.detail}};
    report.summary.push_back("plaintext MQTT on " + mqtt_ep + ": " + m.detail);
    Location where;
    where.endpoint = mqtt_ep;
    if (m.answered && m.connack_code == 0) {
      report.findings.push_back(make_finding(rule("mqtt-plaintext-anonymous"), where,
                                             "CONNACK 0 (accepted) to a CONNECT without credentials"));
    } else if (m.answered) {
      report.findings.push_back(make_finding(rule("mqtt-plaintext-listener"), where,
                                             "CONNACK code " + std::to_string(m.connack_code)));
    }
  }
  sort_findings(report);
  return report;
}

}  // namespace armored::audit

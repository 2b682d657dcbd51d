#include "tls/context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "tls/internal/connection_state.h"
#include "tls/internal/crl_file.h"
#include "tls/context_impl.h"

namespace armored::tls {

namespace {

Unexpected<Error> openssl_fail(const std::string& what) {
  TlsError e = detail::drain_error_queue(Reason::kConfig);
  return fail(what + ": " + e.message);
}

// Builds the store peers are verified against: the fleet CA and, when
// configured, its CRLs (leaf revocation checked against its issuer's CRL).
Expected<detail::X509StorePtr> build_verify_store(const TlsConfig& c) {
  detail::X509StorePtr store(X509_STORE_new());
  if (!store) return openssl_fail("cannot allocate certificate store");
  if (X509_STORE_load_file(store.get(), c.ca_file.c_str()) != 1) {
    return openssl_fail("cannot load CA file " + c.ca_file.string());
  }
  if (!c.crl_file.empty()) {
    if (X509_load_crl_file(X509_STORE_add_lookup(store.get(), X509_LOOKUP_file()), c.crl_file.c_str(),
                           X509_FILETYPE_PEM) <= 0) {
      return openssl_fail("cannot load CRL file " + c.crl_file.string());
    }
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
  }
  return store;
}

Status load_trust(TlsContext::Impl& impl) {
  SSL_CTX* ctx = impl.ctx.get();
  const TlsConfig& c = impl.config;
  auto store = build_verify_store(c);
  if (!store) return unexpected(store.error());
  impl.verify_store = std::move(*store);
  if (SSL_CTX_set1_verify_cert_store(ctx, impl.verify_store.get()) != 1) {
    return openssl_fail("cannot install certificate store");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, c.cert_chain.c_str()) != 1) {
    return openssl_fail("cannot load certificate chain " + c.cert_chain.string());
  }
  if (!c.intermediates.empty()) {
    detail::BioPtr bio(BIO_new_file(c.intermediates.c_str(), "r"));
    if (!bio) return openssl_fail("cannot open intermediate certificates " + c.intermediates.string());
    int added = 0;
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      // add0 takes ownership on success.
      X509_up_ref(x);
      impl.known_intermediates.emplace_back(x);
      if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
        X509_free(x);
        return openssl_fail("cannot add intermediate certificate from " + c.intermediates.string());
      }
      ++added;
    }
    ERR_clear_error();  // the loop ends on a "no start line" error at end of file
    if (added == 0) return fail("no certificate in " + c.intermediates.string());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl_fail("cannot load private key " + c.key_file.string());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_fail("private key does not match certificate " + c.cert_chain.string());
  }
  return {};
}

Status apply_policy(SSL_CTX* ctx, const TlsConfig& c) {
  int min = c.min_version == MinVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return openssl_fail("cannot set protocol versions");
  }
  std::string suites = c.tls13_ciphersuites.empty() ? default_tls13_ciphersuites() : c.tls13_ciphersuites;
  if (SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) {
    return openssl_fail("bad TLS 1.3 cipher suites '" + suites + "'");
  }
  // TLS 1.2 suites: ECDHE + AEAD only; with TLS 1.3 only, none at all.
  const char* tls12 = c.min_version == MinVersion::kTls12 ? c.tls12_ciphers.c_str() : "";
  if (c.min_version == MinVersion::kTls12 && SSL_CTX_set_cipher_list(ctx, tls12) != 1) {
    return openssl_fail("bad TLS 1.2 ciphers '" + c.tls12_ciphers + "'");
  }
  if (SSL_CTX_set1_groups_list(ctx, c.groups.c_str()) != 1) {
    return openssl_fail("bad groups '" + c.groups + "'");
  }
  if (SSL_CTX_set1_sigalgs_list(ctx, c.signature_algorithms.c_str()) != 1) {
    return openssl_fail("bad signature algorithms '" + c.signature_algorithms + "'");
  }
  if (!c.middlebox_compat) SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  std::uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
  if (c.min_version == MinVersion::kTls13) {
    // TLS 1.2-only ClientHello extensions are dead weight when 1.2 is off:
    // encrypt_then_mac and extended_master_secret (4 bytes each; TLS 1.3
    // has neither), and the client's empty session_ticket extension (RFC
    // 5077; TLS 1.3 tickets arrive in NewSessionTicket regardless).
    // ec_point_formats stays: OpenSSL 3.0 offers no switch for it.
    opts |= SSL_OP_NO_ENCRYPT_THEN_MAC | SSL_OP_NO_EXTENDED_MASTER_SECRET;
    // Never on servers: there it would turn tickets into stateful cache entries.
    if (c.role == Role::kClient) opts |= SSL_OP_NO_TICKET;
  }
  if (c.resumption == ResumptionMode::kPskKe) opts |= SSL_OP_ALLOW_NO_DHE_KEX;
  if (c.role == Role::kServer) {
    opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (c.server_prioritize_chacha) opts |= SSL_OP_PRIORITIZE_CHACHA;
    // OpenSSL's own anti-replay turns tickets into single-use *stateful*
    // entries in its in-memory cache, which would defeat stateless tickets
    // with rotating keys. We replace it with ReplayRegister (allow-early-data
    // callback) and mark early bytes for the application.
    opts |= SSL_OP_NO_ANTI_REPLAY;
  }
  SSL_CTX_set_options(ctx, opts);
  if (c.release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return {};
}

Status apply_resumption(TlsContext::Impl& impl) {
  SSL_CTX* ctx = impl.ctx.get();
  const TlsConfig& c = impl.config;
  if (c.role == Role::kClient) {
    // Sessions leave through the new-session callback only; the application
    // decides where they live (SessionStore).
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    return {};
  }
  // Stateless tickets: no server-side session cache at all. OpenSSL insists
  // on a session id context when client certificates are verified and
  // copies it into every ticket. The ticket keys already bind a ticket to
  // this service (no other service holds them), so one byte is enough.
  static const unsigned char kSidCtx[] = "4";
  if (SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx - 1) != 1) {
    return openssl_fail("cannot set session id context");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(ctx, static_cast<long>(c.ticket_lifetime.count()));
  if (SSL_CTX_set_num_tickets(ctx, c.tickets_per_handshake) != 1 ||
      SSL_CTX_set_max_early_data(ctx, c.max_early_data) != 1 ||
      SSL_CTX_set_recv_max_early_data(ctx, c.max_early_data) != 1) {
    return openssl_fail("cannot configure tickets or early data");
  }
  if (c.ticket_key_source) {
    impl.ticket_keys = std::make_unique<TicketKeyRing>(c.ticket_key_rotation, c.ticket_lifetime, c.ticket_key_source,
                                                       impl.clock->now());
  } else {
    impl.ticket_keys = c.ticket_key_file.empty()
                           ? std::make_unique<TicketKeyRing>(c.ticket_key_rotation, c.ticket_lifetime)
                           : std::make_unique<TicketKeyRing>(c.ticket_key_rotation, c.ticket_lifetime,
                                                             c.ticket_key_file, impl.clock->now());
  }
  if (c.max_early_data > 0) {
    impl.replay = std::make_unique<ReplayRegister>(c.replay_register_capacity, c.ticket_lifetime);
  }
  return {};
}

}  // namespace

Expected<std::unique_ptr<TlsContext>> TlsContext::create(const TlsConfig& config, Clock& clock) {
  ARMORED_TRY(validate(config));
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->clock = &clock;
  ERR_clear_error();
  impl->ctx.reset(SSL_CTX_new(config.role == Role::kServer ? TLS_server_method() : TLS_client_method()));
  if (!impl->ctx) return openssl_fail("cannot create TLS context");
  ARMORED_TRY(apply_policy(impl->ctx.get(), config));
  ARMORED_TRY(load_trust(*impl));
  ARMORED_TRY(apply_resumption(*impl));
  detail::install_callbacks(*impl);
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

Expected<std::vector<std::string>> TlsContext::reload_crl() {
  const TlsConfig& c = impl_->config;
  ERR_clear_error();
  // Read and verify once, then build the store from what was verified: the
  // file may be replaced again between two reads.
  auto crls = detail::load_verified_crls(c);
  if (!crls) return unexpected(crls.error());
  detail::X509StorePtr store(X509_STORE_new());
  if (!store) return openssl_fail("cannot allocate certificate store");
  if (X509_STORE_load_file(store.get(), c.ca_file.c_str()) != 1) {
    return openssl_fail("cannot load CA file " + c.ca_file.string());
  }
  for (const auto& crl : crls->crls) {
    if (X509_STORE_add_crl(store.get(), crl.get()) != 1) return openssl_fail("cannot add CRL from " + c.crl_file.string());
  }
  X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
  std::lock_guard lock(impl_->store_mu);
  impl_->verify_store = std::move(store);
  return std::move(crls->revoked_serials);
}

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;
const TlsConfig& TlsContext::config() const { return impl_->config; }
Clock& TlsContext::clock() const { return *impl_->clock; }
PeerIdentity TlsContext::own_identity() const {
  X509* cert = SSL_CTX_get0_certificate(impl_->ctx.get());
  return cert != nullptr ? detail::identity_from_certificate(cert) : PeerIdentity{};
}
TlsCounters& TlsContext::counters() { return impl_->counters; }
const TlsCounters& TlsContext::counters() const { return impl_->counters; }

}  // namespace armored::tls

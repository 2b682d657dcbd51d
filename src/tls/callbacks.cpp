// OpenSSL callbacks: certificate policy beyond OpenSSL's chain checks (EKU
// required, fleet identity, SPKI pins), ticket-key rotation, the 0-RTT
// replay register, and handing new client sessions to the application.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

#include "common/bytes.h"
#include "ossl/ossl.h"
#include "tls/internal/crl_file.h"
#include "tls/internal/connection_state.h"
#include "tls/context_impl.h"

namespace armored::tls::detail {

ConnectionState* state_of(SSL* ssl) { return static_cast<ConnectionState*>(SSL_get_app_data(ssl)); }

namespace {

constexpr std::string_view kGatewayPrefix = "urn:armored:gateway:";
constexpr std::string_view kDevicePrefix = "urn:armored:device:";

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

int fail_verify(X509_STORE_CTX* x, ConnectionState* st, Reason r, std::string detail, int err) {
  if (st->verify_reason == Reason::kNone) {
    st->verify_reason = r;
    st->verify_detail = std::move(detail);
  }
  X509_STORE_CTX_set_error(x, err);
  return 0;
}

bool chain_matches_pin(X509_STORE_CTX* x, const std::vector<SpkiPin>& pins) {
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(x);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    unsigned char* der = nullptr;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der);
    if (len <= 0) continue;
    SpkiPin h{};
    SHA256(der, static_cast<std::size_t>(len), h.data());
    OPENSSL_free(der);
    if (std::find(pins.begin(), pins.end(), h) != pins.end()) return true;
  }
  return false;
}

int verify_cb(int preverify_ok, X509_STORE_CTX* x) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ConnectionState* st = ssl ? state_of(ssl) : nullptr;
  if (st == nullptr) return 0;
  if (!preverify_ok) {
    int err = X509_STORE_CTX_get_error(x);
    return fail_verify(x, st, reason_from_verify_error(err), X509_verify_cert_error_string(err), err);
  }
  if (X509_STORE_CTX_get_error_depth(x) != 0) return 1;
  X509* leaf = X509_STORE_CTX_get_current_cert(x);
  // A CA certificate is never an identity, even with clientAuth/serverAuth
  // and an armored SAN: it could issue further "identities" of its own.
  // OpenSSL's purpose check lets such a leaf through (RFC 5280 4.2.1.9 does
  // not forbid it), so the rule is ours; `armored pki verify` applies it too.
  if (X509_check_ca(leaf) != 0) {
    return fail_verify(x, st, Reason::kCaAsEndEntity,
                       "peer certificate is a CA certificate (basicConstraints CA:TRUE or keyCertSign), "
                       "not an end-entity identity",
                       X509_V_ERR_APPLICATION_VERIFICATION);
  }
  // OpenSSL's purpose check accepts a leaf with no EKU at all; our PKI always
  // sets one, so its absence means the certificate was not made for this role.
  std::uint32_t want = st->server ? XKU_SSL_CLIENT : XKU_SSL_SERVER;
  if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(leaf) & want) == 0) {
    return fail_verify(x, st, Reason::kWrongEku,
                       st->server ? "client certificate lacks clientAuth EKU"
                                  : "server certificate lacks serverAuth EKU",
                       X509_V_ERR_INVALID_PURPOSE);
  }
  if (st->server) {
    PeerIdentity id = identity_from_certificate(leaf);
    if (id.kind == PeerIdentity::Kind::kNone) {
      return fail_verify(x, st, Reason::kMissingIdentity,
                         "client certificate has no urn:armored:gateway|device:<id> SAN URI",
                         X509_V_ERR_APPLICATION_VERIFICATION);
    }
    st->peer = std::move(id);
  } else if (!st->ctx->config.spki_pins.empty() &&
             !chain_matches_pin(x, st->ctx->config.spki_pins)) {
    return fail_verify(x, st, Reason::kPinMismatch, "no certificate in the chain matches an SPKI pin",
                       X509_V_ERR_APPLICATION_VERIFICATION);
  }
  return 1;
}

// Chain building for the peer's certificate: what the peer sent, plus the
// issuing CA(s) we know, as *untrusted* certificates. A client that sends
// only its leaf (mosquitto_pub --cert <id>.crt, paho, openssl s_client)
// then verifies as if it had sent the full chain; the chain must still end
// at the root in the verify store (no X509_V_FLAG_PARTIAL_CHAIN), so
// nothing is trusted that was not before.
int cert_verify_cb(X509_STORE_CTX* x, void* arg) {
  auto* impl = static_cast<TlsContext::Impl*>(arg);
  if (impl == nullptr || impl->known_intermediates.empty()) return X509_verify_cert(x);
  STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(x);
  STACK_OF(X509)* untrusted = sent != nullptr ? sk_X509_dup(sent) : sk_X509_new_null();
  if (untrusted == nullptr) return 0;
  for (const auto& c : impl->known_intermediates) {
    if (sk_X509_push(untrusted, c.get()) <= 0) {
      sk_X509_free(untrusted);
      return 0;
    }
  }
  X509_STORE_CTX_set0_untrusted(x, untrusted);
  const int ok = X509_verify_cert(x);
  // The verified chain holds its own references; the stack only borrowed.
  X509_STORE_CTX_set0_untrusted(x, sent);
  sk_X509_free(untrusted);
  return ok;
}

// RFC 5077-style ticket protection with rotating keys, framed by OpenSSL as
// key name (16) | IV (16) | AES-256-CBC(session) | HMAC-SHA256 (32) over all
// before it. (A stream mode would save the 1-16 padding bytes, but OpenSSL
// 3.0's ticket writer fails when the cipher's final call emits nothing.)
// Return 2 on decrypt with an old key asks OpenSSL to issue a fresh ticket
// under the current key.
int ticket_key_cb(SSL* ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                  EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx, int enc) {
  auto* impl = static_cast<TlsContext::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  ConnectionState* st = state_of(ssl);
  if (impl == nullptr || !impl->ticket_keys || st == nullptr) return -1;
  const Clock::TimePoint now = st->now;
  TicketKey key;
  int ret = 1;
  if (enc) {
    try {
      key = impl->ticket_keys->encryption_key(now);
    } catch (const std::exception&) {
      return -1;
    }
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (RAND_bytes(iv, 16) != 1) return -1;
    if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1) return -1;
  } else {
    std::array<std::uint8_t, 16> name{};
    std::memcpy(name.data(), key_name, name.size());
    auto found = impl->ticket_keys->decryption_key(name, now);
    if (!found) return 0;  // unknown or retired key: full handshake
    key = found->key;
    ret = found->current ? 1 : 2;
    if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1) return -1;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac_key.data(), key.hmac_key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(hctx, params) != 1) return -1;
  return ret;
}

// Server, just before OpenSSL seals the session into a ticket: drop the
// 32-byte session id it generated. A TLS 1.3 ticket never needs it (on
// resumption OpenSSL resets the id of a decrypted session to empty), yet it
// would travel inside every ticket, i.e. in every resumed ClientHello.
// TLS 1.2 (only when configured) keeps OpenSSL's behaviour.
int generate_ticket_cb(SSL* ssl, void* /*arg*/) {
  if (SSL_version(ssl) != TLS1_3_VERSION) return 1;
  SSL_SESSION* sess = SSL_get_session(ssl);
  static const unsigned char kNone[1] = {0};
  return sess != nullptr && SSL_SESSION_set1_id(sess, kNone, 0) == 1 ? 1 : 0;
}

// Records a hash of the pre_shared_key extension (RFC 8446 4.2.11:
// identities<7..2^16-1> then binders<33..2^16-1>). The binders are an HMAC
// over this ClientHello under the resumption PSK, so the value is unique per
// ClientHello and a replayed flight reproduces it exactly (RFC 8446 8.2).
int client_hello_cb(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  ConnectionState* st = state_of(ssl);
  if (st == nullptr) return SSL_CLIENT_HELLO_ERROR;
  const unsigned char* ext = nullptr;
  std::size_t len = 0;
  st->offered_psk = false;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &len) != 1) return SSL_CLIENT_HELLO_SUCCESS;
  ByteReader r(ByteSpan(ext, len));
  std::uint16_t identities_len = 0, identity_len = 0;
  ByteSpan identity;
  if (!r.read_u16be(identities_len) || !r.read_u16be(identity_len) || identity_len == 0 ||
      !r.read_bytes(identity_len, identity)) {
    return SSL_CLIENT_HELLO_SUCCESS;  // OpenSSL rejects the malformed extension itself
  }
  SHA256(ext, len, st->psk_extension_hash.data());
  st->offered_psk = true;
  return SSL_CLIENT_HELLO_SUCCESS;
}

// Called when OpenSSL is about to accept early data (binders verified): admit
// each ClientHello's 0-RTT once per server instance.
int allow_early_data_cb(SSL* ssl, void* /*arg*/) {
  ConnectionState* st = state_of(ssl);
  if (st == nullptr || !st->offered_psk || !st->ctx->replay) return 0;
  if (st->ctx->replay->admit(st->psk_extension_hash, st->now)) return 1;
  st->ctx->counters.early_data_replays_refused++;
  return 0;
}

// Client: a ticket arrived. Serialize it for the application; return 0 so
// OpenSSL keeps ownership.
int new_session_cb(SSL* ssl, SSL_SESSION* sess) {
  ConnectionState* st = state_of(ssl);
  if (st == nullptr || SSL_SESSION_is_resumable(sess) != 1) return 0;
  int len = i2d_SSL_SESSION(sess, nullptr);
  if (len <= 0) return 0;
  NewSessionTicket t;
  t.der.resize(static_cast<std::size_t>(len));
  unsigned char* p = t.der.data();
  if (i2d_SSL_SESSION(sess, &p) != len) return 0;
  t.lifetime_seconds = static_cast<std::uint32_t>(SSL_SESSION_get_ticket_lifetime_hint(sess));
  t.max_early_data = SSL_SESSION_get_max_early_data(sess);
  st->events.emplace_back(std::move(t));
  return 0;
}

}  // namespace

// Audit rows name the exact certificate a peer presented (ossl::serial_hex,
// the spelling pki.json uses), so a revoked serial that still got in can be told from the
// identity's current certificate.
PeerIdentity identity_from_certificate(X509* cert) {
  PeerIdentity out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<std::size_t>(ASN1_STRING_length(s)));
    for (auto [prefix, kind] : {std::pair{kGatewayPrefix, PeerIdentity::Kind::kGateway},
                                std::pair{kDevicePrefix, PeerIdentity::Kind::kDevice}}) {
      if (uri.size() > prefix.size() && uri.compare(0, prefix.size(), prefix) == 0 &&
          valid_id(std::string_view(uri).substr(prefix.size()))) {
        out = PeerIdentity{kind, uri.substr(prefix.size()), uri, {}};
      }
    }
    if (out.kind != PeerIdentity::Kind::kNone) break;
  }
  GENERAL_NAMES_free(names);
  if (out.kind != PeerIdentity::Kind::kNone) out.serial = ossl::serial_hex(X509_get0_serialNumber(cert));
  return out;
}

void install_callbacks(TlsContext::Impl& impl) {
  SSL_CTX* ctx = impl.ctx.get();
  SSL_CTX_set_app_data(ctx, &impl);
  int mode = SSL_VERIFY_PEER;
  if (impl.config.role == Role::kServer) {
    // A server with SSL_VERIFY_NONE sends no CertificateRequest at all.
    mode = impl.config.request_client_certificate ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE;
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb);
    SSL_CTX_set_session_ticket_cb(ctx, generate_ticket_cb, nullptr, nullptr);
    SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, nullptr);
    SSL_CTX_set_allow_early_data_cb(ctx, allow_early_data_cb, nullptr);
  } else {
    SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
  }
  SSL_CTX_set_verify(ctx, mode, verify_cb);
  SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, &impl);
}

}  // namespace armored::tls::detail

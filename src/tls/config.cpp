#include "tls/config.h"

#include <system_error>

#include "crypto/cpu.h"
#include "tls/ticket_key_file.h"

namespace armored::tls {

std::string default_tls13_ciphersuites() {
  // Without AES instructions, constant-time software AES is several times
  // slower than ChaCha20; with them, AES-128-GCM is fastest (RFC 8446 9.1
  // makes AES-128-GCM mandatory, ChaCha20 a SHOULD, so both stay enabled).
  if (crypto::cpu_has_aes_acceleration()) {
    return "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
  }
  return "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
}

namespace {

Status require_file(const std::filesystem::path& p, const char* what) {
  if (p.empty()) return fail(std::string(what) + " is required");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    return fail(std::string(what) + " " + p.string() + " does not exist or is not a file");
  }
  return {};
}

}  // namespace

Status validate(const TlsConfig& c) {
  ARMORED_TRY(require_file(c.ca_file, "CA file"));
  ARMORED_TRY(require_file(c.cert_chain, "certificate chain"));
  ARMORED_TRY(require_file(c.key_file, "private key"));
  if (!c.intermediates.empty()) ARMORED_TRY(require_file(c.intermediates, "intermediate certificates"));
  if (c.role == Role::kServer) {
    if (c.request_client_certificate) {
      ARMORED_TRY(require_file(c.crl_file, "CRL file (servers always check client revocation)"));
    } else if (!c.crl_file.empty()) {
      ARMORED_TRY(require_file(c.crl_file, "CRL file"));
    }
    if (!c.spki_pins.empty()) return fail("SPKI pins apply to clients only");
  } else if (!c.crl_file.empty()) {
    ARMORED_TRY(require_file(c.crl_file, "CRL file"));
  }
  if (c.role == Role::kClient && !c.request_client_certificate) {
    return fail("request_client_certificate applies to servers only");
  }
  if (c.ticket_lifetime.count() <= 0) return fail("ticket lifetime must be positive");
  if (c.ticket_lifetime > std::chrono::seconds(7 * 24 * 3600)) {
    return fail("ticket lifetime exceeds 7 days (RFC 8446 4.6.1)");
  }
  if (c.ticket_key_rotation.count() <= 0) return fail("ticket key rotation must be positive");
  if (c.tickets_per_handshake > 8) return fail("at most 8 tickets per handshake");
  if (!c.ticket_key_file.empty()) {
    if (c.role != Role::kServer) return fail("a ticket key file applies to servers only");
    std::error_code ec;
    auto dir = c.ticket_key_file.parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      return fail("directory of ticket key file " + c.ticket_key_file.string() + " does not exist");
    }
    // Keys alive at once: one per rotation over rotation + lifetime.
    auto alive = (c.ticket_lifetime + c.ticket_key_rotation) / c.ticket_key_rotation + 1;
    if (alive > static_cast<long>(kMaxTicketKeys)) {
      return fail("ticket key rotation too frequent for the key file (at most " +
                  std::to_string(kMaxTicketKeys) + " keys alive at once)");
    }
  }
  return {};
}

}  // namespace armored::tls

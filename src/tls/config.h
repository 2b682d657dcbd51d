#pragma once
// TLS policy for the gateway-to-cloud link (E4). Secure by default: TLS 1.3,
// mutual TLS, X25519/P-256, hardware-chosen AEAD order. There is deliberately
// no setting that disables certificate or host-name verification.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace armored::tls {

class TicketKeySource;

enum class Role : std::uint8_t { kClient, kServer };
enum class MinVersion : std::uint8_t { kTls13, kTls12 };
// psk_dhe_ke keeps forward secrecy on resumption; psk_ke saves an ECDHE.
enum class ResumptionMode : std::uint8_t { kPskDheKe, kPskKe };

using SpkiPin = std::array<std::uint8_t, 32>;  // SHA-256 of SubjectPublicKeyInfo DER

struct TlsConfig {
  Role role = Role::kClient;
  std::filesystem::path ca_file;     // fleet CA (PEM), the only trust anchor
  std::filesystem::path cert_chain;  // our leaf (+ intermediates), PEM
  std::filesystem::path key_file;    // our private key, PEM
  // Optional: intermediate CA certificates (PEM) sent after our leaf, e.g.
  // issuing-ca.crt of an `armored pki` directory, whose leaf files hold
  // only the leaf.
  std::filesystem::path intermediates;
  // CRL(s) in PEM from `armored pki` (crl.pem). Required for servers: client
  // certificates are always checked for revocation. Optional for clients.
  std::filesystem::path crl_file;
  // Servers: ask every client for a certificate and refuse one without.
  // Always on for E4. Off only for the operator's dashboard, where
  // browsers authenticate with a token instead (docs/operations.md); then
  // no CRL is needed either.
  bool request_client_certificate = true;
  // Optional: the server's chain must also contain one of these SPKIs.
  std::vector<SpkiPin> spki_pins;

  MinVersion min_version = MinVersion::kTls13;
  std::string groups = "X25519:P-256";
  // Empty: chosen at start from the hardware (see default_tls13_ciphersuites).
  std::string tls13_ciphersuites;
  // Used only when min_version is kTls12: ECDHE with AEAD only.
  std::string tls12_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
  // Our certificates are ECDSA P-256 signed with SHA-256, and in TLS 1.3
  // ecdsa_secp384r1_sha384 means a P-384 key, which the fleet never has:
  // offering only ecdsa_secp256r1_sha256 keeps the ClientHello and the
  // CertificateRequest small. openssl s_client/s_server offer it too.
  std::string signature_algorithms = "ECDSA+SHA256";
  // TLS 1.3 middlebox compatibility (RFC 8446 D.4) costs a 32-byte session id
  // each way and ChangeCipherSpec records; off, since E4 runs to our cloud.
  bool middlebox_compat = false;
  // Server: choose by our order, but follow a client that puts ChaCha20 first.
  bool server_prioritize_chacha = true;

  // Resumption and 0-RTT.
  ResumptionMode resumption = ResumptionMode::kPskDheKe;
  std::chrono::seconds ticket_lifetime{7200};
  std::chrono::seconds ticket_key_rotation{3600};  // new encryption key this often
  // Servers: where the ticket keys live (mode 0600, rewritten atomically at
  // each rotation). Empty: memory only, and a restarted server cannot open
  // the tickets it issued before (each client makes one full handshake).
  // One file per server instance; it holds secrets, keep it with the key.
  std::filesystem::path ticket_key_file;
  // Servers: keys shared with other servers instead (set in code by a
  // scaled cloud's fronts; ticket_key_file is then not used).
  std::shared_ptr<TicketKeySource> ticket_key_source;
  std::uint32_t tickets_per_handshake = 1;
  std::uint32_t max_early_data = 16 * 1024;  // server accepts up to this; 0 disables 0-RTT
  std::size_t replay_register_capacity = 65536;  // 0-RTT tickets remembered per instance

  // Free OpenSSL's read/write buffers while a connection is idle.
  bool release_buffers = true;
};

// Cipher order for this CPU: AES-128-GCM first with AES instructions,
// ChaCha20-Poly1305 first without; AES-256-GCM allowed in both.
std::string default_tls13_ciphersuites();

// Checks that the config is complete for its role (files present, pins sane).
Status validate(const TlsConfig& config);

}  // namespace armored::tls

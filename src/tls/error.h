#pragma once
// Typed reasons for every way a TLS connection can fail. Each verification
// failure has its own reason so operators and tests see *why* a peer was
// refused, and counters are kept per reason.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace armored::tls {

enum class Reason : std::uint8_t {
  kNone = 0,
  // Certificate verification (ours or, via alert, the peer's).
  kCertExpired,
  kCertNotYetValid,
  kUnknownCa,          // chain does not lead to a trusted CA (incl. another CA)
  kSelfSigned,         // peer presented a self-signed certificate
  kHostnameMismatch,   // server cert does not match the expected name or IP
  kRevoked,            // listed on the CRL
  kCrlUnavailable,     // CRL missing, expired or unreadable for the chain
  kBadSignature,       // certificate or CRL signature does not verify
  kWrongEku,           // missing serverAuth/clientAuth extended key usage
  kMissingIdentity,    // client cert has no urn:armored:{gateway,device}:<id> SAN
  kCaAsEndEntity,      // peer presented a CA certificate (basicConstraints CA:TRUE) as its own
  kPinMismatch,        // no SPKI in the verified chain matches a configured pin
  kInvalidChain,       // any other chain defect OpenSSL reports
  kNoPeerCertificate,  // client sent no certificate (server requires one)
  // Handshake and protocol.
  kProtocolVersion,    // no common protocol version (e.g. TLS 1.2-only peer)
  kNoSharedCipher,     // no common cipher suite or group
  kPeerAlert,          // peer aborted with an alert (see message for which)
  kBadCertificateVerify,  // the peer's handshake signature (CertificateVerify) fails with its certificate's key
  kProtocolError,      // malformed or unexpected TLS records/messages
  kUnexpectedEof,      // transport closed without close_notify
  kTimeout,            // handshake did not finish in time
  kConfig,             // local configuration unusable (files, keys)
  kInternal,           // OpenSSL failed for a reason we cannot classify
  kCount
};

inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::kCount);

// Stable lower-case name of a reason, used in logs, counters and tests.
std::string_view reason_name(Reason r);

// A failure: the reason and a short human message (OpenSSL's text when any).
struct TlsError {
  Reason reason = Reason::kInternal;
  std::string message;
};

// The general error, component "tls", the reason's name as its code. An
// unusable local configuration is bad input (exit 2); a peer or handshake
// failure happened at run time (exit 1).
inline Error to_error(const TlsError& e) {
  return {e.message, "tls", reason_name(e.reason), e.reason == Reason::kConfig ? ErrorKind::kBadInput : ErrorKind::kFailed};
}

}  // namespace armored::tls

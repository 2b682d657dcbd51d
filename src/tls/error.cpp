#include "tls/error.h"

namespace armored::tls {

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::kNone: return "none";
    case Reason::kCertExpired: return "certificate_expired";
    case Reason::kCertNotYetValid: return "certificate_not_yet_valid";
    case Reason::kUnknownCa: return "unknown_ca";
    case Reason::kSelfSigned: return "self_signed";
    case Reason::kHostnameMismatch: return "hostname_mismatch";
    case Reason::kRevoked: return "revoked";
    case Reason::kCrlUnavailable: return "crl_unavailable";
    case Reason::kBadSignature: return "bad_signature";
    case Reason::kWrongEku: return "wrong_eku";
    case Reason::kMissingIdentity: return "missing_identity";
    case Reason::kCaAsEndEntity: return "ca_as_end_entity";
    case Reason::kPinMismatch: return "pin_mismatch";
    case Reason::kInvalidChain: return "invalid_chain";
    case Reason::kNoPeerCertificate: return "no_peer_certificate";
    case Reason::kProtocolVersion: return "protocol_version";
    case Reason::kNoSharedCipher: return "no_shared_cipher";
    case Reason::kPeerAlert: return "peer_alert";
    case Reason::kBadCertificateVerify: return "bad_certificate_verify";
    case Reason::kProtocolError: return "protocol_error";
    case Reason::kUnexpectedEof: return "unexpected_eof";
    case Reason::kTimeout: return "timeout";
    case Reason::kConfig: return "config";
    case Reason::kInternal: return "internal";
    case Reason::kCount: break;
  }
  return "unknown";
}

}  // namespace armored::tls

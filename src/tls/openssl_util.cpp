#include "tls/openssl_util.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

namespace armored::tls::detail {

namespace {

// OpenSSL reports a received alert as SSL_AD_REASON_OFFSET + alert number.
Reason reason_from_ssl(int lib, int reason) {
  if (lib != ERR_LIB_SSL) return Reason::kInternal;
  switch (reason) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return Reason::kNoPeerCertificate;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_UNSUPPORTED_SSL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return Reason::kProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_GROUPS:
      return Reason::kNoSharedCipher;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return Reason::kInvalidChain;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return Reason::kUnexpectedEof;
    // The peer's CertificateVerify does not verify with its certificate's
    // key (RFC 8446 4.4.3): it does not hold the key it claims.
    case SSL_R_BAD_SIGNATURE:
      return Reason::kBadCertificateVerify;
    default:
      break;
  }
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    return Reason::kPeerAlert;
  }
  return Reason::kProtocolError;
}

}  // namespace

TlsError drain_error_queue(Reason fallback) {
  TlsError out{fallback, {}};
  bool classified = false;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    if (out.message.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out.message = buf;
    }
    if (!classified) {
      Reason r = reason_from_ssl(ERR_GET_LIB(e), ERR_GET_REASON(e));
      if (r != Reason::kInternal) {
        out.reason = r;
        classified = true;
      }
    }
  }
  if (out.message.empty()) out.message = std::string(reason_name(out.reason));
  return out;
}

void clear_error_queue() { ERR_clear_error(); }

Reason reason_from_verify_error(long err) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Reason::kCertExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Reason::kCertNotYetValid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return Reason::kSelfSigned;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return Reason::kUnknownCa;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return Reason::kHostnameMismatch;
    case X509_V_ERR_CERT_REVOKED:
      return Reason::kRevoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      return Reason::kCrlUnavailable;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return Reason::kBadSignature;
    case X509_V_ERR_INVALID_PURPOSE:
      return Reason::kWrongEku;
    default:
      return Reason::kInvalidChain;
  }
}

}  // namespace armored::tls::detail

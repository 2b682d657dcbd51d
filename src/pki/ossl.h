#pragma once
// OpenSSL for the PKI: the owning pointers and error text of ossl/ossl.h,
// and the PEM and name helpers the PKI needs. Only src/pki
// includes this header; the public API (pki/pki.h) never exposes OpenSSL.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "ossl/ossl.h"
#include "common/result.h"

namespace armored::pki::ossl {

using ::armored::ossl::AsnIntPtr;
using ::armored::ossl::AsnTimePtr;
using ::armored::ossl::BasicConstraintsPtr;
using ::armored::ossl::BioPtr;
using ::armored::ossl::CrlPtr;
using ::armored::ossl::EkuPtr;
using ::armored::ossl::ExtPtr;
using ::armored::ossl::GeneralNamesPtr;
using ::armored::ossl::NamePtr;
using ::armored::ossl::PkeyCtxPtr;
using ::armored::ossl::PkeyPtr;
using ::armored::ossl::RevokedPtr;
using ::armored::ossl::StoreCtxPtr;
using ::armored::ossl::StorePtr;
using ::armored::ossl::X509Ptr;
using BignumPtr = ::armored::ossl::BnPtr;

// "what: <first OpenSSL reason>" and the error queue emptied; and the
// queue emptied without a report (after an expected failure).
using ::armored::ossl::clear_errors;
using ::armored::ossl::error_text;

// PEM encodings. The private key text is the caller's to wipe (see wipe()).
Expected<std::string> cert_to_pem(X509* cert);
Expected<std::string> crl_to_pem(X509_CRL* crl);
// PKCS#8 PrivateKeyInfo, unencrypted ("-----BEGIN PRIVATE KEY-----"). For
// P-256 keys the DER is filled into its fixed template (see ossl.cpp); the
// bytes are identical to OpenSSL's own encoder, which is the fallback for
// other keys and the reference the tests compare against.
Expected<std::string> key_to_pem(EVP_PKEY* key);
Expected<std::string> key_to_pem_openssl(EVP_PKEY* key);
// Parses exactly what the name says; the error names `what`.
Expected<X509Ptr> cert_from_pem(std::string_view pem, std::string_view what);
Expected<PkeyPtr> key_from_pem(std::string_view pem, std::string_view what);
Expected<CrlPtr> crl_from_pem(std::string_view pem, std::string_view what);

// Overwrites a buffer that held key material before it is freed.
void wipe(std::string& s);

// Converting between our clock and ASN1_TIME (UTCTime until 2049, then GeneralizedTime).
Expected<AsnTimePtr> to_asn1_time(Clock::TimePoint t);
Expected<Clock::TimePoint> from_asn1_time(const ASN1_TIME* t);

// The certificate serial in the project's one spelling (ossl/ossl.h).
using ::armored::ossl::serial_hex;
Expected<AsnIntPtr> serial_from_hex(std::string_view hex);

}  // namespace armored::pki::ossl

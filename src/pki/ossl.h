#pragma once
// OpenSSL adapter for the PKI: owning pointers with the right deleters, and
// error text drained from OpenSSL's per-thread error queue. Only src/pki
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
#include "common/result.h"

namespace armored::pki::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, Deleter<X509_REVOKED, X509_REVOKED_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;
using AsnTimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>>;

// "what: <first OpenSSL reason>" and clears the whole error queue, so a
// later failure never reports a stale reason.
std::string error_text(std::string_view what);
// Clears the error queue without reporting (after an expected failure).
void clear_errors();

// PEM encodings. The private key text is the caller's to wipe (see wipe()).
Expected<std::string> cert_to_pem(X509* cert);
Expected<std::string> crl_to_pem(X509_CRL* crl);
Expected<std::string> key_to_pem(EVP_PKEY* key);  // PKCS#8, unencrypted
// Parses exactly what the name says; the error names `what`.
Expected<X509Ptr> cert_from_pem(std::string_view pem, std::string_view what);
Expected<PkeyPtr> key_from_pem(std::string_view pem, std::string_view what);
Expected<CrlPtr> crl_from_pem(std::string_view pem, std::string_view what);

// Overwrites a buffer that held key material before it is freed.
void wipe(std::string& s);

// Converting between our clock and ASN1_TIME (UTCTime until 2049, then GeneralizedTime).
Expected<AsnTimePtr> to_asn1_time(Clock::TimePoint t);
Expected<Clock::TimePoint> from_asn1_time(const ASN1_TIME* t);

// Upper-case hex of an ASN.1 INTEGER (the certificate serial).
std::string serial_hex(const ASN1_INTEGER* serial);
Expected<AsnIntPtr> serial_from_hex(std::string_view hex);

}  // namespace armored::pki::ossl

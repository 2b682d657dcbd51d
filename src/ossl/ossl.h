#pragma once
// The one OpenSSL adapter: owning pointers with the right free function for
// every OpenSSL object the project holds, and OpenSSL's error text. crypto,
// tls, pki and audit use these and define none of their own; no public
// header outside those components includes this one.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace armored::ossl {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};
template <typename T, auto Free>
using Ptr = std::unique_ptr<T, Deleter<Free>>;

// libcrypto
using BioPtr = Ptr<BIO, BIO_free_all>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using CipherCtxPtr = Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EcdsaSigPtr = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
using EcGroupPtr = Ptr<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = Ptr<EC_POINT, EC_POINT_clear_free>;  // points may be secret-derived: cleared
using KdfCtxPtr = Ptr<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using ParamBldPtr = Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = Ptr<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
// X.509
using AsnIntPtr = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using AsnTimePtr = Ptr<ASN1_TIME, ASN1_TIME_free>;
using BasicConstraintsPtr = Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;
using EkuPtr = Ptr<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using ExtPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamesPtr = Ptr<GENERAL_NAMES, GENERAL_NAMES_free>;
using NamePtr = Ptr<X509_NAME, X509_NAME_free>;
using RevokedPtr = Ptr<X509_REVOKED, X509_REVOKED_free>;
using StoreCtxPtr = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using X509Ptr = Ptr<X509, X509_free>;
// libssl
using SessionPtr = Ptr<SSL_SESSION, SSL_SESSION_free>;
using SslCtxPtr = Ptr<SSL_CTX, SSL_CTX_free>;
using SslPtr = Ptr<SSL, SSL_free>;

// A certificate chain: the stack and every certificate in it.
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

// OpenSSL's text for the oldest error in this thread's queue ("" if none),
// and the queue emptied, so a later failure never reports a stale reason.
std::string take_error_text();
// "what: <OpenSSL's text>" (or just `what`), the queue emptied.
std::string error_text(std::string_view what);
// Empties the queue without reading it (after an expected, handled failure).
void clear_errors();

// A certificate serial number in the one spelling the project uses
// everywhere (pki.json, `armored pki list`, connection events, CRL lookups,
// audit findings): upper-case hex in whole bytes, as `openssl x509 -serial`
// and `openssl crl -text` print it ("03EB", never "3EB"). Two spellings of
// one serial once made a connection's serial differ from pki.json's for
// every certificate whose serial began with a zero nibble. A negative
// serial (RFC 5280 forbids them, but a CRL may list one) keeps its sign:
// "-03EB". "?" when the integer cannot be read, which matches no serial.
std::string serial_hex(const ASN1_INTEGER* serial);
// Any hex spelling of a serial ("3eb", "0003EB") in serial_hex's spelling;
// "" when `hex` is empty or not hex.
std::string normal_serial(std::string_view hex);

}  // namespace armored::ossl

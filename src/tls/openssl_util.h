#pragma once
// Internal to src/tls: owning wrappers for OpenSSL objects and the mapping
// from OpenSSL's error queue and X509 verify codes to our typed reasons.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "tls/error.h"

namespace armored::tls::detail {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using SessionPtr = std::unique_ptr<SSL_SESSION, Deleter<SSL_SESSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;

// Empties the thread's OpenSSL error queue, returning the most specific
// reason it can classify and OpenSSL's text for the first error.
TlsError drain_error_queue(Reason fallback);
// Discards the queue (after an expected, already handled failure).
void clear_error_queue();
// Maps an X509_V_ERR_* code to a reason.
Reason reason_from_verify_error(long x509_error);

}  // namespace armored::tls::detail

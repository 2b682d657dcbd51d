#pragma once
// Internal to src/tls: the OpenSSL objects it holds (ossl/ossl.h) and the
// mapping from OpenSSL's error queue and X509 verify codes to our typed reasons.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "ossl/ossl.h"
#include "tls/error.h"

namespace armored::tls::detail {

using ossl::BioPtr;
using ossl::SessionPtr;
using ossl::SslCtxPtr;
using ossl::SslPtr;
using ossl::X509Ptr;
using X509StorePtr = ossl::StorePtr;

// Empties the thread's OpenSSL error queue, returning the most specific
// reason it can classify and OpenSSL's text for the first error.
TlsError drain_error_queue(Reason fallback);
// Discards the queue (after an expected, already handled failure).
void clear_error_queue();
// Maps an X509_V_ERR_* code to a reason.
Reason reason_from_verify_error(long x509_error);

}  // namespace armored::tls::detail

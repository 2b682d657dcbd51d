#pragma once
// Internal to src/crypto: the OpenSSL objects it holds (ossl/ossl.h) and
// what it does with OpenSSL's error queue after a failed call.

#include "ossl/ossl.h"

namespace armored::crypto::detail {

using ossl::BioPtr;
using ossl::BnPtr;
using ossl::CipherCtxPtr;
using ossl::EcdsaSigPtr;
using ossl::EcGroupPtr;
using ossl::EcPointPtr;
using ossl::KdfCtxPtr;
using ossl::MdCtxPtr;
using ossl::ParamBldPtr;
using ossl::ParamPtr;
using ossl::PkeyCtxPtr;
using ossl::PkeyPtr;
using ossl::X509Ptr;

// Empties OpenSSL's thread-local error queue after a failed call, so a
// rejected input does not surface as a stale error somewhere else. The
// failure itself is returned as a CryptoError code: what a caller can act
// on (a bad key, a forged tag) is the code; OpenSSL's text, kept for a
// person diagnosing an internal error, goes to the debug log.
void drain_errors();

}  // namespace armored::crypto::detail

#pragma once
// E3 errors: an enum the caller can branch on plus a short static message
// (no allocation on the data path).

#include <cstdint>

#include "common/result.h"

namespace armored::e3 {

enum class E3Errc : std::uint8_t {
  kMalformed,          // header or body does not parse
  kUnknownKeyId,       // no device with this key ID
  kUnknownEpoch,       // epoch id matches neither the current nor the previous epoch
  kExpiredEpoch,       // previous epoch past its grace period, or epoch past its lifetime
  kAuthFailed,         // AEAD tag or announcement signature did not verify
  kReplayed,           // sequence number already accepted
  kTooOld,             // sequence number left of the replay window
  kOversized,          // envelope or plaintext over the configured limit
  kStaleAnnouncement,  // announcement for an epoch not newer than the current one
  kRotationRequired,   // sender must start a new epoch before sealing more
  kPersistFailed,      // the sequence reservation could not be written
  kBufferTooSmall,     // caller's output span is too small
  kBadConfig,          // configuration or persisted state unusable
  kInternal,           // crypto backend failure
};
inline constexpr std::size_t kE3ErrcCount = static_cast<std::size_t>(E3Errc::kInternal) + 1;

const char* to_string(E3Errc c);

struct E3Error {
  E3Errc code;
  const char* message;  // static string naming what was wrong
};

// The general error, component "e3", code to_string(code). Rejected input
// is bad input (exit 2); kPersistFailed and kInternal are failures (exit 1).
Error to_error(const E3Error& e);

template <typename T>
using E3Result = Result<T, E3Error>;

inline Unexpected<E3Error> e3_fail(E3Errc code, const char* message) { return {E3Error{code, message}}; }

}  // namespace armored::e3

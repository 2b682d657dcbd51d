#include "e3/error.h"

namespace armored::e3 {

const char* to_string(E3Errc c) {
  switch (c) {
    case E3Errc::kMalformed: return "malformed";
    case E3Errc::kUnknownKeyId: return "unknown_key_id";
    case E3Errc::kUnknownEpoch: return "unknown_epoch";
    case E3Errc::kExpiredEpoch: return "expired_epoch";
    case E3Errc::kAuthFailed: return "authentication_failed";
    case E3Errc::kReplayed: return "replayed";
    case E3Errc::kTooOld: return "too_old";
    case E3Errc::kOversized: return "oversized";
    case E3Errc::kStaleAnnouncement: return "stale_announcement";
    case E3Errc::kRotationRequired: return "rotation_required";
    case E3Errc::kPersistFailed: return "persist_failed";
    case E3Errc::kBufferTooSmall: return "buffer_too_small";
    case E3Errc::kBadConfig: return "bad_config";
    case E3Errc::kInternal: return "internal";
  }
  return "unknown";
}

Error to_error(const E3Error& e) {
  const bool failed = e.code == E3Errc::kPersistFailed || e.code == E3Errc::kInternal;
  return {e.message ? e.message : "", "e3", to_string(e.code), failed ? ErrorKind::kFailed : ErrorKind::kBadInput};
}

}  // namespace armored::e3

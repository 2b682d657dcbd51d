#pragma once
// The epoch announcement (docs/e3-protocol.md section 4): the device tells
// the cloud its fresh ephemeral P-256 key for a new epoch, signed with its
// identity key as a COSE_Sign1 (ES256) so a gateway cannot forge one.

#include <array>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/error.h"

namespace armored::e3 {

inline constexpr std::size_t kMaxCloudKeyIdSize = 32;

struct AnnouncementFields {
  Bytes kid;
  std::uint32_t epoch = 0;
  crypto::AeadAlg alg = crypto::AeadAlg::kAes128Gcm;
  Bytes cloud_key_id;
  std::array<std::uint8_t, crypto::kP256PointSize> ephemeral_public{};
};

struct ParsedAnnouncement {
  AnnouncementFields fields;
  Bytes to_be_signed;  // the COSE Sig_structure
  std::array<std::uint8_t, crypto::kP256P1363SigSize> signature{};
};

// Builds and signs an announcement message (header + COSE_Sign1 body).
E3Result<Bytes> build_announcement(const AnnouncementFields& f, const crypto::EcPrivateKey& identity_key);

// Parses an announcement strictly (exact COSE_Sign1 shape, field sizes, header
// consistent with payload). Does not verify the signature.
E3Result<ParsedAnnouncement> parse_announcement(ByteSpan message);

// The COSE Sig_structure ["Signature1", protected, h'', payload].
Bytes sig_structure(ByteSpan protected_header, ByteSpan payload);

}  // namespace armored::e3

#pragma once
// Delivery receipts: the cloud's signed statement that it has durably
// processed (stored, or recorded as duplicate or rejected) the PUBLISH
// payloads a gateway sent through a broker. A gateway that forwards through
// a broker keeps each batch in its spool until a receipt names it, so a
// broker that acknowledges and then loses a batch costs a re-send, never a
// reading. Specification: docs/broker.md, "Receipts".
//
//   receipt      = COSE_Sign1 (tag 18, RFC 9052 section 4.2), ES256, signed
//                  with the cloud's TLS key; gateways pin its certificate
//   payload      = [1, gateway: tstr, issued_at_ms: uint, [+ batch_id]]
//   batch_id     = the first 16 bytes of SHA-256(PUBLISH payload)
//
// Sans-I/O: bytes in, bytes or a typed error out.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/ec.h"

namespace armored::receipt {

inline constexpr std::size_t kBatchIdSize = 16;
using BatchId = std::array<std::uint8_t, kBatchIdSize>;

// Bounds a receipt must respect (and a verifier enforces): a signer with
// more batch ids sends several receipts.
inline constexpr std::size_t kMaxBatchIds = 1024;
inline constexpr std::size_t kMaxGatewayId = 64;
inline constexpr std::size_t kMaxReceiptBytes = 128 + kMaxGatewayId + kMaxBatchIds * (kBatchIdSize + 1) + 16;

// first 16 bytes of SHA-256(payload)
BatchId batch_id(ByteSpan publish_payload);

struct Receipt {
  std::string gateway;
  std::uint64_t issued_at_ms = 0;
  std::vector<BatchId> batches;
};

enum class ReceiptError : std::uint8_t {
  kTooLarge,        // over kMaxReceiptBytes, or more than kMaxBatchIds ids
  kMalformed,       // not a tagged COSE_Sign1 with the payload above
  kBadAlgorithm,    // protected header is not exactly {1: -7} (ES256)
  kBadVersion,      // payload version other than 1
  kBadSignature,    // does not verify under the pinned key
  kWrongGateway,    // signed for another gateway
  kSigning,         // (signer) the key refused to sign
};
std::string_view to_string(ReceiptError e);

// Encodes and signs. kTooLarge for more than kMaxBatchIds ids or a gateway
// id longer than kMaxGatewayId.
Result<Bytes, ReceiptError> seal(const Receipt& r, const crypto::EcPrivateKey& key);

// Verifies `bytes` under `key` and that it was issued for `gateway`.
Result<Receipt, ReceiptError> open(ByteSpan bytes, const crypto::EcPublicKey& key, std::string_view gateway);

}  // namespace armored::receipt

#include "receipt/receipt.h"

#include <openssl/evp.h>

#include <cstring>

#include "cbor/decoder.h"
#include "cbor/writer.h"

namespace armored::receipt {

namespace {
constexpr std::int64_t kAlgEs256 = -7;  // RFC 9053 section 2.1
constexpr std::uint64_t kTagSign1 = 18;  // RFC 9052 section 4.2
constexpr std::uint64_t kVersion = 1;

// The protected header, exactly: {1: -7}.
Bytes protected_header() {
  Bytes out;
  cbor::Writer(out).map(1).uint(1).integer(kAlgEs256);
  return out;
}

// Sig_structure = ["Signature1", protected, external_aad = h'', payload]
// (RFC 9052 section 4.4): what ES256 signs.
Bytes to_be_signed(ByteSpan protected_bytes, ByteSpan payload) {
  Bytes out;
  cbor::Writer(out).array(4).tstr("Signature1").bstr(protected_bytes).bstr({}).bstr(payload);
  return out;
}
}  // namespace

BatchId batch_id(ByteSpan publish_payload) {
  std::array<std::uint8_t, 32> digest{};
  unsigned int len = 0;
  EVP_Digest(publish_payload.data(), publish_payload.size(), digest.data(), &len, EVP_sha256(), nullptr);
  BatchId id{};
  std::memcpy(id.data(), digest.data(), id.size());
  return id;
}

std::string_view to_string(ReceiptError e) {
  switch (e) {
    case ReceiptError::kTooLarge: return "too_large";
    case ReceiptError::kMalformed: return "malformed";
    case ReceiptError::kBadAlgorithm: return "bad_algorithm";
    case ReceiptError::kBadVersion: return "bad_version";
    case ReceiptError::kBadSignature: return "bad_signature";
    case ReceiptError::kWrongGateway: return "wrong_gateway";
    case ReceiptError::kSigning: return "signing";
  }
  return "unknown";
}

Result<Bytes, ReceiptError> seal(const Receipt& r, const crypto::EcPrivateKey& key) {
  if (r.batches.empty() || r.batches.size() > kMaxBatchIds || r.gateway.empty() ||
      r.gateway.size() > kMaxGatewayId) {
    return unexpected(ReceiptError::kTooLarge);
  }
  Bytes payload;
  cbor::Writer w(payload);
  w.array(4).uint(kVersion).tstr(r.gateway).uint(r.issued_at_ms).array(r.batches.size());
  for (const auto& b : r.batches) w.bstr(b);
  const Bytes prot = protected_header();
  auto sig = key.sign_p1363(to_be_signed(prot, payload));
  if (!sig) return unexpected(ReceiptError::kSigning);
  Bytes out;
  cbor::Writer(out).tag(kTagSign1).array(4).bstr(prot).map(0).bstr(payload).bstr(*sig);
  return out;
}

Result<Receipt, ReceiptError> open(ByteSpan bytes, const crypto::EcPublicKey& key, std::string_view gateway) {
  if (bytes.size() > kMaxReceiptBytes) return unexpected(ReceiptError::kTooLarge);
  cbor::Limits limits;
  limits.max_depth = 4;
  limits.max_items = kMaxBatchIds + 16;
  limits.max_string = kMaxReceiptBytes;
  auto top = cbor::decode(bytes, limits);
  if (!top) {
    return unexpected(top.error() == cbor::DecodeError::kTooLarge ? ReceiptError::kTooLarge
                                                                    : ReceiptError::kMalformed);
  }
  if (top->type != cbor::Type::kTag || top->uint_value != kTagSign1 || top->children.size() != 1) {
    return unexpected(ReceiptError::kMalformed);
  }
  const cbor::Item& s = top->children[0];
  if (s.type != cbor::Type::kArray || s.children.size() != 4 || s.children[0].type != cbor::Type::kBstr ||
      s.children[1].type != cbor::Type::kMap || s.children[2].type != cbor::Type::kBstr ||
      s.children[3].type != cbor::Type::kBstr) {
    return unexpected(ReceiptError::kMalformed);
  }
  const Bytes& prot = s.children[0].bytes;
  if (prot != protected_header()) return unexpected(ReceiptError::kBadAlgorithm);
  if (s.children[3].bytes.size() != crypto::kP256P1363SigSize) return unexpected(ReceiptError::kBadSignature);
  const Bytes& payload = s.children[2].bytes;
  // The signature first: nothing in an unverified payload is looked at.
  if (!key.verify_p1363(to_be_signed(prot, payload), s.children[3].bytes)) {
    return unexpected(ReceiptError::kBadSignature);
  }
  auto body = cbor::decode(payload, limits);
  if (!body) return unexpected(ReceiptError::kMalformed);
  if (body->type != cbor::Type::kArray || body->children.size() != 4) return unexpected(ReceiptError::kMalformed);
  const auto& f = body->children;
  if (!f[0].is_uint()) return unexpected(ReceiptError::kMalformed);
  if (f[0].uint_value != kVersion) return unexpected(ReceiptError::kBadVersion);
  if (f[1].type != cbor::Type::kTstr || !f[2].is_uint() || f[3].type != cbor::Type::kArray) {
    return unexpected(ReceiptError::kMalformed);
  }
  if (f[3].children.empty() || f[3].children.size() > kMaxBatchIds) return unexpected(ReceiptError::kMalformed);
  if (f[1].text() != gateway) return unexpected(ReceiptError::kWrongGateway);
  Receipt r;
  r.gateway = std::string(f[1].text());
  r.issued_at_ms = f[2].uint_value;
  r.batches.reserve(f[3].children.size());
  for (const auto& b : f[3].children) {
    if (b.type != cbor::Type::kBstr || b.bytes.size() != kBatchIdSize) return unexpected(ReceiptError::kMalformed);
    BatchId id{};
    std::memcpy(id.data(), b.bytes.data(), id.size());
    r.batches.push_back(id);
  }
  return r;
}

}  // namespace armored::receipt

#include "e3/announcement.h"

#include <algorithm>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "e3/wire.h"

namespace armored::e3 {
namespace {

// Protected header {1: -7} (alg: ES256), the only one E3 accepts.
constexpr std::uint8_t kProtected[] = {0xa1, 0x01, 0x26};

Bytes payload_of(const AnnouncementFields& f) {
  Bytes out;
  cbor::Writer w(out);
  w.array(5).bstr(f.kid).uint(f.epoch).integer(static_cast<std::int64_t>(f.alg));
  w.bstr(f.cloud_key_id).bstr(f.ephemeral_public);
  return out;
}

}  // namespace

Bytes sig_structure(ByteSpan protected_header, ByteSpan payload) {
  Bytes out;
  cbor::Writer w(out);
  w.array(4).tstr("Signature1").bstr(protected_header).bstr({}).bstr(payload);
  return out;
}

E3Result<Bytes> build_announcement(const AnnouncementFields& f, const crypto::EcPrivateKey& identity_key) {
  if (f.kid.size() < kMinKidSize || f.kid.size() > kMaxKidSize) return e3_fail(E3Errc::kBadConfig, "kid must be 1..8 bytes");
  if (f.cloud_key_id.empty() || f.cloud_key_id.size() > kMaxCloudKeyIdSize) {
    return e3_fail(E3Errc::kBadConfig, "cloud key ID must be 1..32 bytes");
  }
  const Bytes payload = payload_of(f);
  auto sig = identity_key.sign_p1363(sig_structure(kProtected, payload));
  if (!sig) return e3_fail(E3Errc::kInternal, "signing failed");
  Bytes out(2 + f.kid.size());
  out[0] = make_flags(MessageType::kAnnouncement, f.kid.size(), 0);
  out[1] = static_cast<std::uint8_t>(f.epoch & 0xff);
  std::copy(f.kid.begin(), f.kid.end(), out.begin() + 2);
  cbor::Writer w(out);
  w.array(4).bstr(kProtected).map(0).bstr(payload).bstr(*sig);
  return out;
}

E3Result<ParsedAnnouncement> parse_announcement(ByteSpan message) {
  auto h = parse_header(message);
  if (!h) return unexpected(h.error());
  if (h->type != MessageType::kAnnouncement) return e3_fail(E3Errc::kMalformed, "not an announcement");
  cbor::Limits limits{.max_depth = 2, .max_items = 16, .max_string = 256};
  auto body = cbor::decode(h->body, limits);
  if (!body) return e3_fail(E3Errc::kMalformed, "announcement body is not valid CBOR");
  const auto& a = *body;
  using cbor::Type;
  if (a.type != Type::kArray || a.children.size() != 4 || a.children[0].type != Type::kBstr ||
      a.children[1].type != Type::kMap || a.children[2].type != Type::kBstr || a.children[3].type != Type::kBstr) {
    return e3_fail(E3Errc::kMalformed, "announcement is not a COSE_Sign1 array");
  }
  if (!std::ranges::equal(a.children[0].bytes, kProtected)) {
    return e3_fail(E3Errc::kMalformed, "announcement protected header is not {1: -7}");
  }
  if (!a.children[1].children.empty()) return e3_fail(E3Errc::kMalformed, "announcement unprotected header not empty");
  if (a.children[3].bytes.size() != crypto::kP256P1363SigSize) {
    return e3_fail(E3Errc::kMalformed, "announcement signature is not 64 bytes");
  }
  const Bytes& payload = a.children[2].bytes;
  auto p = cbor::decode(payload, limits);
  if (!p || p->type != Type::kArray || p->children.size() != 5) {
    return e3_fail(E3Errc::kMalformed, "announcement payload is not a 5-element array");
  }
  const auto& c = p->children;
  if (c[0].type != Type::kBstr || c[1].type != Type::kUint || !c[2].is_int() || c[3].type != Type::kBstr ||
      c[4].type != Type::kBstr) {
    return e3_fail(E3Errc::kMalformed, "announcement payload field types");
  }
  ParsedAnnouncement out;
  auto& f = out.fields;
  if (c[1].uint_value > 0xffffffffu) return e3_fail(E3Errc::kMalformed, "epoch over 32 bits");
  auto alg = c[2].uint_value <= INT64_MAX ? crypto::aead_from_cose(c[2].int_value()) : std::nullopt;
  if (!alg) return e3_fail(E3Errc::kMalformed, "unsupported AEAD algorithm");
  if (c[3].bytes.empty() || c[3].bytes.size() > kMaxCloudKeyIdSize) return e3_fail(E3Errc::kMalformed, "cloud key ID size");
  if (c[4].bytes.size() != crypto::kP256PointSize || c[4].bytes[0] != 0x04) {
    return e3_fail(E3Errc::kMalformed, "ephemeral key is not an uncompressed P-256 point");
  }
  f.kid = c[0].bytes;
  f.epoch = static_cast<std::uint32_t>(c[1].uint_value);
  f.alg = *alg;
  f.cloud_key_id = c[3].bytes;
  std::copy(c[4].bytes.begin(), c[4].bytes.end(), f.ephemeral_public.begin());
  if (!std::ranges::equal(f.kid, h->kid)) return e3_fail(E3Errc::kMalformed, "header kid differs from signed kid");
  if ((f.epoch & 0xff) != h->epoch_id) return e3_fail(E3Errc::kMalformed, "header epoch id differs from signed epoch");
  std::copy(a.children[3].bytes.begin(), a.children[3].bytes.end(), out.signature.begin());
  out.to_be_signed = sig_structure(kProtected, payload);
  return out;
}

}  // namespace armored::e3

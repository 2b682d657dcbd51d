#include "audit/binary_strings.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace armored::audit {

namespace {

bool printable_byte(std::uint8_t b) { return (b >= 0x20 && b < 0x7f) || b == '\t'; }

// Reads a DER length (short form or 1-2 length bytes); false when malformed.
bool read_der_length(ByteReader& r, std::size_t& out_) {
  std::uint8_t first = 0;
  if (!r.read_u8(first)) return false;
  if (first < 0x80) {
    out_ = first;
    return true;
  }
  std::size_t n = first & 0x7f;
  if (n == 0 || n > 2) return false;
  std::uint64_t v = 0;
  if (!r.read_uint_be(n, v)) return false;
  // DER: long form only when needed.
  if (v < 0x80 || (n == 2 && v < 0x100)) return false;
  out_ = static_cast<std::size_t>(v);
  return true;
}

bool read_tag(ByteReader& r, std::uint8_t tag, std::size_t& len) {
  std::uint8_t t = 0;
  return r.read_u8(t) && t == tag && read_der_length(r, len);
}

bool read_small_integer(ByteReader& r, std::uint8_t& value) {
  std::size_t len = 0;
  return read_tag(r, 0x02, len) && len == 1 && r.read_u8(value);
}

bool oid_is_key_algorithm(ByteSpan oid) {
  static const std::array<std::vector<std::uint8_t>, 9> kOids = {{
      {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01},  // rsaEncryption
      {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A},  // RSASSA-PSS
      {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01},              // id-ecPublicKey
      {0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01},              // id-dsa
      {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x03, 0x01},  // dhKeyAgreement
      {0x2B, 0x65, 0x70},                                      // Ed25519
      {0x2B, 0x65, 0x71},                                      // Ed448
      {0x2B, 0x65, 0x6E},                                      // X25519
      {0x2B, 0x65, 0x6F},                                      // X448
  }};
  return std::any_of(kOids.begin(), kOids.end(), [&](const auto& o) {
    return o.size() == oid.size() && std::equal(o.begin(), o.end(), oid.begin());
  });
}

}  // namespace

void StringsExtractor::end_run(Run& run, bool utf16, std::vector<ExtractedString>& out) {
  if (run.text.size() >= kMinLength) out.push_back({run.start, std::move(run.text), utf16});
  run.text.clear();
}

void StringsExtractor::step_utf16(Utf16Run& s, std::uint8_t b, bool low_byte,
                                  std::vector<ExtractedString>& out) {
  if (low_byte) {
    if (printable_byte(b)) {
      s.pending = b;
    } else {
      s.pending = -1;
      end_run(s.run, true, out);
    }
    return;
  }
  if (s.pending >= 0 && b == 0) {
    if (s.run.text.empty()) s.run.start = offset_ - 1;
    s.run.text.push_back(static_cast<char>(s.pending));
    if (s.run.text.size() >= kMaxLength) end_run(s.run, true, out);
  } else {
    end_run(s.run, true, out);
  }
  s.pending = -1;
}

void StringsExtractor::feed(ByteSpan chunk, std::vector<ExtractedString>& out) {
  for (std::uint8_t b : chunk) {
    if (printable_byte(b)) {
      if (ascii_.text.empty()) ascii_.start = offset_;
      ascii_.text.push_back(static_cast<char>(b));
      if (ascii_.text.size() >= kMaxLength) end_run(ascii_, false, out);
    } else {
      end_run(ascii_, false, out);
    }
    int parity = static_cast<int>(offset_ & 1);
    step_utf16(utf16_[parity], b, true, out);
    step_utf16(utf16_[1 - parity], b, false, out);
    ++offset_;
  }
}

void StringsExtractor::finish(std::vector<ExtractedString>& out) {
  end_run(ascii_, false, out);
  for (auto& s : utf16_) end_run(s.run, true, out);
}

std::string_view der_key_kind_name(DerKeyKind k) {
  switch (k) {
    case DerKeyKind::kPkcs8: return "PKCS#8 PrivateKeyInfo";
    case DerKeyKind::kEncryptedPkcs8: return "PKCS#8 EncryptedPrivateKeyInfo";
    case DerKeyKind::kRsaPkcs1: return "PKCS#1 RSAPrivateKey";
    case DerKeyKind::kEcSec1: return "SEC1 ECPrivateKey";
  }
  return "private key";
}

std::optional<DerKeyKind> der_private_key_at(ByteSpan data, std::size_t* out_len) {
  ByteReader r(data.first(std::min(data.size(), kDerLookahead)));
  std::size_t outer = 0;
  if (!read_tag(r, 0x30, outer) || outer < 32) return std::nullopt;
  if (out_len) *out_len = r.position() + outer;
  std::uint8_t next = 0;
  ByteReader peek = r;
  if (!peek.read_u8(next)) return std::nullopt;
  if (next == 0x30) {
    // EncryptedPrivateKeyInfo: SEQUENCE { SEQUENCE { OID PBES2 ... } OCTET STRING }
    static const std::uint8_t kPbes2[] = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86,
                                          0xF7, 0x0D, 0x01, 0x05, 0x0D};
    std::size_t alg = 0;
    ByteSpan oid;
    if (!read_tag(r, 0x30, alg) || !r.read_bytes(sizeof(kPbes2), oid)) return std::nullopt;
    if (std::memcmp(oid.data(), kPbes2, sizeof(kPbes2)) != 0) return std::nullopt;
    return DerKeyKind::kEncryptedPkcs8;
  }
  std::uint8_t version = 0;
  if (!read_small_integer(r, version) || version > 1) return std::nullopt;
  if (!r.read_u8(next)) return std::nullopt;
  std::size_t len = 0;
  if (next == 0x30 && read_der_length(r, len)) {
    // PrivateKeyInfo: AlgorithmIdentifier { OID, params } then OCTET STRING.
    std::size_t oid_len = 0;
    ByteSpan oid;
    std::size_t alg_end_remaining = r.remaining() >= len ? r.remaining() - len : 0;
    if (!read_tag(r, 0x06, oid_len) || !r.read_bytes(oid_len, oid)) return std::nullopt;
    if (!oid_is_key_algorithm(oid)) return std::nullopt;
    if (r.remaining() < alg_end_remaining) return std::nullopt;
    if (!r.skip(r.remaining() - alg_end_remaining)) return std::nullopt;
    std::uint8_t t = 0;
    if (!r.read_u8(t) || t != 0x04) return std::nullopt;
    return DerKeyKind::kPkcs8;
  }
  if (next == 0x02 && version == 0 && read_der_length(r, len)) {
    // RSAPrivateKey: version, modulus (>= 512 bits), publicExponent (small).
    if (len < 64) return std::nullopt;
    if (!r.skip(std::min(len, r.remaining())) ) return std::nullopt;
    if (len > kDerLookahead) return DerKeyKind::kRsaPkcs1;  // exponent beyond lookahead
    std::size_t e_len = 0;
    if (!read_tag(r, 0x02, e_len) || e_len == 0 || e_len > 4) return std::nullopt;
    return DerKeyKind::kRsaPkcs1;
  }
  if (next == 0x04 && version == 1 && read_der_length(r, len)) {
    // ECPrivateKey: version 1, privateKey OCTET STRING, [0] params / [1] public key.
    if (len < 20 || len > 72 || !r.skip(len)) return std::nullopt;
    std::uint8_t t = 0;
    if (!r.read_u8(t) || (t != 0xA0 && t != 0xA1)) return std::nullopt;
    return DerKeyKind::kEcSec1;
  }
  return std::nullopt;
}

void DerKeyFinder::scan(bool final, std::vector<DerKeyMatch>& out) {
  std::size_t i = 0;
  // Positions closer than kDerLookahead to the end wait for the next chunk.
  std::size_t limit = final ? window_.size()
                            : (window_.size() > kDerLookahead ? window_.size() - kDerLookahead : 0);
  for (; i < limit; ++i) {
    if (window_[i] != 0x30 || window_start_ + i < skip_until_) continue;
    ByteSpan at = ByteSpan(window_).subspan(i);
    std::size_t len = 0;
    if (auto kind = der_private_key_at(at, &len)) {
      out.push_back({window_start_ + i, *kind});
      skip_until_ = window_start_ + i + len;
    }
  }
  window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(limit));
  window_start_ += limit;
}

void DerKeyFinder::feed(ByteSpan chunk, std::vector<DerKeyMatch>& out) {
  window_.insert(window_.end(), chunk.begin(), chunk.end());
  scan(false, out);
}

void DerKeyFinder::finish(std::vector<DerKeyMatch>& out) { scan(true, out); }

}  // namespace armored::audit

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>

#include "common/bytes.h"
#include "pki/ossl.h"
#include "pki/pki.h"

namespace armored::pki {
namespace {

// A bounded DER reader: one TLV at a time, definite lengths only.
class Der {
 public:
  explicit Der(ByteSpan in) : in_(in) {}
  bool empty() const { return in_.empty(); }
  // The next element's contents if its tag is `tag`.
  bool read(std::uint8_t tag, ByteSpan& out_) {
    if (in_.size() < 2 || in_[0] != tag) return false;
    std::size_t len = in_[1];
    std::size_t head = 2;
    if (len >= 0x80) {
      const std::size_t n = len & 0x7f;
      if (n == 0 || n > 3 || in_.size() < 2 + n) return false;  // no certificate needs 16 MiB
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in_[2 + i];
      head += n;
    }
    if (in_.size() - head < len) return false;
    out_ = in_.subspan(head, len);
    in_ = in_.subspan(head + len);
    return true;
  }
  bool skip(std::uint8_t tag) {
    ByteSpan ignored;
    return read(tag, ignored);
  }
  bool peek(std::uint8_t tag) const { return !in_.empty() && in_[0] == tag; }

 private:
  ByteSpan in_;
};

constexpr std::uint8_t kSequence = 0x30, kInteger = 0x02, kBitString = 0x03, kOid = 0x06;
constexpr std::uint8_t kVersionTag = 0xa0;  // [0] EXPLICIT Version
// id-ecPublicKey (1.2.840.10045.2.1) and prime256v1 (1.2.840.10045.3.1.7).
constexpr std::uint8_t kEcPublicKey[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::uint8_t kPrime256v1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

bool same(ByteSpan a, ByteSpan b) { return std::ranges::equal(a, b); }

}  // namespace

PkiResult<std::array<std::uint8_t, 65>> certificate_p256_point(std::string_view pem) {
  const auto bad = [](const char* why) {
    return PkiResult<std::array<std::uint8_t, 65>>(unexpected(Error{ErrorCode::bad_input, why}));
  };
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(Error{ErrorCode::crypto, "out of memory"});
  // Base64 only: PEM_bytes_read_bio decodes the armour, nothing of X.509.
  unsigned char* der = nullptr;
  long der_len = 0;
  if (PEM_bytes_read_bio(&der, &der_len, nullptr, PEM_STRING_X509, bio.get(), nullptr, nullptr) != 1) {
    ossl::clear_errors();
    return bad("no PEM certificate");
  }
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(der, [](unsigned char* p) { OPENSSL_free(p); });
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
  // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
  //   issuer, validity, subject, subjectPublicKeyInfo, ... }   (RFC 5280 4.1)
  ByteSpan cert, tbs, spki, alg, key, oid;
  Der top(ByteSpan(der, static_cast<std::size_t>(der_len)));
  if (!top.read(kSequence, cert) || !top.empty()) return bad("certificate is not one DER SEQUENCE");
  Der c(cert);
  if (!c.read(kSequence, tbs)) return bad("certificate has no tbsCertificate");
  Der t(tbs);
  if (t.peek(kVersionTag) && !t.skip(kVersionTag)) return bad("bad certificate version");
  if (!t.skip(kInteger) || !t.skip(kSequence) || !t.skip(kSequence) || !t.skip(kSequence) || !t.skip(kSequence) ||
      !t.read(kSequence, spki)) {
    return bad("certificate fields before the public key are malformed");
  }
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  Der s(spki);
  if (!s.read(kSequence, alg) || !s.read(kBitString, key) || !s.empty()) return bad("malformed public key info");
  Der a(alg);
  if (!a.read(kOid, oid) || !same(oid, kEcPublicKey)) return bad("public key is not an EC key");
  if (!a.read(kOid, oid) || !same(oid, kPrime256v1) || !a.empty()) return bad("public key is not on P-256");
  // No unused bits, then the uncompressed point (RFC 5480 2.2).
  if (key.size() != 66 || key[0] != 0x00 || key[1] != 0x04) return bad("public key is not an uncompressed P-256 point");
  std::array<std::uint8_t, 65> point{};
  std::copy(key.begin() + 1, key.end(), point.begin());
  return point;
}

}  // namespace armored::pki

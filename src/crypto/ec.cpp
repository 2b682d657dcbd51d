#include "crypto/ec.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "crypto/internal/openssl_util.h"
#include "crypto/secure_zero.h"

namespace armored::crypto {

struct PkeyHandle {
  detail::PkeyPtr pkey;
};

namespace {

using detail::drain_errors;

constexpr const char* kCurve = "prime256v1";


std::shared_ptr<PkeyHandle> wrap(EVP_PKEY* p) {
  auto h = std::make_shared<PkeyHandle>();
  h->pkey.reset(p);
  return h;
}

// True for an EC key on P-256 given by name (explicit curve parameters are
// refused: E3 never needs them and they are a classic attack surface).
bool is_p256(EVP_PKEY* p) {
  if (EVP_PKEY_get_base_id(p) != EVP_PKEY_EC) return false;
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) return false;
  if (std::string_view(name, len) != kCurve) return false;
  // OpenSSL names a key with explicit parameters after the matching curve even
  // when, e.g., the cofactor differs; only the named-curve encoding is accepted.
  char enc[32] = {};
  if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof enc, &len) != 1) return false;
  return std::string_view(enc, len) == OSSL_PKEY_EC_ENCODING_GROUP;
}

// Point not at infinity, coordinates below p, on the curve. P-256 has
// cofactor 1: every such point has order n, so the full check's n*Q = O
// (a scalar multiplication, about half the cost of parsing a key) proves
// nothing more (SP 800-56A rev. 3, 5.6.2.3.4). The cloud parses one key per
// enrolled device at start-up and one per epoch announcement.
bool public_check(EVP_PKEY* p) {
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, p, nullptr));
  return ctx && EVP_PKEY_public_check_quick(ctx.get()) == 1;
}

CryptoResult<EcPublicKey> checked_public(EVP_PKEY* raw, auto make) {
  detail::PkeyPtr p(raw);
  if (!p || !is_p256(p.get()) || !public_check(p.get())) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return make(wrap(p.release()));
}

}  // namespace

CryptoResult<EcPublicKey> EcPublicKey::from_point(ByteSpan sec1) {
  // Only the two point forms a peer may legitimately send; 0x00 (infinity)
  // and hybrid 06/07 forms are refused.
  const bool uncompressed = sec1.size() == 65 && sec1[0] == 0x04;
  const bool compressed = sec1.size() == 33 && (sec1[0] == 0x02 || sec1[0] == 0x03);
  if (!uncompressed && !compressed) return unexpected(CryptoError::kBadKey);
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  detail::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!ctx || !bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) != 1) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EVP_PKEY* out = nullptr;
  if (!params || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return checked_public(out, [](auto h) { return EcPublicKey(std::move(h)); });
}

CryptoResult<EcPublicKey> EcPublicKey::from_spki_der(ByteSpan der) {
  const unsigned char* p = der.data();
  EVP_PKEY* out = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (out == nullptr || p != der.data() + der.size()) {
    EVP_PKEY_free(out);
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return checked_public(out, [](auto h) { return EcPublicKey(std::move(h)); });
}

CryptoResult<EcPublicKey> EcPublicKey::from_pem(std::string_view pem) {
  detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(CryptoError::kInternal);
  EVP_PKEY* out = nullptr;
  if (pem.find("BEGIN CERTIFICATE") != std::string_view::npos) {
    detail::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert) out = X509_get_pubkey(cert.get());
  } else {
    out = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  }
  if (out == nullptr) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return checked_public(out, [](auto h) { return EcPublicKey(std::move(h)); });
}

std::array<std::uint8_t, kP256PointSize> EcPublicKey::point() const {
  std::array<std::uint8_t, kP256PointSize> out{};
  std::size_t len = 0;
  // Keys are always constructed valid, so this cannot fail short of OOM.
  EVP_PKEY_get_octet_string_param(key_->pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(),
                                  out.size(), &len);
  if (len != out.size() || out[0] != 0x04) {
    // Stored compressed: re-encode uncompressed via the EC_POINT conversion form.
    EVP_PKEY_set_utf8_string_param(key_->pkey.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                   "uncompressed");
    EVP_PKEY_get_octet_string_param(key_->pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(),
                                    out.size(), &len);
  }
  drain_errors();
  return out;
}

Bytes EcPublicKey::spki_der() const {
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(key_->pkey.get(), &buf);
  Bytes out;
  if (len > 0) out.assign(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string EcPublicKey::to_pem() const {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_->pkey.get()) != 1) {
    drain_errors();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

namespace {

bool digest_verify(EVP_PKEY* key, ByteSpan message, ByteSpan der) {
  detail::MdCtxPtr md(EVP_MD_CTX_new());
  bool ok = md && EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
            EVP_DigestVerify(md.get(), der.data(), der.size(), message.data(), message.size()) == 1;
  if (!ok) drain_errors();
  return ok;
}

}  // namespace

bool EcPublicKey::verify_der(ByteSpan message, ByteSpan signature_der) const {
  if (signature_der.empty()) return false;
  return digest_verify(key_->pkey.get(), message, signature_der);
}

bool EcPublicKey::verify_p1363(ByteSpan message, ByteSpan signature_rs) const {
  auto der = ecdsa_p1363_to_der(signature_rs);
  if (!der) return false;
  return digest_verify(key_->pkey.get(), message, *der);
}

CryptoResult<EcPrivateKey> EcPrivateKey::generate() {
  EVP_PKEY* p = EVP_EC_gen(kCurve);
  if (p == nullptr) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  return EcPrivateKey(wrap(p));
}

CryptoResult<EcPrivateKey> EcPrivateKey::from_scalar(ByteSpan scalar) {
  if (scalar.size() != kP256ScalarSize) return unexpected(CryptoError::kBadKey);
  detail::EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  detail::BnPtr d(BN_secure_new());
  if (!group || !d || BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), d.get()) == nullptr) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return unexpected(CryptoError::kBadKey);
  }
  // OpenSSL 3.0 does not derive the public point on import, so compute d*G.
  detail::EcPointPtr q(EC_POINT_new(group.get()));
  std::uint8_t pub[kP256PointSize];
  if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, nullptr) !=
          sizeof pub) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  detail::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!ctx || !bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) != 1) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EVP_PKEY* out = nullptr;
  if (!params || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return EcPrivateKey(wrap(out));
}

CryptoResult<EcPrivateKey> EcPrivateKey::from_pem(std::string_view pem) {
  detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(CryptoError::kInternal);
  detail::PkeyPtr p(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!p || !is_p256(p.get())) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return EcPrivateKey(wrap(p.release()));
}

std::string EcPrivateKey::to_pem() const {
  detail::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    drain_errors();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return out;
}

evp_pkey_st* EcPrivateKey::openssl_pkey() const { return key_->pkey.get(); }

CryptoResult<EcPublicKey> EcPrivateKey::public_key() const {
  std::uint8_t buf[kP256PointSize];
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_->pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len) != 1) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  return EcPublicKey::from_point({buf, len});
}

CryptoResult<std::array<std::uint8_t, kP256SharedSize>> EcPrivateKey::ecdh(const EcPublicKey& peer) const {
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_->pkey.get(), nullptr));
  std::array<std::uint8_t, kP256SharedSize> out{};
  std::size_t len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.handle().pkey.get(), 1) != 1) {
    drain_errors();
    return unexpected(CryptoError::kBadKey);
  }
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    drain_errors();
    secure_zero(out);
    return unexpected(CryptoError::kInternal);
  }
  return out;
}

CryptoResult<Bytes> EcPrivateKey::sign_der(ByteSpan message) const {
  detail::MdCtxPtr md(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!md || EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key_->pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, message.data(), message.size()) != 1) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  Bytes sig(len);
  if (EVP_DigestSign(md.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  sig.resize(len);
  return sig;
}

CryptoResult<std::array<std::uint8_t, kP256P1363SigSize>> EcPrivateKey::sign_p1363(ByteSpan message) const {
  auto der = sign_der(message);
  if (!der) return unexpected(der.error());
  return ecdsa_der_to_p1363(*der);
}

CryptoResult<std::array<std::uint8_t, kP256P1363SigSize>> ecdsa_der_to_p1363(ByteSpan der) {
  const unsigned char* p = der.data();
  detail::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    drain_errors();
    return unexpected(CryptoError::kBadSignature);
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::array<std::uint8_t, kP256P1363SigSize> out{};
  if (BN_bn2binpad(r, out.data(), 32) != 32 || BN_bn2binpad(s, out.data() + 32, 32) != 32) {
    drain_errors();
    return unexpected(CryptoError::kBadSignature);
  }
  return out;
}

CryptoResult<Bytes> ecdsa_p1363_to_der(ByteSpan rs) {
  if (rs.size() != kP256P1363SigSize) return unexpected(CryptoError::kBadSignature);
  detail::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(rs.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  unsigned char* buf = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &buf);
  if (len <= 0) {
    drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

}  // namespace armored::crypto

// The bounded binary reader: strings as `strings` finds them, DER keys by shape.

#include <gtest/gtest.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit/binary_strings.h"

namespace armored::audit {
namespace {

std::vector<ExtractedString> extract(const Bytes& data, std::size_t chunk) {
  StringsExtractor x;
  std::vector<ExtractedString> out;
  for (std::size_t i = 0; i < data.size(); i += chunk) {
    x.feed(ByteSpan(data).subspan(i, std::min(chunk, data.size() - i)), out);
  }
  x.finish(out);
  return out;
}

TEST(AuditBinaryStrings, AsciiAndUtf16RunsWithOffsetsWhateverTheChunking) {
  Bytes data = {0x00, 0x01};
  for (char c : std::string("hello world")) data.push_back(static_cast<std::uint8_t>(c));
  data.push_back(0);
  data.push_back(0xff);
  std::size_t utf16_at = data.size();
  for (char c : std::string("wide")) {
    data.push_back(static_cast<std::uint8_t>(c));
    data.push_back(0);
  }
  data.push_back(0xff);
  for (char c : std::string("abc")) data.push_back(static_cast<std::uint8_t>(c));  // too short
  for (std::size_t chunk : {1u, 3u, 7u, 4096u}) {
    auto s = extract(data, chunk);
    ASSERT_EQ(s.size(), 2u) << chunk;
    EXPECT_EQ(s[0].text, "hello world");
    EXPECT_EQ(s[0].offset, 2u);
    EXPECT_FALSE(s[0].utf16);
    EXPECT_EQ(s[1].text, "wide");
    EXPECT_EQ(s[1].offset, utf16_at);
    EXPECT_TRUE(s[1].utf16);
  }
}

TEST(AuditBinaryStrings, LongRunsAreCutSoMemoryStaysBounded) {
  Bytes data(10000, 'A');
  auto s = extract(data, 333);
  ASSERT_GE(s.size(), 9u);
  for (const auto& e : s) EXPECT_LE(e.text.size(), StringsExtractor::kMaxLength);
  EXPECT_EQ(s[1].offset, StringsExtractor::kMaxLength);
}

Bytes der_of(EVP_PKEY* pkey, bool pkcs8) {
  unsigned char* buf = nullptr;
  int n = 0;
  if (pkcs8) {
    PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(pkey);
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, &buf);
    PKCS8_PRIV_KEY_INFO_free(p8);
  } else {
    n = i2d_PrivateKey(pkey, &buf);  // PKCS#1 for RSA, SEC1 for EC
  }
  Bytes out(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

std::vector<DerKeyMatch> find_keys(const Bytes& data, std::size_t chunk) {
  DerKeyFinder f;
  std::vector<DerKeyMatch> out;
  for (std::size_t i = 0; i < data.size(); i += chunk) {
    f.feed(ByteSpan(data).subspan(i, std::min(chunk, data.size() - i)), out);
  }
  f.finish(out);
  return out;
}

TEST(AuditDerKeys, RecognisesPkcs8Pkcs1AndSec1KeysMadeByOpenSsl) {
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_TRUE(ec && rsa && ed);
  struct Case {
    Bytes der;
    DerKeyKind kind;
  };
  std::vector<Case> cases = {{der_of(ec, true), DerKeyKind::kPkcs8},
                             {der_of(ec, false), DerKeyKind::kEcSec1},
                             {der_of(rsa, true), DerKeyKind::kPkcs8},
                             {der_of(rsa, false), DerKeyKind::kRsaPkcs1},
                             {der_of(ed, true), DerKeyKind::kPkcs8}};
  for (const auto& c : cases) {
    Bytes blob(777, 0x30);  // many SEQUENCE tags that lead nowhere
    std::size_t at = blob.size();
    blob.insert(blob.end(), c.der.begin(), c.der.end());
    blob.insert(blob.end(), 100, 0);
    for (std::size_t chunk : {1u, 50u, 65536u}) {
      auto keys = find_keys(blob, chunk);
      ASSERT_EQ(keys.size(), 1u) << der_key_kind_name(c.kind) << " chunk " << chunk;
      EXPECT_EQ(keys[0].offset, at);
      EXPECT_EQ(keys[0].kind, c.kind);
    }
  }
  EVP_PKEY_free(ec);
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(ed);
}

TEST(AuditDerKeys, PublicKeysCertificateLikeAndTruncatedShapesAreNotKeys) {
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(ec, &buf);
  Bytes spki(buf, buf + n);
  OPENSSL_free(buf);
  EXPECT_TRUE(find_keys(spki, 4096).empty());  // SubjectPublicKeyInfo has no version INTEGER
  Bytes p8 = der_of(ec, true);
  EXPECT_FALSE(der_private_key_at(ByteSpan(p8).first(10)));  // truncated
  Bytes bad = p8;
  bad[4] = 0x05;  // version 5
  EXPECT_FALSE(der_private_key_at(bad));
  Bytes long_len = {0x30, 0x81, 0x10};  // non-minimal long-form length
  long_len.resize(64, 0);
  EXPECT_FALSE(der_private_key_at(long_len));
  EVP_PKEY_free(ec);
}

}  // namespace
}  // namespace armored::audit

// COSE WG examples: COSE_Encrypt0 messages for the AEADs E3 supports are
// decoded with our CBOR decoder and decrypted with AeadContext; COSE_Sign1
// ES256 messages are verified with our Sig_structure and P1363 verifier.
// Every `fail` example must fail. Quirks: see tests/vectors/README.md.

#include <gtest/gtest.h>

#include <filesystem>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "common/hex.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/announcement.h"
#include "vectors/json_vectors.h"

namespace armored::e3 {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;
namespace fs = std::filesystem;

Bytes base64url(const std::string& s) {
  Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-' ? 62 : c == '_' ? 63 : -1;
    if (v < 0) throw std::runtime_error("bad base64url");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

// RFC 9053 content-encryption algorithms as AEAD parameter sets.
std::optional<crypto::AeadSpec> cose_spec(std::int64_t alg) {
  using crypto::AeadCipher;
  switch (alg) {
    case 1: return crypto::AeadSpec{AeadCipher::kAesGcm, 16, 12, 16};
    case 2: return crypto::AeadSpec{AeadCipher::kAesGcm, 24, 12, 16};
    case 3: return crypto::AeadSpec{AeadCipher::kAesGcm, 32, 12, 16};
    case 10: return crypto::AeadSpec{AeadCipher::kAesCcm, 16, 13, 8};
    case 11: return crypto::AeadSpec{AeadCipher::kAesCcm, 32, 13, 8};
    case 12: return crypto::AeadSpec{AeadCipher::kAesCcm, 16, 7, 8};
    case 13: return crypto::AeadSpec{AeadCipher::kAesCcm, 32, 7, 8};
    case 30: return crypto::AeadSpec{AeadCipher::kAesCcm, 16, 13, 16};
    case 31: return crypto::AeadSpec{AeadCipher::kAesCcm, 32, 13, 16};
    case 32: return crypto::AeadSpec{AeadCipher::kAesCcm, 16, 7, 16};
    case 33: return crypto::AeadSpec{AeadCipher::kAesCcm, 32, 7, 16};
    case 24: return crypto::AeadSpec{AeadCipher::kChaCha20Poly1305, 32, 12, 16};
    default: return std::nullopt;
  }
}

// A header map's protected bytes as they enter Enc_structure / Sig_structure:
// an empty map is sent as a zero-length bstr (RFC 9052 3), and the examples
// that transmit h'A0' were computed that way.
Bytes protected_for_structure(const Bytes& sent) { return sent == Bytes{0xa0} ? Bytes{} : sent; }

std::optional<std::int64_t> header_alg(const cbor::Item& prot_map, const cbor::Item& unprot) {
  const cbor::Item* a = prot_map.find(1);
  if (a == nullptr) a = unprot.find(1);
  if (a == nullptr || !a->is_int()) return std::nullopt;
  return a->int_value();
}

// Returns the plaintext, or nullopt when any processing step fails.
std::optional<Bytes> open_encrypt0(const nlohmann::json& ex, std::string* aad_hex) {
  const Bytes msg = unhex(ex["output"]["cbor"]);
  auto top = cbor::decode(msg);
  if (!top) return std::nullopt;
  const cbor::Item* body = &*top;
  if (body->type == cbor::Type::kTag) {
    if (body->uint_value != 16) return std::nullopt;  // COSE_Encrypt0_Tagged
    body = &body->children[0];
  }
  if (body->type != cbor::Type::kArray || body->children.size() != 3 || body->children[0].type != cbor::Type::kBstr ||
      body->children[1].type != cbor::Type::kMap || body->children[2].type != cbor::Type::kBstr) {
    return std::nullopt;
  }
  const Bytes& prot = body->children[0].bytes;
  cbor::Item prot_map;
  prot_map.type = cbor::Type::kMap;
  if (!prot.empty()) {
    auto pm = cbor::decode(prot);
    if (!pm || pm->type != cbor::Type::kMap) return std::nullopt;
    prot_map = std::move(*pm);
  }
  auto alg = header_alg(prot_map, body->children[1]);
  if (!alg) return std::nullopt;
  auto spec = cose_spec(*alg);
  if (!spec) return std::nullopt;
  const cbor::Item* iv = body->children[1].find(5);
  if (iv == nullptr || iv->type != cbor::Type::kBstr) return std::nullopt;
  const auto& enc = ex["input"]["encrypted"];
  const Bytes key = base64url(enc["recipients"][0]["key"]["k"]);
  const Bytes external = enc.contains("external") ? unhex(enc["external"]) : Bytes{};
  Bytes aad;
  cbor::Writer w(aad);
  w.array(3).tstr("Encrypt0").bstr(protected_for_structure(prot)).bstr(external);
  *aad_hex = to_hex(aad);
  auto ctx = crypto::AeadContext::create(*spec, key);
  if (!ctx) return std::nullopt;
  Bytes pt(body->children[2].bytes.size());
  auto n = ctx->open(iv->bytes, aad, body->children[2].bytes, pt);
  if (!n) return std::nullopt;
  pt.resize(*n);
  return pt;
}

std::vector<fs::path> files_in(const std::string& folder, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(ARMORED_SOURCE_DIR) / "tests/vectors/cose" / folder)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CoseWgExamples, Encrypt0) {
  int passed = 0, failed_as_expected = 0;
  std::vector<fs::path> files;
  for (auto [folder, prefix] : {std::pair{"aes-gcm-examples", "aes-gcm-enc-"}, {"aes-ccm-examples", "aes-ccm-enc-"},
                                {"chacha-poly-examples", "chacha-poly-enc-"}, {"encrypted-tests", "enc-"}}) {
    auto f = files_in(folder, prefix);
    files.insert(files.end(), f.begin(), f.end());
  }
  for (const auto& path : files) {
    const std::string name = path.parent_path().filename().string() + "/" + path.filename().string();
    SCOPED_TRACE(name);
    const auto ex = load_vectors("cose/" + name);
    std::string aad_hex;
    auto pt = open_encrypt0(ex, &aad_hex);
    if (ex.value("fail", false)) {
      EXPECT_FALSE(pt) << "fail example was accepted";
      ++failed_as_expected;
      continue;
    }
    ASSERT_TRUE(pt) << "example did not decrypt";
    EXPECT_EQ(as_string(*pt), ex["input"]["plaintext"].get<std::string>());
    // chacha-poly-enc-01 prints "Encrypt1" in AAD_hex (documented quirk);
    // enc-pass-01 prints the h'A0' protected header that was not used.
    const std::string printed = ex["intermediates"]["AAD_hex"];
    if (name != "chacha-poly-examples/chacha-poly-enc-01.json" && name != "encrypted-tests/enc-pass-01.json") {
      EXPECT_EQ(aad_hex, to_hex(unhex(printed)));
    }
    ++passed;
  }
  // 3 GCM + 8 CCM + 1 ChaCha + 3 enc-pass decrypt; 1 GCM + 6 enc-fail fail.
  EXPECT_EQ(passed, 15);
  EXPECT_EQ(failed_as_expected, 7);
}

TEST(CoseWgExamples, Sign1Es256) {
  int verified = 0, failed_as_expected = 0;
  for (const auto& path : files_in("sign1-tests", "sign-")) {
    SCOPED_TRACE(path.filename().string());
    const auto ex = load_vectors("cose/sign1-tests/" + path.filename().string());
    const auto& key = ex["input"]["sign0"]["key"];
    Bytes point{0x04};
    for (const char* c : {"x", "y"}) {
      Bytes b = base64url(key[c]);
      point.insert(point.end(), b.begin(), b.end());
    }
    auto pub = crypto::EcPublicKey::from_point(point);
    ASSERT_TRUE(pub);
    bool ok = false;
    const Bytes msg = unhex(ex["output"]["cbor"]);
    auto top = cbor::decode(msg);
    // COSE_Sign1_Tagged (18) or, as in sign-pass-03, the untagged array.
    const bool shape_ok = top && (top->type == cbor::Type::kArray || (top->type == cbor::Type::kTag && top->uint_value == 18));
    if (shape_ok) {
      const auto& a = top->type == cbor::Type::kTag ? top->children[0] : *top;
      if (a.type == cbor::Type::kArray && a.children.size() == 4 && a.children[0].type == cbor::Type::kBstr &&
          a.children[2].type == cbor::Type::kBstr && a.children[3].type == cbor::Type::kBstr) {
        const Bytes& prot = a.children[0].bytes;
        cbor::Item prot_map;
        prot_map.type = cbor::Type::kMap;
        bool prot_ok = prot.empty();
        if (!prot.empty()) {
          auto pm = cbor::decode(prot);
          prot_ok = pm && pm->type == cbor::Type::kMap;
          if (prot_ok) prot_map = std::move(*pm);
        }
        auto alg = prot_ok ? header_alg(prot_map, a.children[1]) : std::nullopt;
        if (alg == -7) {
          const auto& in = ex["input"]["sign0"];
          const Bytes external = in.contains("external") ? unhex(in["external"]) : Bytes{};
          Bytes tbs;
          cbor::Writer w(tbs);
          w.array(4).tstr("Signature1").bstr(protected_for_structure(prot)).bstr(external).bstr(a.children[2].bytes);
          if (external.empty()) {
            // E3's own Sig_structure builder (used for epoch announcements) agrees.
            EXPECT_EQ(sig_structure(protected_for_structure(prot), a.children[2].bytes), tbs);
          }
          if (!ex.value("fail", false) && path.filename() != "sign-pass-01.json") {
            EXPECT_EQ(to_hex(tbs), to_hex(unhex(ex["intermediates"]["ToBeSign_hex"])));
          }
          ok = pub->verify_p1363(tbs, a.children[3].bytes);
        }
      }
    }
    if (ex.value("fail", false)) {
      EXPECT_FALSE(ok);
      ++failed_as_expected;
    } else {
      EXPECT_TRUE(ok);
      ++verified;
    }
  }
  EXPECT_EQ(verified, 3);
  EXPECT_EQ(failed_as_expected, 6);
  std::printf("COSE_Sign1: %d verified, %d failed as expected\n", verified, failed_as_expected);
}

}  // namespace
}  // namespace armored::e3

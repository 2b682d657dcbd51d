// RFC 8613 Appendix C through our OSCORE derivation, nonce construction,
// CBOR writer and AES-CCM-16-64-128: every derived key, common IV, nonce,
// info, AAD and ciphertext must match exactly.

#include <gtest/gtest.h>

#include "cbor/writer.h"
#include "common/hex.h"
#include "crypto/aead.h"
#include "e3/oscore.h"
#include "vectors/json_vectors.h"

namespace armored::e3 {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;
using nlohmann::json;

std::optional<Bytes> opt_bytes(const json& j) {
  if (j.is_null()) return std::nullopt;
  return unhex(j.get<std::string>());
}

TEST(Rfc8613AppendixC, KeyDerivation) {
  const auto doc = load_vectors("oscore/rfc8613-appendix-c.json");
  int cases = 0;
  for (const auto& kd : doc["key_derivation"]) {
    SCOPED_TRACE(kd["id"].get<std::string>());
    ++cases;
    const auto& in = kd["input"];
    ASSERT_EQ(kd["aead_alg"].get<int>(), 10);
    const auto alg = crypto::AeadAlg::kAesCcm16_64_128;
    const Bytes secret = unhex(in["master_secret"]);
    const Bytes salt = in["master_salt"].is_null() ? Bytes{} : unhex(in["master_salt"]);
    const auto id_context = opt_bytes(in["id_context"]);
    const Bytes sender = unhex(in["sender_id"]), recipient = unhex(in["recipient_id"]);

    EXPECT_EQ(to_hex(oscore::info(sender, id_context, 10, "Key", 16)), kd["intermediate"]["info_sender_key"]);
    EXPECT_EQ(to_hex(oscore::info(recipient, id_context, 10, "Key", 16)), kd["intermediate"]["info_recipient_key"]);
    EXPECT_EQ(to_hex(oscore::info({}, id_context, 10, "IV", 13)), kd["intermediate"]["info_common_iv"]);

    auto ctx = oscore::derive(secret, salt, id_context, sender, recipient, alg);
    ASSERT_TRUE(ctx);
    const auto& out = kd["output"];
    EXPECT_EQ(to_hex(ctx->sender_key), out["sender_key"]);
    EXPECT_EQ(to_hex(ctx->recipient_key), out["recipient_key"]);
    EXPECT_EQ(to_hex(ctx->common_iv), out["common_iv"]);
    Bytes nonce(13);
    oscore::make_nonce(ctx->common_iv, sender, 0, nonce);
    EXPECT_EQ(to_hex(nonce), out["sender_nonce_piv_0"]);
    oscore::make_nonce(ctx->common_iv, recipient, 0, nonce);
    EXPECT_EQ(to_hex(nonce), out["recipient_nonce_piv_0"]);
  }
  EXPECT_EQ(cases, 6);
}

// aad_array = [1, [alg], request_kid, request_piv, options = h''] (RFC 8613 5.4).
Bytes oscore_aad_array(ByteSpan kid, ByteSpan piv) {
  Bytes out;
  cbor::Writer w(out);
  w.array(5).uint(1).array(1).integer(10).bstr(kid).bstr(piv).bstr({});
  return out;
}

Bytes enc_structure(ByteSpan external_aad) {
  Bytes out;
  cbor::Writer w(out);
  w.array(3).tstr("Encrypt0").bstr({}).bstr(external_aad);
  return out;
}

TEST(Rfc8613AppendixC, MessageProtection) {
  const auto doc = load_vectors("oscore/rfc8613-appendix-c.json");
  int cases = 0;
  for (const auto& m : doc["message_protection"]) {
    SCOPED_TRACE(m["id"].get<std::string>());
    ++cases;
    const auto& in = m["input"];
    const auto& mid = m["intermediate"];
    const Bytes common_iv = unhex(in["common_iv"]);
    const auto seq = in["sender_sequence_number"].get<std::uint64_t>();
    // Requests and C.8 carry their own Partial IV; C.7 reuses the request's
    // kid and Partial IV for both AAD and nonce (RFC 8613 5.2, 5.4).
    const bool bound_to_request = m.contains("request_binding") && !m["request_binding"].is_null();
    const Bytes request_kid = bound_to_request ? unhex(m["request_binding"]["request_kid"]) : unhex(mid["kid"]);
    const Bytes request_piv =
        bound_to_request ? unhex(m["request_binding"]["request_partial_iv"]) : unhex(mid["partial_iv"]);
    if (mid.contains("partial_iv")) {
      Bytes piv(5);
      piv.resize(oscore::encode_partial_iv(seq, piv));
      EXPECT_EQ(to_hex(piv), mid["partial_iv"]);
    }
    const Bytes aad_array = oscore_aad_array(request_kid, request_piv);
    EXPECT_EQ(to_hex(aad_array), mid["aad_array"]);
    const Bytes aad = enc_structure(aad_array);
    EXPECT_EQ(to_hex(aad), mid["aad"]);

    Bytes nonce(13);
    if (mid.contains("partial_iv")) {
      oscore::make_nonce(common_iv, unhex(in["sender_id"]), seq, nonce);
    } else {
      std::uint64_t req_seq = 0;
      for (auto b : request_piv) req_seq = (req_seq << 8) | b;
      oscore::make_nonce(common_iv, request_kid, req_seq, nonce);
    }
    EXPECT_EQ(to_hex(nonce), mid["nonce"]);

    auto aead = crypto::AeadContext::create(crypto::AeadAlg::kAesCcm16_64_128, unhex(in["sender_key"]));
    ASSERT_TRUE(aead);
    const Bytes pt = unhex(mid["plaintext"]);
    Bytes ct(pt.size() + 8);
    ASSERT_TRUE(aead->seal(nonce, aad, pt, ct));
    EXPECT_EQ(to_hex(ct), m["output"]["ciphertext"]);
    Bytes back(pt.size());
    ASSERT_TRUE(aead->open(nonce, aad, ct, back));
    EXPECT_EQ(back, pt);
  }
  EXPECT_EQ(cases, 5);
}

}  // namespace
}  // namespace armored::e3

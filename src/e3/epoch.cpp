#include "e3/epoch.h"

#include <algorithm>

#include "cbor/writer.h"
#include "crypto/hkdf.h"
#include "crypto/secure_zero.h"

namespace armored::e3 {

EpochSecrets::~EpochSecrets() {
  crypto::secure_zero(master_secret);
  crypto::secure_zero(master_salt);
}

Bytes epoch_info(std::string_view label, const EpochBinding& b) {
  Bytes out;
  cbor::Writer w(out);
  w.array(6).tstr(label).bstr(b.kid).uint(b.epoch).integer(static_cast<std::int64_t>(b.alg));
  w.bstr(b.cloud_key_id).bstr(b.ephemeral_public);
  return out;
}

E3Result<EpochSecrets> derive_epoch_secrets(ByteSpan shared_secret, const EpochBinding& b) {
  EpochSecrets s;
  s.epoch = b.epoch;
  s.alg = b.alg;
  if (!crypto::hkdf_sha256(shared_secret, {}, epoch_info("E3 Master Secret", b), s.master_secret) ||
      !crypto::hkdf_sha256(shared_secret, {}, epoch_info("E3 Master Salt", b), s.master_salt)) {
    return e3_fail(E3Errc::kInternal, "HKDF failed");
  }
  return s;
}

EpochMaterial::~EpochMaterial() {
  crypto::secure_zero(keys_[0]);
  crypto::secure_zero(keys_[1]);
}

E3Result<EpochMaterial> EpochMaterial::derive(ByteSpan kid, const EpochSecrets& secrets) {
  if (kid.size() < kMinKidSize || kid.size() > kMaxKidSize) return e3_fail(E3Errc::kBadConfig, "kid must be 1..8 bytes");
  const std::uint8_t device_id[1] = {kDeviceSenderId};
  const std::uint8_t cloud_id[1] = {kCloudSenderId};
  auto ctx = oscore::derive(secrets.master_secret, secrets.master_salt, Bytes(kid.begin(), kid.end()), device_id,
                            cloud_id, secrets.alg);
  if (!ctx) return unexpected(ctx.error());
  EpochMaterial m;
  const bool fits = ctx->sender_key.size() == ctx->recipient_key.size() && ctx->sender_key.size() <= oscore::kMaxKey &&
                    ctx->common_iv.size() <= oscore::kMaxNonce;
  if (fits) {
    m.secrets_ = secrets;
    m.key_size_ = static_cast<std::uint8_t>(ctx->sender_key.size());
    std::copy(ctx->sender_key.begin(), ctx->sender_key.end(), m.keys_[0].begin());
    std::copy(ctx->recipient_key.begin(), ctx->recipient_key.end(), m.keys_[1].begin());
    m.common_iv_size_ = static_cast<std::uint8_t>(ctx->common_iv.size());
    m.tag_size_ = static_cast<std::uint8_t>(crypto::spec_of(secrets.alg).tag_len);
    m.framing_[0] = DataFraming(secrets.alg, kid, secrets.epoch, MessageType::kUplink);
    m.framing_[1] = DataFraming(secrets.alg, kid, secrets.epoch, MessageType::kDownlink);
    oscore::make_nonce(ctx->common_iv, device_id, 0, m.nonce_base_[0]);
    oscore::make_nonce(ctx->common_iv, cloud_id, 0, m.nonce_base_[1]);
  }
  crypto::secure_zero(ctx->sender_key);
  crypto::secure_zero(ctx->recipient_key);
  if (!fits) return e3_fail(E3Errc::kInternal, "OSCORE derivation gave unexpected sizes");
  return m;
}

E3Result<EpochKeys> EpochKeys::derive(ByteSpan kid, const EpochSecrets& secrets) {
  auto m = EpochMaterial::derive(kid, secrets);
  if (!m) return unexpected(m.error());
  auto device = crypto::AeadContext::create(secrets.alg, m->key(MessageType::kUplink));
  auto cloud = crypto::AeadContext::create(secrets.alg, m->key(MessageType::kDownlink));
  if (!device || !cloud) return e3_fail(E3Errc::kInternal, "AEAD keying failed");
  return EpochKeys(std::move(*m), std::move(*device), std::move(*cloud));
}

}  // namespace armored::e3

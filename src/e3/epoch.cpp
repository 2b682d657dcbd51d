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

EpochKeys::EpochKeys(ByteSpan kid, const EpochSecrets& s, crypto::AeadContext device, crypto::AeadContext cloud,
                     const Bytes& common_iv)
    : secrets_(s),
      device_key_(std::move(device)),
      cloud_key_(std::move(cloud)),
      common_iv_size_(common_iv.size()),
      tag_size_(crypto::spec_of(s.alg).tag_len),
      framing_{DataFraming(s.alg, kid, s.epoch, MessageType::kUplink),
               DataFraming(s.alg, kid, s.epoch, MessageType::kDownlink)} {
  const std::uint8_t device_id[1] = {kDeviceSenderId};
  const std::uint8_t cloud_id[1] = {kCloudSenderId};
  oscore::make_nonce(common_iv, device_id, 0, nonce_base_[0]);
  oscore::make_nonce(common_iv, cloud_id, 0, nonce_base_[1]);
}

E3Result<EpochKeys> EpochKeys::derive(ByteSpan kid, const EpochSecrets& secrets) {
  if (kid.size() < kMinKidSize || kid.size() > kMaxKidSize) return e3_fail(E3Errc::kBadConfig, "kid must be 1..8 bytes");
  const std::uint8_t device_id[1] = {kDeviceSenderId};
  const std::uint8_t cloud_id[1] = {kCloudSenderId};
  auto ctx = oscore::derive(secrets.master_secret, secrets.master_salt, Bytes(kid.begin(), kid.end()), device_id,
                            cloud_id, secrets.alg);
  if (!ctx) return unexpected(ctx.error());
  auto device = crypto::AeadContext::create(secrets.alg, ctx->sender_key);
  auto cloud = crypto::AeadContext::create(secrets.alg, ctx->recipient_key);
  crypto::secure_zero(ctx->sender_key);
  crypto::secure_zero(ctx->recipient_key);
  if (!device || !cloud) return e3_fail(E3Errc::kInternal, "AEAD keying failed");
  return EpochKeys(kid, secrets, std::move(*device), std::move(*cloud), ctx->common_iv);
}

}  // namespace armored::e3

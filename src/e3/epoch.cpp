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

EpochKeys::EpochKeys(const EpochSecrets& s, crypto::AeadContext device, crypto::AeadContext cloud,
                     const Bytes& common_iv)
    : secrets_(s), device_key_(std::move(device)), cloud_key_(std::move(cloud)), common_iv_size_(common_iv.size()) {
  std::copy(common_iv.begin(), common_iv.end(), common_iv_.begin());
}

E3Result<EpochKeys> EpochKeys::derive(ByteSpan kid, const EpochSecrets& secrets) {
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
  return EpochKeys(secrets, std::move(*device), std::move(*cloud), ctx->common_iv);
}

void EpochKeys::nonce(MessageType direction, std::uint64_t seq, MutableByteSpan out_) const {
  const std::uint8_t id[1] = {direction == MessageType::kUplink ? kDeviceSenderId : kCloudSenderId};
  oscore::make_nonce({common_iv_.data(), common_iv_size_}, id, seq, out_);
}

}  // namespace armored::e3

// docs/e3-protocol.md section 10 (worked example): every hex value printed
// in the document is recomputed here from the example's inputs, and the
// document's announcement and envelope are accepted by a real Opener.
// E3_PRINT_EXAMPLE=1 prints the block for the document.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/hex.h"
#include "crypto/hkdf.h"
#include "e3/announcement.h"
#include "e3/e3.h"
#include "e3/oscore.h"

namespace armored::e3 {
namespace {

class FixedRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), 0x33); }
};

const Bytes kKid = {0x4a, 0x7f, 0x01};
const Bytes kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

Bytes scalar(std::uint8_t b) { return Bytes(32, b); }

std::map<std::string, std::string> doc_values() {
  std::ifstream in(std::string(ARMORED_SOURCE_DIR) + "/docs/e3-protocol.md");
  std::map<std::string, std::string> out;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "```text e3-example") { inside = true; continue; }
    if (inside && line == "```") break;
    if (!inside) continue;
    auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    key.erase(key.find_last_not_of(' ') + 1);
    out[key] += line.substr(eq + 3);
  }
  return out;
}

TEST(SpecExample, DocumentBytesAreWhatTheCodeProduces) {
  ManualClock clock;
  FixedRng rng;
  MemoryStateStore store;
  auto identity = crypto::EcPrivateKey::from_scalar(scalar(0x11)).value();
  auto cloud = crypto::EcPrivateKey::from_scalar(scalar(0x22)).value();
  auto eph = crypto::EcPrivateKey::from_scalar(scalar(0x33)).value();
  SealerConfig cfg;
  cfg.kid = kKid;
  cfg.cloud_key_id = kCloudKeyId;
  cfg.alg = crypto::AeadAlg::kAes128Gcm;
  auto sealer = Sealer::create(cfg, identity, cloud.public_key().value(), clock, rng, store).value();
  const Bytes announcement = sealer.start_epoch().value();
  Bytes reading(52);
  for (std::size_t i = 0; i < reading.size(); ++i) reading[i] = static_cast<std::uint8_t>(i);
  Bytes envelope(sealer.sealed_size(52));
  ASSERT_EQ(sealer.seal(reading, envelope).value(), 74u);

  // Recompute every intermediate independently of Sealer.
  const auto eph_pub = eph.public_key()->point();
  const auto shared = eph.ecdh(cloud.public_key().value()).value();
  const EpochBinding binding{kKid, 1, cfg.alg, kCloudKeyId, eph_pub};
  const Bytes info_secret = epoch_info("E3 Master Secret", binding);
  const Bytes info_salt = epoch_info("E3 Master Salt", binding);
  const EpochSecrets secrets = derive_epoch_secrets(shared, binding).value();
  const Bytes device_id = {kDeviceSenderId}, cloud_id = {kCloudSenderId};
  const auto ctx = oscore::derive(secrets.master_secret, secrets.master_salt, kKid, device_id, cloud_id, cfg.alg).value();
  Bytes nonce(12);
  oscore::make_nonce(ctx.common_iv, device_id, 0, nonce);
  std::array<std::uint8_t, kMaxAadSize> aad{};
  const Bytes piv = {0x00};
  const std::size_t aad_len = write_aad(cfg.alg, kKid, piv, 1, MessageType::kUplink, aad);
  const auto parsed = parse_announcement(announcement).value();

  std::vector<std::pair<std::string, std::string>> expected = {
      {"identity_private_scalar", to_hex(scalar(0x11))},
      {"identity_public_key", to_hex(identity.public_key()->point())},
      {"cloud_private_scalar", to_hex(scalar(0x22))},
      {"cloud_public_key", to_hex(cloud.public_key()->point())},
      {"ephemeral_private_scalar", to_hex(scalar(0x33))},
      {"ephemeral_public_key", to_hex(eph_pub)},
      {"ecdh_shared_secret", to_hex(shared)},
      {"info_master_secret", to_hex(info_secret)},
      {"master_secret", to_hex(secrets.master_secret)},
      {"info_master_salt", to_hex(info_salt)},
      {"master_salt", to_hex(secrets.master_salt)},
      {"info_device_key", to_hex(oscore::info(device_id, kKid, 1, "Key", 16))},
      {"device_sender_key", to_hex(ctx.sender_key)},
      {"info_cloud_key", to_hex(oscore::info(cloud_id, kKid, 1, "Key", 16))},
      {"cloud_sender_key", to_hex(ctx.recipient_key)},
      {"info_common_iv", to_hex(oscore::info({}, kKid, 1, "IV", 12))},
      {"common_iv", to_hex(ctx.common_iv)},
      {"announcement_to_be_signed", to_hex(parsed.to_be_signed)},
      {"plaintext", to_hex(reading)},
      {"nonce_seq_0", to_hex(nonce)},
      {"aad_seq_0", to_hex(ByteSpan(aad.data(), aad_len))},
      {"envelope_seq_0", to_hex(envelope)},
  };
  if (std::getenv("E3_PRINT_EXAMPLE") != nullptr) {
    for (const auto& [k, v] : expected) std::printf("%-26s = %s\n", k.c_str(), v.c_str());
    std::printf("%-26s = %s\n", "announcement", to_hex(announcement).c_str());
  }
  const auto doc = doc_values();
  ASSERT_FALSE(doc.empty()) << "no e3-example block in docs/e3-protocol.md";
  for (const auto& [k, v] : expected) {
    ASSERT_TRUE(doc.count(k)) << k << " missing from the document";
    EXPECT_EQ(doc.at(k), v) << k;
  }
  // The signature is randomised, so the document's announcement is checked
  // by verifying it: a fresh cloud accepts it and then opens the envelope.
  ASSERT_TRUE(doc.count("announcement"));
  const Bytes doc_ann = from_hex(doc.at("announcement")).value();
  const auto doc_parsed = parse_announcement(doc_ann).value();
  EXPECT_EQ(doc_parsed.to_be_signed, parsed.to_be_signed);
  OpenerConfig ocfg;
  ocfg.cloud_key_id = kCloudKeyId;
  auto opener = Opener::create(ocfg, cloud, clock, nullptr).value();
  ASSERT_TRUE(opener.add_device({kKid, "example-device", identity.public_key().value()}));
  ASSERT_TRUE(opener.accept_announcement(doc_ann));
  Bytes out(64);
  auto r = opener.open(from_hex(doc.at("envelope_seq_0")).value(), out);
  ASSERT_TRUE(r);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r->plaintext_size)), reading);
}

}  // namespace
}  // namespace armored::e3

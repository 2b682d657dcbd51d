// docs/e3-protocol.md section 13, byte for byte, with both backends: the
// example's inputs (identity 0x11.., cloud 0x22.., ephemeral 0x33.. drawn
// from the random source) give the document's envelope and announcement;
// the announcement's signature is randomised, so everything before it is
// compared and the signature is verified by the reference cloud (src/e3).

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "common/clock.h"
#include "common/hex.h"
#include "e3/e3.h"
#include "sdk_support.h"

namespace armored::sdk_test {
namespace {

const Buf kKid = {0x4a, 0x7f, 0x01};
const Buf kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

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

class SpecExample : public ::testing::TestWithParam<Backend> {};

TEST_P(SpecExample, EnvelopeAndAnnouncementAreTheDocumentsBytes_Section13) {
  const auto doc = doc_values();
  ASSERT_TRUE(doc.count("envelope_seq_0") && doc.count("announcement") && doc.count("cloud_public_key"));
  TestRandom random{0x33};
  Crypto c(GetParam(), scalar(0x11), &random);
  ASSERT_TRUE(c.ok);
  Board board;
  const Buf cloud_pub = from_hex(doc.at("cloud_public_key")).value();
  armored_config cfg{};
  cfg.kid = kKid.data();
  cfg.kid_len = kKid.size();
  cfg.cloud_key_id = kCloudKeyId.data();
  cfg.cloud_key_id_len = kCloudKeyId.size();
  cfg.cloud_public_key = cloud_pub.data();
  cfg.alg = ARMORED_AES_128_GCM;
  armored_ctx ctx;
  ASSERT_EQ(armored_init(&ctx, &cfg, &c.crypto, &board.platform, nullptr, 0), ARMORED_OK);

  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
  std::size_t ann_len = 0;
  ASSERT_EQ(armored_start_epoch(&ctx, ann, sizeof ann, &ann_len), ARMORED_OK);
  Buf reading(52);
  for (std::size_t i = 0; i < reading.size(); ++i) reading[i] = static_cast<std::uint8_t>(i);
  std::uint8_t env[ARMORED_SEALED_MAX(52)];
  std::size_t env_len = 0;
  ASSERT_EQ(armored_sealed_size(&ctx, 52), 74u);
  ASSERT_EQ(armored_seal(&ctx, reading.data(), reading.size(), env, sizeof env, &env_len), ARMORED_OK);

  EXPECT_EQ(to_hex(ByteSpan(env, env_len)), doc.at("envelope_seq_0"));
  const Buf doc_ann = from_hex(doc.at("announcement")).value();
  ASSERT_EQ(ann_len, doc_ann.size());
  EXPECT_EQ(ann_len, 161u);
  EXPECT_EQ(to_hex(ByteSpan(ann, ann_len - 64)), to_hex(ByteSpan(doc_ann).first(doc_ann.size() - 64)));

  // The reference cloud verifies the signature and opens the envelope.
  ManualClock clock;
  auto cloud = crypto::EcPrivateKey::from_scalar(scalar(0x22)).value();
  auto identity = crypto::EcPrivateKey::from_scalar(scalar(0x11)).value();
  e3::OpenerConfig ocfg;
  ocfg.cloud_key_id = kCloudKeyId;
  auto opener = e3::Opener::create(ocfg, cloud, clock, nullptr).value();
  ASSERT_TRUE(opener.add_device({kKid, "example-device", identity.public_key().value()}));
  auto acc = opener.accept_announcement(ByteSpan(ann, ann_len));
  ASSERT_TRUE(acc) << acc.error().message;
  Buf out(64);
  auto r = opener.open(ByteSpan(env, env_len), out);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Buf(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r->plaintext_size)), reading);
}

INSTANTIATE_TEST_SUITE_P(Backends, SpecExample, ::testing::Values(Backend::kOpenssl, Backend::kPsa),
                         [](const auto& i) { return std::string(backend_name(i.param)); });

}  // namespace
}  // namespace armored::sdk_test

// The 52-byte reading in C against the C++ codec (src/telemetry) that the
// cloud decodes with.

#include <gtest/gtest.h>

#include <random>

#include "sdk_support.h"
#include "command/codec.h"
#include "command/error.h"
#include "telemetry/reading.h"

namespace armored::sdk_test {
namespace {

TEST(Reading, EncodesAsTheCloudsCodecAndRoundTrips) {
  std::mt19937 gen(7);
  for (int i = 0; i < 1000; ++i) {
    Buf raw(52);
    for (auto& b : raw) b = static_cast<std::uint8_t>(gen());
    for (std::size_t k = 45; k < 52; ++k) raw[k] = 0;
    raw[15] = static_cast<std::uint8_t>(raw[15] % 7);
    raw[36] = static_cast<std::uint8_t>(raw[36] % 6);
    raw[42] = 0;
    raw[43] &= 0x7f;
    armored_reading r;
    ASSERT_EQ(armored_reading_decode(raw.data(), raw.size(), &r), ARMORED_OK);
    auto cpp = telemetry::decode(raw);
    ASSERT_TRUE(cpp);
    EXPECT_EQ(r.timestamp, cpp->timestamp);
    EXPECT_EQ(r.ecg_st_uv, cpp->ecg_st_uv);
    EXPECT_EQ(r.rssi_dbm, cpp->rssi_dbm);
    std::uint8_t out[52];
    armored_reading_encode(&r, out);
    EXPECT_EQ(Buf(out, out + 52), raw);
    const auto ref = telemetry::encode(*cpp);
    EXPECT_EQ(Buf(ref.begin(), ref.end()), raw);
  }
}

TEST(Reading, StructuralRejections) {
  Buf raw(52, 0);
  armored_reading r;
  EXPECT_EQ(armored_reading_decode(raw.data(), 51, &r), ARMORED_E_MALFORMED);
  raw[50] = 1;
  EXPECT_EQ(armored_reading_decode(raw.data(), raw.size(), &r), ARMORED_E_MALFORMED);  // reserved byte
  raw[50] = 0;
  raw[15] = 7;
  EXPECT_EQ(armored_reading_decode(raw.data(), raw.size(), &r), ARMORED_E_MALFORMED);  // rhythm
  raw[15] = 0;
  raw[36] = 6;
  EXPECT_EQ(armored_reading_decode(raw.data(), raw.size(), &r), ARMORED_E_MALFORMED);  // posture
  raw[36] = 0;
  raw[43] = 0x80;
  EXPECT_EQ(armored_reading_decode(raw.data(), raw.size(), &r), ARMORED_E_MALFORMED);  // flag bit
}

TEST(Provisioning, ParsesTheRecordAndRefusesDeviations) {
  Buf rec = {'A', 'P', 1, 1, 3, 0x4a, 0x7f, 0x01, 2, 0xaa, 0xbb};
  rec.push_back(0x04);
  rec.resize(rec.size() + 64, 0x11);
  rec.resize(rec.size() + 32, 0x22);
  armored_provisioning p;
  ASSERT_EQ(armored_provisioning_parse(rec.data(), rec.size(), &p), ARMORED_OK);
  EXPECT_EQ(p.kid_len, 3);
  EXPECT_EQ(p.cloud_key_id_len, 2);
  EXPECT_EQ(p.has_identity_scalar, 1);
  EXPECT_EQ(p.identity_scalar[0], 0x22);
  EXPECT_EQ(armored_provisioning_parse(rec.data(), rec.size() - 1, &p), ARMORED_E_MALFORMED);
  rec[3] = 0;  // no scalar announced, but 32 bytes follow
  EXPECT_EQ(armored_provisioning_parse(rec.data(), rec.size(), &p), ARMORED_E_MALFORMED);
  EXPECT_EQ(armored_provisioning_parse(rec.data(), rec.size() - 32, &p), ARMORED_OK);
}

}  // namespace
}  // namespace armored::sdk_test

namespace armored::sdk_test {
namespace {

TEST(CommandPlaintext, RepliesAreWhatTheCloudDecodesAndIdsWhatItEncoded) {
  for (std::uint64_t id : {std::uint64_t{1}, std::uint64_t{23}, std::uint64_t{24}, std::uint64_t{70000},
                           std::uint64_t{1} << 40}) {
    command::Command c;
    c.id = id;
    c.name = "set_interval";
    c.params.push_back({"seconds", command::Value::integer(60)});
    c.issued_at_ms = 1'700'000'000'000;
    const Buf cmd = command::encode_command(c).value();
    std::uint64_t got = 0;
    ASSERT_EQ(armored_command_id(cmd.data(), cmd.size(), &got), ARMORED_OK);
    EXPECT_EQ(got, id);

    std::uint8_t out[96];
    std::size_t len = 0;
    ASSERT_EQ(armored_reply_encode(id, nullptr, out, sizeof out, &len), ARMORED_OK);
    auto accepted = command::decode_reply(ByteSpan(out, len));
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->command_id, id);
    EXPECT_EQ(accepted->outcome, command::Outcome::kAccepted);
    command::Reply ref;
    ref.command_id = id;
    ref.outcome = command::Outcome::kAccepted;
    EXPECT_EQ(Buf(out, out + len), command::encode_reply(ref).value());

    ASSERT_EQ(armored_reply_encode(id, "unknown_command", out, sizeof out, &len), ARMORED_OK);
    auto refused = command::decode_reply(ByteSpan(out, len));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->outcome, command::Outcome::kRefused);
    EXPECT_STREQ(command::to_string(refused->reason), "unknown_command");
  }
  const Buf not_command = {0xd9, 0xd9, 0xf7, 0xa3, 0x00, 0x02, 0x01, 0x07};
  std::uint64_t id = 0;
  EXPECT_EQ(armored_command_id(not_command.data(), not_command.size(), &id), ARMORED_E_MALFORMED);
  EXPECT_EQ(armored_command_id(not_command.data(), 3, &id), ARMORED_E_MALFORMED);
}

}  // namespace
}  // namespace armored::sdk_test

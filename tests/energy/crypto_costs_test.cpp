// Crypto cost files (docs/energy.md "Crypto cost files", version 1): the
// shipped measured-cm4 set loads, every deviation is refused with a typed
// error naming the field, and instructions become energy by the stated
// clock and the profile's CPU current.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/file_io.h"
#include "energy/crypto_costs.h"
#include "support/process.h"

namespace armored::energy {
namespace {

using Json = nlohmann::json;

Json valid() {
  return Json::parse(R"({
    "format": "armored-crypto-costs", "version": 1, "target": "cortex-m4",
    "measured_with": "QEMU mps2-an386 -icount shift=0", "reading_bytes": 52, "command_plaintext_bytes": 64,
    "instructions": {
      "seal": {"aes-128-gcm": 14948, "aes-256-gcm": 16665, "chacha20-poly1305": 11311, "aes-ccm-16-64-128": 14518},
      "start_epoch": 58221880, "reannounce": 14882520, "open_command": 15112}})");
}

CostFileError error_of(const std::string& text) {
  auto r = parse_crypto_costs(text, "costs.json");
  EXPECT_FALSE(r) << text;
  return r ? CostFileError{} : r.error();
}

TEST(CryptoCosts, AValidFileParses) {
  auto c = parse_crypto_costs(valid().dump(), "costs.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source, "costs.json");
  EXPECT_EQ(c->target, "cortex-m4");
  EXPECT_EQ(c->reading_bytes, 52u);
  EXPECT_EQ(c->seal_instructions[static_cast<std::size_t>(Aead::kAes128Gcm)], 14948u);
  EXPECT_EQ(c->seal_instructions[static_cast<std::size_t>(Aead::kChaCha20Poly1305)], 11311u);
  EXPECT_EQ(c->start_epoch_instructions, 58221880u);
  EXPECT_EQ(c->reannounce_instructions, 14882520u);
  EXPECT_EQ(c->open_command_instructions, 15112u);
}

TEST(CryptoCosts, TheShippedSetMatchesTheFileAndTheDeviceSdkReadme) {
  auto builtin = load_crypto_costs("measured-cm4");
  ASSERT_TRUE(builtin) << builtin.error().message;
  auto file = load_crypto_costs(testing::source_path("config/energy/measured-cm4.json").string());
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(builtin->seal_instructions, file->seal_instructions);
  EXPECT_EQ(builtin->start_epoch_instructions, file->start_epoch_instructions);
  // device-sdk/README.md records the same counts (with thousands separators).
  const std::string readme = testing::slurp(testing::source_path("device-sdk/README.md"));
  for (std::uint64_t n : {builtin->seal_instructions[0], builtin->start_epoch_instructions,
                          builtin->reannounce_instructions, builtin->open_command_instructions}) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    EXPECT_NE(readme.find("| " + s + " |"), std::string::npos) << s << " is not in device-sdk/README.md";
  }
}

TEST(CryptoCosts, MalformedAndTruncatedFilesAreMalformed) {
  EXPECT_EQ(error_of("").code, CostFileErrc::kMalformed);
  EXPECT_EQ(error_of("not json").code, CostFileErrc::kMalformed);
  EXPECT_EQ(error_of("[1, 2]").code, CostFileErrc::kMalformed);
  const std::string text = valid().dump(2);
  const auto truncated = error_of(text.substr(0, text.size() / 2));
  EXPECT_EQ(truncated.code, CostFileErrc::kMalformed);
  EXPECT_NE(truncated.message.find("costs.json: "), std::string::npos) << truncated.message;
  EXPECT_EQ(error_of(text.substr(0, text.size() - 1)).code, CostFileErrc::kMalformed);  // last brace cut
}

TEST(CryptoCosts, OversizedFilesAreRefusedBeforeParsing) {
  std::string text = valid().dump();
  text.insert(text.size() - 1, std::string(kMaxCryptoCostsBytes, ' '));
  const auto e = error_of(text);
  EXPECT_EQ(e.code, CostFileErrc::kOversized);
  EXPECT_NE(e.message.find("over 65536 bytes"), std::string::npos) << e.message;
}

TEST(CryptoCosts, EveryMissingFieldIsNamed) {
  for (const std::string path :
       {"/format", "/version", "/target", "/measured_with", "/reading_bytes", "/command_plaintext_bytes",
        "/instructions", "/instructions/seal", "/instructions/seal/aes-128-gcm", "/instructions/seal/aes-ccm-16-64-128",
        "/instructions/start_epoch", "/instructions/reannounce", "/instructions/open_command"}) {
    Json j = valid();
    const Json::json_pointer ptr(path);
    j[ptr.parent_pointer()].erase(ptr.back());
    const auto e = error_of(j.dump());
    EXPECT_EQ(e.code, CostFileErrc::kMissingField) << path;
    std::string field = path.substr(1);
    std::replace(field.begin(), field.end(), '/', '.');
    EXPECT_EQ(e.field, field);
    EXPECT_EQ(e.message, "costs.json: " + field + ": missing");
  }
}

TEST(CryptoCosts, WrongTypesAndRangesAreNamed) {
  const auto with = [](const std::string& path, Json v) {
    Json j = valid();
    j[Json::json_pointer(path)] = std::move(v);
    return error_of(j.dump());
  };
  auto e = with("/instructions/start_epoch", 1.5);
  EXPECT_EQ(e.code, CostFileErrc::kWrongType);
  EXPECT_EQ(e.field, "instructions.start_epoch");
  EXPECT_EQ(with("/instructions/seal/aes-256-gcm", "16665").code, CostFileErrc::kWrongType);
  EXPECT_EQ(with("/instructions/seal", 5).code, CostFileErrc::kWrongType);
  EXPECT_EQ(with("/target", 4).code, CostFileErrc::kWrongType);
  e = with("/instructions/open_command", -3);
  EXPECT_EQ(e.code, CostFileErrc::kOutOfRange);
  EXPECT_EQ(e.field, "instructions.open_command");
  EXPECT_EQ(with("/instructions/reannounce", 0).code, CostFileErrc::kOutOfRange);
  EXPECT_EQ(with("/instructions/reannounce", 2000000000000ull).code, CostFileErrc::kOutOfRange);
  EXPECT_EQ(with("/reading_bytes", 70000).code, CostFileErrc::kOutOfRange);
  EXPECT_EQ(with("/target", "").code, CostFileErrc::kOutOfRange);
  EXPECT_EQ(with("/measured_with", std::string(300, 'x')).code, CostFileErrc::kOutOfRange);
}

TEST(CryptoCosts, AnotherFormatOrVersionIsUnsupported) {
  Json j = valid();
  j["version"] = 2;
  auto e = error_of(j.dump());
  EXPECT_EQ(e.code, CostFileErrc::kUnsupportedFormat);
  EXPECT_EQ(e.message, "costs.json: version: is 2; this program reads version 1");
  j = valid();
  j["format"] = "energy-profile";
  EXPECT_EQ(error_of(j.dump()).code, CostFileErrc::kUnsupportedFormat);
}

TEST(CryptoCosts, UnknownFieldsAreRefusedSoTyposShow) {
  Json j = valid();
  j["instructions"]["seal"]["aes-128-gmc"] = 1;
  auto e = error_of(j.dump());
  EXPECT_EQ(e.code, CostFileErrc::kUnknownField);
  EXPECT_EQ(e.field, "instructions.seal.aes-128-gmc");
  j = valid();
  j["clock_mhz"] = 64;
  EXPECT_EQ(error_of(j.dump()).field, "clock_mhz");
}

TEST(CryptoCosts, AMissingFileIsUnreadableAndListsTheBuiltIns) {
  auto r = load_crypto_costs("/nonexistent/costs.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CostFileErrc::kUnreadable);
  EXPECT_NE(r.error().message.find("measured-cm4"), std::string::npos) << r.error().message;
}

TEST(CryptoCosts, InstructionsBecomeEnergyAtTheStatedClockAndTheProfilesCurrent) {
  auto profile = load_profile("nrf52840-ble");
  ASSERT_TRUE(profile);
  Scenario s;
  s.aead = Aead::kAes128Gcm;
  WireFacts w;
  w.envelope_bytes = {75, 75, 75, 67};
  const Report r = evaluate(*profile, s, w);
  auto costs = parse_crypto_costs(valid().dump(), "costs.json");
  ASSERT_TRUE(costs);
  const auto c = compare_device_crypto(r, *costs, 64);
  // 3.0 V x 3.3 mA / 64 MHz = 0.1547 nJ per instruction (device-sdk/README.md).
  EXPECT_NEAR(c.nj_per_instruction, 0.1547, 0.0001);
  EXPECT_NEAR(c.measured.seal_uj, 14948 * 0.154688e-3, 1e-3);
  EXPECT_NEAR(c.measured.start_epoch_uj / 1000, 9.0, 0.05);  // mJ
  EXPECT_NEAR(c.measured.reannounce_uj / 1000, 2.3, 0.05);
  // Datasheet: 0.008333 uJ/byte x 52 bytes; ECDHE 15 + sign 16 + HKDF 0.5 ms at 9.9 mW.
  EXPECT_NEAR(c.datasheet.seal_uj, 0.4333, 1e-3);
  EXPECT_NEAR(c.datasheet.start_epoch_uj, 31.5 * 9.9, 1e-6);
  EXPECT_NEAR(c.datasheet.reannounce_uj, 16 * 9.9, 1e-6);
  EXPECT_NEAR(c.datasheet.open_command_uj, 0.008333 * 64, 1e-6);
  // A day: 2,880 seals and one epoch start.
  EXPECT_NEAR(c.measured.per_day_mj, (2880 * c.measured.seal_uj + c.measured.start_epoch_uj) / 1000, 1e-9);
  EXPECT_LT(c.measured.battery_days_tx_and_crypto, c.datasheet.battery_days_tx_and_crypto);
  // Twice the clock: half the time at the same current, half the energy.
  EXPECT_NEAR(compare_device_crypto(r, *costs, 128).measured.seal_uj, c.measured.seal_uj / 2, 1e-9);
}

}  // namespace
}  // namespace armored::energy

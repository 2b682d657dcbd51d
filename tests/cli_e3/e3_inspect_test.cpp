// `armored e3 inspect` on real envelopes, announcements and batches, and
// exit code 2 with one typed line for malformed input.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "e3/e3.h"
#include "../e3/e3_fixture.h"
#include "support/process.h"

namespace armored::e3 {
namespace {

using armored::testing::armored_binary;
using armored::testing::run;

TEST(E3Inspect, PrintsReadingHeader) {
  testing::Pair p;
  p.rotate();
  for (int i = 0; i < 300; ++i) p.seal(testing::reading());
  const Bytes env = p.seal(testing::reading());  // sequence 300: 2-byte PIV
  auto r = run({armored_binary().string(), "--json", "e3", "inspect", to_hex(env)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["type"], "reading");
  EXPECT_EQ(j["key_id"], "4a7f01");
  EXPECT_EQ(j["epoch_id"], 1);
  EXPECT_EQ(j["partial_iv"], "012c");
  EXPECT_EQ(j["sequence"], 300);
  EXPECT_EQ(j["header_bytes"], 7);
  EXPECT_EQ(j["total_bytes"], 75);
  EXPECT_EQ(j["plaintext_bytes_if_16_byte_tag"], 52);
  // Text form, from stdin.
  auto t = run({armored_binary().string(), "e3", "inspect", "-"}, std::chrono::seconds(30), to_hex(env) + "\n");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("key_id: 4a7f01"), std::string::npos);
  EXPECT_NE(t.out.find("sequence: 300"), std::string::npos);
}

TEST(E3Inspect, PrintsAnnouncementAndBatch) {
  testing::Pair p(crypto::AeadAlg::kAesCcm16_64_128);
  const Bytes ann = p.sealer->start_epoch().value();
  const Bytes env = p.seal(testing::reading());
  const ByteSpan parts[] = {ann, env};
  const Bytes batch = encode_batch(parts).value();
  auto r = run({armored_binary().string(), "--json", "e3", "inspect", to_hex(batch)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["batch"].size(), 2u);
  EXPECT_EQ(j["batch"][0]["type"], "epoch_announcement");
  EXPECT_EQ(j["batch"][0]["epoch"], 1);
  EXPECT_EQ(j["batch"][0]["algorithm"], "AES-CCM-16-64-128");
  EXPECT_EQ(j["batch"][1]["type"], "reading");
  EXPECT_EQ(j["batch"][1]["total_bytes"], 66);
  // Nothing secret is printed: the output is the same with or without keys.
  EXPECT_EQ(r.out.find(to_hex(p.device_store.data())), std::string::npos);
}

TEST(E3Inspect, MalformedInputExitsTwoWithTheTypedError) {
  for (const auto& [hex, expect] : std::vector<std::pair<std::string, std::string>>{
           {"c1000100aa", "armored: e3: reserved message type (malformed)"},
           {"0200010001aa", "armored: e3: non-minimal partial IV (malformed)"},
           {"010001", "armored: e3: truncated partial IV (malformed)"},
           {"c00100", "armored: e3: truncated batch entry length (malformed)"},
           {"zz", "input is not hex"}}) {
    auto r = run({armored_binary().string(), "e3", "inspect", hex});
    EXPECT_EQ(r.exit_code, 2) << hex;
    EXPECT_NE(r.err.find(expect), std::string::npos) << hex << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace armored::e3

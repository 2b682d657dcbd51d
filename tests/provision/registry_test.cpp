// Enrolment registry: hostile or broken registry files are refused with the
// entry named; enrolment is idempotent and never reuses a kid.

#include "provision/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "common/rng.h"
#include "provision/enroll.h"
#include "support/process.h"

namespace armored::provision {
namespace {

constexpr const char* kGood =
    R"({"version":1,"cloud_key_id":"0102030405060708","devices":[{"id":"dev-1","kid":"aabbcc"}]})";

TEST(Registry, ParsesAndRoundTrips) {
  auto r = parse_registry(kGood, "r.json");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].kid, (Bytes{0xaa, 0xbb, 0xcc}));
  auto again = parse_registry(serialize_registry(*r), "r.json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->devices[0].device_id, "dev-1");
  EXPECT_NE(r->find_device("dev-1"), nullptr);
  EXPECT_EQ(r->find_device("dev-2"), nullptr);
}

TEST(Registry, RefusesMalformedAndHostileFiles) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {R"({"version":2,"cloud_key_id":"01","devices":[]})", "version must be 1"},
      {R"({"version":1,"devices":[]})", "cloud_key_id is missing"},
      {R"({"version":1,"cloud_key_id":"zz","devices":[]})", "cloud_key_id must be"},
      {R"({"version":1,"cloud_key_id":"01"})", "devices is missing"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"dev-1"}]})", "devices[0] needs"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"dev-1","kid":""}]})", "kid must be 1..8"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"dev-1","kid":"001122334455667788"}]})",
       "kid must be 1..8"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"../etc","kid":"01"}]})", "devices[0]"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"a","kid":"01"},{"id":"b","kid":"01"}]})",
       "used twice"},
      {R"({"version":1,"cloud_key_id":"01","devices":[{"id":"a","kid":"01"},{"id":"a","kid":"02"}]})",
       "enrolled twice"},
  };
  for (const auto& [json, expect] : cases) {
    auto r = parse_registry(json, "r.json");
    ASSERT_FALSE(r) << json;
    EXPECT_NE(r.error().message.find(expect), std::string::npos) << json << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("r.json", 0), 0u);
  }
}

TEST(Enrol, IsIdempotentAndGivesDistinctKids) {
  testing::TempDir d;
  auto pki = d / "pki";
  ASSERT_EQ(testing::run({testing::armored_binary().string(), "pki", "init", "--dir", pki.string()}).exit_code, 0);
  ASSERT_EQ(testing::run({testing::armored_binary().string(), "pki", "fleet", "--count", "50", "--dir",
                          pki.string()})
                .exit_code,
            0);
  SeededRng rng(1);
  EnrolOptions o;
  o.kid_bytes = 1;  // small space: collisions must be avoided, not hoped away
  auto first = enrol(pki, d / "e3", o, rng);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->enrolled, 50u);
  EXPECT_TRUE(first->created_cloud_key);
  std::set<Bytes> kids;
  for (const auto& e : first->registry.devices) kids.insert(e.kid);
  EXPECT_EQ(kids.size(), 50u);
  auto second = enrol(pki, d / "e3", o, rng);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->enrolled, 0u);
  EXPECT_EQ(second->already, 50u);
  EXPECT_FALSE(second->created_cloud_key);
  EXPECT_EQ(second->registry.devices[7].kid, first->registry.devices[7].kid);
  // 1-byte kids cannot hold 100 devices with room to spare: refused, not looped.
  ASSERT_EQ(testing::run({testing::armored_binary().string(), "pki", "fleet", "--count", "50", "--prefix", "more",
                          "--dir", pki.string()})
                .exit_code,
            0);
  auto full = enrol(pki, d / "e3", o, rng);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("--kid-bytes 2"), std::string::npos) << full.error().message;
}

}  // namespace
}  // namespace armored::provision

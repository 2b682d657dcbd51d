// What a front of a scaled cloud takes from the command subjects between
// roles (docs/scale-out.md, "Who may talk to NATS"): each malformed, forged,
// oversized or truncated message is refused with a reason naming what was
// wrong, and nothing of it reaches a gateway or the command service.

#include <gtest/gtest.h>

#include "cloud/internal/cluster_subjects.h"

namespace armored::cloud {
namespace {

Bytes accepted_reply(std::uint64_t id) {
  command::Reply r;
  r.command_id = id;
  r.outcome = command::Outcome::kAccepted;
  auto b = command::encode_reply(r);
  EXPECT_TRUE(b);
  return b ? *b : Bytes{};
}

TEST(ClusterSubjects, ACommandForAnIdentityIsTakenAsSent) {
  const Bytes sealed{1, 2, 3, 4};
  auto down = read_command_down(std::string("dev-1"), sealed);
  ASSERT_TRUE(down) << down.error().detail;
  EXPECT_EQ(down->device, "dev-1");
  EXPECT_EQ(down->sealed, sealed);
  const Bytes largest(kMaxBusMessageBytes, 0xA5);
  EXPECT_TRUE(read_command_down(std::string("dev-1"), largest));
}

TEST(ClusterSubjects, CommandsDownWithoutADeviceOversizedOrEmptyAreRefusedByReason) {
  const Bytes sealed{1, 2, 3};
  auto no_header = read_command_down(std::nullopt, sealed);
  ASSERT_FALSE(no_header);
  EXPECT_EQ(no_header.error().reason, BusRefusal::kBadDevice);
  EXPECT_EQ(no_header.error().detail, "no Armored-Device header");
  for (const char* bad : {"", "../etc", "dev 1", "dev/1", "dév"}) {
    auto r = read_command_down(std::string(bad), sealed);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().reason, BusRefusal::kBadDevice) << bad;
    EXPECT_EQ(r.error().detail.rfind("Armored-Device: ", 0), 0u) << r.error().detail;
  }
  EXPECT_FALSE(read_command_down(std::string(65, 'a'), sealed));
  auto big = read_command_down(std::string("dev-1"), Bytes(kMaxBusMessageBytes + 1, 0));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().reason, BusRefusal::kOversized);
  EXPECT_EQ(big.error().detail, "4097 bytes, at most 4096 allowed");
  auto empty = read_command_down(std::string("dev-1"), {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().reason, BusRefusal::kMalformed);
}

TEST(ClusterSubjects, RepliesMustDecodeAndNameADevice) {
  const Bytes good = accepted_reply(42);
  auto ok = read_command_reply(std::string("dev-1"), good);
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ(ok->device, "dev-1");
  EXPECT_EQ(ok->reply.command_id, 42u);
  EXPECT_EQ(ok->reply.outcome, command::Outcome::kAccepted);

  EXPECT_EQ(read_command_reply(std::nullopt, good).error().reason, BusRefusal::kBadDevice);
  // Truncated at every length, with a byte more, and garbage.
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = read_command_reply(std::string("dev-1"), ByteSpan(good.data(), n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().reason, BusRefusal::kMalformed) << n;
    EXPECT_EQ(r.error().detail.rfind("not a reply: ", 0), 0u) << r.error().detail;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(read_command_reply(std::string("dev-1"), trailing).error().reason, BusRefusal::kMalformed);
  const Bytes garbage{0xde, 0xad, 0xbe, 0xef, 0x00, 0xff};
  EXPECT_EQ(read_command_reply(std::string("dev-1"), garbage).error().reason, BusRefusal::kMalformed);
  EXPECT_EQ(read_command_reply(std::string("dev-1"), Bytes(kMaxBusMessageBytes + 1, 0xd9)).error().reason,
            BusRefusal::kOversized);
}

TEST(ClusterSubjects, LabelsAreStable) {
  EXPECT_EQ(to_string(BusRefusal::kBadDevice), "bad_device");
  EXPECT_EQ(to_string(BusRefusal::kOversized), "oversized");
  EXPECT_EQ(to_string(BusRefusal::kMalformed), "malformed");
  EXPECT_EQ(subject_name(BusSubject::kDown), "armored.commands.down");
  EXPECT_EQ(subject_name(BusSubject::kReplies), "armored.commands.replies");
}

}  // namespace
}  // namespace armored::cloud

// Epoch announcements: only the device's identity key can start an epoch,
// and no replayed announcement rolls the cloud back.

#include <gtest/gtest.h>

#include "e3/announcement.h"
#include "e3_fixture.h"

namespace armored::e3 {
namespace {

using testing::Pair;
using testing::reading;

TEST(E3Announcement, ParsesWhatTheDeviceSends) {
  Pair p;
  auto ann = p.sealer->start_epoch();
  ASSERT_TRUE(ann);
  auto parsed = parse_announcement(*ann);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fields.kid, testing::kKid);
  EXPECT_EQ(parsed->fields.epoch, 1u);
  EXPECT_EQ(parsed->fields.alg, crypto::AeadAlg::kAes128Gcm);
  EXPECT_EQ(parsed->fields.cloud_key_id, testing::kCloudKeyId);
  EXPECT_TRUE(p.identity.public_key()->verify_p1363(parsed->to_be_signed, parsed->signature));
}

TEST(E3Announcement, ForgedSignatureIsRejected) {
  Pair p;
  AnnouncementFields f;
  f.kid = testing::kKid;
  f.epoch = 1;
  f.cloud_key_id = testing::kCloudKeyId;
  auto eph = crypto::EcPrivateKey::generate().value();
  f.ephemeral_public = eph.public_key()->point();
  auto attacker = crypto::EcPrivateKey::generate().value();
  auto forged = build_announcement(f, attacker);
  ASSERT_TRUE(forged);
  EXPECT_EQ(p.opener->accept_announcement(*forged).error().code, E3Errc::kAuthFailed);
  EXPECT_FALSE(p.opener->current_epoch(testing::kKid));
  EXPECT_EQ(p.opener->counters().rejected_for(E3Errc::kAuthFailed), 1u);
}

TEST(E3Announcement, EveryFlippedByteIsRejectedWithoutStateChange) {
  Pair p;
  auto ann = p.sealer->start_epoch().value();
  for (std::size_t i = 0; i < ann.size(); ++i) {
    Bytes bad = ann;
    bad[i] ^= 0x01;
    auto r = p.opener->accept_announcement(bad);
    ASSERT_FALSE(r) << "byte " << i;
    ASSERT_FALSE(p.opener->current_epoch(testing::kKid)) << "byte " << i;
  }
  ASSERT_TRUE(p.opener->accept_announcement(ann));
}

TEST(E3Announcement, ReplayedOldAnnouncementDoesNotRollBack) {
  Pair p;
  auto ann1 = p.sealer->start_epoch().value();
  ASSERT_TRUE(p.opener->accept_announcement(ann1));
  auto ann2 = p.sealer->start_epoch().value();
  ASSERT_TRUE(p.opener->accept_announcement(ann2));
  Bytes env = p.seal(reading());
  auto r = p.opener->accept_announcement(ann1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E3Errc::kStaleAnnouncement);
  EXPECT_EQ(p.opener->current_epoch(testing::kKid), 2u);
  EXPECT_TRUE(p.open(env));
  // The current announcement again is harmless: reported as a duplicate.
  auto dup = p.opener->accept_announcement(ann2);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(p.open(env).error().code, E3Errc::kReplayed);  // the window was kept
}

TEST(E3Announcement, ConflictingAnnouncementForCurrentEpochIsRejected) {
  Pair p;
  p.rotate();
  AnnouncementFields f;
  f.kid = testing::kKid;
  f.epoch = 1;
  f.cloud_key_id = testing::kCloudKeyId;
  f.ephemeral_public = crypto::EcPrivateKey::generate()->public_key()->point();
  auto other = build_announcement(f, p.identity);  // properly signed, different key
  ASSERT_TRUE(other);
  EXPECT_EQ(p.opener->accept_announcement(*other).error().code, E3Errc::kStaleAnnouncement);
}

TEST(E3Announcement, UnknownDeviceAndWrongCloudKey) {
  Pair p;
  AnnouncementFields f;
  f.kid = {9, 9, 9};
  f.epoch = 1;
  f.cloud_key_id = testing::kCloudKeyId;
  f.ephemeral_public = crypto::EcPrivateKey::generate()->public_key()->point();
  EXPECT_EQ(p.opener->accept_announcement(build_announcement(f, p.identity).value()).error().code,
            E3Errc::kUnknownKeyId);
  f.kid = testing::kKid;
  f.cloud_key_id = {'o', 't', 'h', 'e', 'r'};
  EXPECT_EQ(p.opener->accept_announcement(build_announcement(f, p.identity).value()).error().code,
            E3Errc::kUnknownKeyId);
}

TEST(E3Announcement, EphemeralKeyNotOnCurveIsRejected) {
  Pair p;
  AnnouncementFields f;
  f.kid = testing::kKid;
  f.epoch = 1;
  f.cloud_key_id = testing::kCloudKeyId;
  f.ephemeral_public.fill(0x11);
  f.ephemeral_public[0] = 0x04;
  EXPECT_EQ(p.opener->accept_announcement(build_announcement(f, p.identity).value()).error().code,
            E3Errc::kMalformed);
}

TEST(E3Announcement, DataEnvelopeIsNotAnAnnouncement) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  EXPECT_EQ(p.opener->accept_announcement(env).error().code, E3Errc::kMalformed);
  EXPECT_EQ(p.open(p.sealer->announcement()).error().code, E3Errc::kMalformed);
}

}  // namespace
}  // namespace armored::e3

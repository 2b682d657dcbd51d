// Ingest: every uplink message is opened, validated and turned into a row,
// or rejected with a recorded reason; nothing of a rejected message is kept.

#include "cloud/ingest.h"

#include <gtest/gtest.h>

#include "command/codec.h"
#include "common/clock.h"
#include "common/rng.h"
#include "crypto/ec.h"
#include "telemetry/generator.h"

namespace armored::cloud {
namespace {

const Bytes kKid = {0x11, 0x22, 0x33};
const Bytes kCloudKeyId = {1, 2, 3, 4, 5, 6, 7, 8};

struct Rig {
  Rig()
      : identity(crypto::EcPrivateKey::generate().value()),
        cloud_key(crypto::EcPrivateKey::generate().value()),
        sealer(make_sealer()),
        opener(make_opener()),
        ingest(opener, clock),
        gen(rng) {}

  e3::Sealer make_sealer() {
    e3::SealerConfig c;
    c.kid = kKid;
    c.cloud_key_id = kCloudKeyId;
    return e3::Sealer::create(c, identity, cloud_key.public_key().value(), clock, rng, device_store).value();
  }
  e3::Opener make_opener() {
    e3::OpenerConfig c;
    c.cloud_key_id = kCloudKeyId;
    auto o = e3::Opener::create(c, cloud_key, clock, nullptr).value();
    EXPECT_TRUE(o.add_device({kKid, "dev-00042", identity.public_key().value()}));
    return o;
  }

  Bytes seal_reading() {
    auto r = gen.next(static_cast<std::uint32_t>(unix_seconds(clock.now())));
    auto bytes = telemetry::encode(r);
    return seal(bytes);
  }
  Bytes seal(ByteSpan pt) {
    Bytes out(sealer.sealed_size(pt.size()));
    auto n = sealer.seal(pt, out);
    EXPECT_TRUE(n);
    return out;
  }
  Bytes batch(std::vector<Bytes> msgs) {
    std::vector<ByteSpan> spans(msgs.begin(), msgs.end());
    return e3::encode_batch(spans, {255, 4096}).value();
  }

  ManualClock clock;
  SeededRng rng{7};
  e3::MemoryStateStore device_store;
  crypto::EcPrivateKey identity;
  crypto::EcPrivateKey cloud_key;
  e3::Sealer sealer;
  e3::Opener opener;
  Ingest ingest;
  telemetry::ReadingGenerator gen;
};

TEST(Ingest, AnnouncementThenBatchOfReadingsBecomesRows) {
  Rig r;
  Bytes ann = r.sealer.start_epoch().value();
  auto first = r.ingest.prepare("gw1", ann, false);
  EXPECT_EQ(first.announcements, 1u);
  EXPECT_TRUE(first.opener_changed);
  EXPECT_TRUE(first.rows.empty());

  std::vector<Bytes> msgs;
  for (int i = 0; i < 10; ++i) msgs.push_back(r.seal_reading());
  auto out = r.ingest.prepare("gw1", r.batch(msgs), false);
  ASSERT_EQ(out.rows.size(), 10u);
  EXPECT_EQ(out.rejected, 0u);
  EXPECT_FALSE(out.opener_changed);
  for (std::size_t i = 0; i < out.rows.size(); ++i) {
    EXPECT_EQ(out.rows[i].device, "dev-00042");  // the identity, never the kid alone
    EXPECT_EQ(out.rows[i].key_id, kKid);
    EXPECT_EQ(out.rows[i].seq, i);
    EXPECT_EQ(out.rows[i].epoch, 1u);
    auto decoded = telemetry::decode(out.rows[i].payload);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->heart_rate_dbpm, out.rows[i].heart_rate_dbpm);
  }
  EXPECT_EQ(r.ingest.counters().readings, 10u);
}

TEST(Ingest, AlteredByteIsRejectedAndRecordedWhileTheRestOfTheBatchIsKept) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes good1 = r.seal_reading();
  Bytes bad = r.seal_reading();
  Bytes good2 = r.seal_reading();
  bad[bad.size() - 20] ^= 0x01;  // a gateway flips one ciphertext bit
  auto out = r.ingest.prepare("gw-evil", r.batch({good1, bad, good2}), false);
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].seq, 0u);
  EXPECT_EQ(out.rows[1].seq, 2u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, store::EventKind::kRejectedEnvelope);
  EXPECT_EQ(out.events[0].peer, "gw-evil");
  EXPECT_NE(out.events[0].detail.find("kid 112233"), std::string::npos);
  EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(Reject::kForged)], 1u);
}

TEST(Ingest, ReplayedBatchStoresNothingAndIsRecorded) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes b = r.batch({r.seal_reading(), r.seal_reading()});
  auto first = r.ingest.prepare("gw1", b, false);
  EXPECT_EQ(first.rows.size(), 2u);
  ASSERT_EQ(first.received.size(), 2u);
  r.ingest.mark_stored(first.received);  // as the cloud does once they are committed
  auto again = r.ingest.prepare("gw1", b, false);
  EXPECT_TRUE(again.rows.empty());
  ASSERT_EQ(again.events.size(), 2u);
  EXPECT_EQ(again.events[0].reason, "replayed");
  auto redelivered = r.ingest.prepare("gw1", b, true);
  ASSERT_EQ(redelivered.events.size(), 2u);
  // DUP changes the label and the counter, never the outcome.
  EXPECT_TRUE(redelivered.rows.empty());
  EXPECT_EQ(redelivered.rejected, 2u);
  EXPECT_EQ(redelivered.events[0].reason, "redelivered");
  EXPECT_NE(redelivered.events[0].detail.find("replayed in a DUP publish"), std::string::npos)
      << redelivered.events[0].detail;
  EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(Reject::kReplayed)], 2u);
  EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(Reject::kRedelivered)], 2u);
}

// Until its rows are durable a PUBLISH marks nothing: a commit that failed
// (or a crash before it) must not turn the re-sent copy into a "replay".
TEST(Ingest, ReadingsNotMarkedStoredOpenAgain) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes b = r.batch({r.seal_reading(), r.seal_reading()});
  EXPECT_EQ(r.ingest.prepare("gw1", b, false).rows.size(), 2u);
  auto again = r.ingest.prepare("gw1", b, true);
  EXPECT_EQ(again.rows.size(), 2u);
  EXPECT_EQ(again.rejected, 0u);
}

// A reply is stored with its batch too (its outcome and its sequence
// number): not marked received before that commit, so a copy re-sent after
// a failed commit opens again; once marked, a copy is a replay.
TEST(Ingest, RepliesNotMarkedStoredOpenAgain) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  command::Reply reply;
  reply.command_id = 7;
  reply.outcome = command::Outcome::kAccepted;
  Bytes b = r.batch({r.seal(command::encode_reply(reply).value())});
  auto first = r.ingest.prepare("gw1", b, false);
  ASSERT_EQ(first.replies.size(), 1u);
  ASSERT_EQ(first.received.size(), 1u) << "to be marked after the commit";
  EXPECT_EQ(r.ingest.prepare("gw1", b, true).replies.size(), 1u);
  r.ingest.mark_stored(first.received);
  auto after = r.ingest.prepare("gw1", b, true);
  EXPECT_TRUE(after.replies.empty());
  EXPECT_EQ(after.rejected, 1u);
}

// Far behind newer stored readings (left of the 64-wide window), an
// authentic reading still becomes a row: storage decides by its identity.
TEST(Ingest, ReadingFarBehindTheWindowIsStillOpened) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes old = r.seal_reading();
  for (int i = 0; i < 1200; ++i) {
    auto out = r.ingest.prepare("gw1", r.seal_reading(), false);
    ASSERT_EQ(out.rows.size(), 1u);
    r.ingest.mark_stored(out.received);
  }
  auto late = r.ingest.prepare("gw1", old, false);
  ASSERT_EQ(late.rows.size(), 1u);
  EXPECT_EQ(late.rows[0].seq, 0u);
  EXPECT_EQ(r.opener.counters().below_window, 1u);
}

TEST(Ingest, DupFlagSkipsNoCheck) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes fresh = r.seal_reading();
  Bytes forged = r.seal_reading();
  forged[forged.size() - 20] ^= 0x01;
  // A first delivery marked DUP is stored; a forged one marked DUP is still forged.
  auto out = r.ingest.prepare("gw1", r.batch({fresh, forged}), true);
  ASSERT_EQ(out.rows.size(), 1u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].reason, "authentication_failed");
  EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(Reject::kRedelivered)], 0u);
}

TEST(Ingest, ReplayedAnnouncementChangesNothing) {
  Rig r;
  Bytes ann1 = r.sealer.start_epoch().value();
  r.ingest.prepare("gw1", ann1, false);
  Bytes ann2 = r.sealer.start_epoch().value();
  EXPECT_TRUE(r.ingest.prepare("gw1", ann2, false).opener_changed);
  auto stale = r.ingest.prepare("gw1", ann1, false);  // an old announcement cannot roll back keys
  EXPECT_FALSE(stale.opener_changed);
  EXPECT_EQ(stale.rejected, 1u);
  EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(Reject::kBadAnnouncement)], 1u);
}

TEST(Ingest, InvalidReadingIsRejectedWithTheFieldNamed) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  auto reading = r.gen.next(static_cast<std::uint32_t>(unix_seconds(r.clock.now())));
  reading.spo2_pct = 101;  // genuine device, impossible value
  auto bytes = telemetry::encode(reading);
  auto out = r.ingest.prepare("gw1", r.seal(bytes), false);
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].reason, "invalid reading");
  EXPECT_NE(out.events[0].detail.find("spo2"), std::string::npos) << out.events[0].detail;
  // A reading from the future (device clock far ahead) is refused too.
  reading = r.gen.next(static_cast<std::uint32_t>(unix_seconds(r.clock.now()) + 3600));
  bytes = telemetry::encode(reading);
  out = r.ingest.prepare("gw1", r.seal(bytes), false);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_NE(out.events[0].detail.find("timestamp"), std::string::npos) << out.events[0].detail;
}

TEST(Ingest, MalformedTruncatedOversizedAndUnknownKeyAreRejected) {
  Rig r;
  r.ingest.prepare("gw1", r.sealer.start_epoch().value(), false);
  Bytes env = r.seal_reading();
  struct Case {
    Bytes payload;
    Reject why;
  };
  Bytes truncated(env.begin(), env.begin() + 3);
  Bytes extended = env;
  extended.push_back(0);
  Bytes unknown = env;
  unknown[2] ^= 0xff;  // another kid (first kid byte follows flags and epoch id)
  Bytes bad_batch = {0xC0, 0x02, 0x00, 0x01, 0x00};
  std::vector<Case> cases = {{{}, Reject::kMalformed},
                             {truncated, Reject::kMalformed},
                             {extended, Reject::kForged},
                             {unknown, Reject::kUnknownKey},
                             {bad_batch, Reject::kBadBatch},
                             {Bytes(5000, 0x01), Reject::kMalformed}};
  for (const auto& c : cases) {
    auto before = r.ingest.counters().rejected[static_cast<std::size_t>(c.why)];
    auto out = r.ingest.prepare("gw1", c.payload, false);
    EXPECT_TRUE(out.rows.empty());
    EXPECT_EQ(out.rejected, 1u);
    EXPECT_EQ(r.ingest.counters().rejected[static_cast<std::size_t>(c.why)], before + 1)
        << to_string(c.why) << " size " << c.payload.size();
  }
  // The genuine envelope still opens afterwards: rejections did not disturb state.
  EXPECT_EQ(r.ingest.prepare("gw1", env, false).rows.size(), 1u);
}

}  // namespace
}  // namespace armored::cloud

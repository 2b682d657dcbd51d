// Crash recovery without a crash: the on-disk states a crash can leave
// (torn tails, half-created segments, unlinks that never happened) are made
// by hand, then the spool is reopened.

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "spool/segment_format.h"
#include "spool_testing.h"
#include "support/process.h"

namespace armored::spool {
namespace {
namespace fs = std::filesystem;
using test::all_pending;
using test::open_ok;
using test::payload;

void write_bytes(const fs::path& p, ByteSpan b) {
  FILE* f = std::fopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!b.empty()) {
    ASSERT_EQ(std::fwrite(b.data(), 1, b.size(), f), b.size());
  }
  std::fclose(f);
}

Bytes read_bytes(const fs::path& p) { return *read_file(p, 1u << 30); }

TEST(SpoolRecovery, EverythingSurvivesARestart) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    ASSERT_TRUE(s->ack(40));
  }
  auto s = open_ok(dir.path());
  auto pending = all_pending(*s);
  ASSERT_EQ(pending.size(), 60u);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    EXPECT_EQ(pending[i].id, 41 + i);
    EXPECT_EQ(as_string(pending[i].payload), payload(41 + i));
  }
  EXPECT_EQ(*s->append(as_bytes("next")), 101u);  // ids continue, never reused
  EXPECT_EQ(s->stats().torn_tail_truncations, 0u);
}

TEST(SpoolRecovery, IdsContinueAfterEverythingWasAcknowledgedAndDeleted) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_segment_bytes = 4096;
  o.max_record_bytes = 512;
  {
    auto s = open_ok(dir.path(), o);
    for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    ASSERT_TRUE(s->ack(100));
  }
  auto s = open_ok(dir.path(), o);
  EXPECT_TRUE(all_pending(*s).empty());
  EXPECT_EQ(*s->append(as_bytes("x")), 101u);
}

// Truncates the newest segment at every byte offset inside its last record
// (what a crash during that append can leave), reopens, and checks that the
// complete records are all there and the spool keeps working.
TEST(SpoolRecovery, TornLastRecordAtEveryByteOffset) {
  testing::TempDir src;
  constexpr std::uint64_t kRecords = 6;
  {
    auto s = open_ok(src.path());
    for (std::uint64_t i = 1; i <= kRecords; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  }
  auto segs = test::segment_files(src.path());
  ASSERT_EQ(segs.size(), 1u);
  Bytes full = read_bytes(segs[0]);
  const std::size_t last_size = format::frame_size(payload(kRecords).size());
  const std::size_t last_start = full.size() - last_size;
  for (std::size_t cut = last_start; cut < full.size(); ++cut) {
    testing::TempDir dir;
    write_bytes(dir / segs[0].filename().string(), ByteSpan(full.data(), cut));
    {
      auto s = open_ok(dir.path());
      ASSERT_TRUE(s);
      auto pending = all_pending(*s);
      ASSERT_EQ(pending.size(), kRecords - 1) << "cut at " << cut;
      EXPECT_EQ(as_string(pending.back().payload), payload(kRecords - 1));
      EXPECT_EQ(s->stats().torn_tail_truncations, cut > last_start ? 1u : 0u) << cut;
      EXPECT_EQ(s->stats().torn_bytes, cut - last_start);
      EXPECT_EQ(fs::file_size(dir / segs[0].filename().string()), last_start);
      EXPECT_EQ(*s->append(as_bytes("replacement")), kRecords);
    }
    auto s = open_ok(dir.path());
    auto pending = all_pending(*s);
    ASSERT_EQ(pending.size(), kRecords);
    EXPECT_EQ(as_string(pending.back().payload), "replacement");
    EXPECT_EQ(s->stats().torn_tail_truncations, 0u);
  }
}

TEST(SpoolRecovery, GarbageAfterTheLastRecordIsCut) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    for (std::uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  }
  auto seg = test::segment_files(dir.path())[0];
  Bytes b = read_bytes(seg);
  std::size_t good = b.size();
  b.resize(good + 8192, 0);  // delayed allocation after power loss: zeros
  for (std::size_t i = good + 100; i < good + 200; ++i) b[i] = static_cast<std::uint8_t>(i);
  write_bytes(seg, b);
  auto s = open_ok(dir.path());
  EXPECT_EQ(all_pending(*s).size(), 5u);
  EXPECT_EQ(s->stats().torn_bytes, 8192u);
  EXPECT_EQ(fs::file_size(seg), good);
}

TEST(SpoolRecovery, HalfCreatedSegmentIsRemoved) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  }
  Bytes header;
  format::append_segment_header(4, header);
  auto half = dir / "seg-00000000000000000004.spool";
  write_bytes(half, ByteSpan(header.data(), 9));
  auto s = open_ok(dir.path());
  EXPECT_EQ(all_pending(*s).size(), 3u);
  EXPECT_FALSE(fs::exists(half));
  EXPECT_EQ(*s->append(as_bytes("x")), 4u);
}

struct Damaged {
  testing::TempDir dir;
  fs::path seg;
  Bytes original;
};

// Ten records in one segment, the fifth one's payload damaged.
void damage_middle(Damaged& d) {
  {
    auto s = open_ok(d.dir.path());
    for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  }
  d.seg = test::segment_files(d.dir.path())[0];
  Bytes b = read_bytes(d.seg);
  std::size_t off = format::kSegmentHeaderSize;
  for (std::uint64_t i = 1; i < 5; ++i) off += format::frame_size(payload(i).size());
  b[off + format::kFrameHeaderSize + 2] ^= 0x01;
  write_bytes(d.seg, b);
  d.original = b;
}

TEST(SpoolRecovery, CorruptRecordInTheMiddleFailsOpenByDefault) {
  Damaged d;
  damage_middle(d);
  auto s = Spool::open(d.dir.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, SpoolErrorCode::kCorrupt);
  EXPECT_NE(s.error().message.find("damaged record"), std::string::npos);
  EXPECT_NE(s.error().message.find(d.seg.filename().string()), std::string::npos);
  EXPECT_EQ(read_bytes(d.seg), d.original);  // nothing touched
}

// Quarantine keeps every intact record: the four before the damaged one and
// the five after it; only the damaged record's bytes go aside.
TEST(SpoolRecovery, CorruptRecordInTheMiddleIsQuarantinedAndEveryIntactRecordKept) {
  Damaged d;
  damage_middle(d);
  SpoolOptions o;
  o.on_corruption = OnCorruption::kQuarantine;
  auto s = open_ok(d.dir.path(), o);
  ASSERT_TRUE(s);
  auto pending = all_pending(*s);
  ASSERT_EQ(pending.size(), 9u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(as_string(pending[i].payload), payload(i + 1));
  for (std::size_t i = 4; i < 9; ++i) EXPECT_EQ(as_string(pending[i].payload), payload(i + 2));
  EXPECT_EQ(pending[4].id, 6u) << "the intact records keep their ids";
  const auto st = s->stats();
  EXPECT_EQ(st.corrupt_segments, 1u);
  EXPECT_EQ(st.id_gaps, 1u) << "one record id lost with the damaged bytes";
  ASSERT_EQ(st.quarantined.size(), 1u);
  fs::path aside = st.quarantined[0];
  ASSERT_TRUE(fs::exists(aside));
  EXPECT_NE(aside.filename().string().find(".damaged-"), std::string::npos);
  EXPECT_EQ(fs::file_size(aside), format::frame_size(payload(5).size())) << "only the damaged record moved aside";
  EXPECT_EQ(st.quarantined_bytes, fs::file_size(aside));
  EXPECT_TRUE(s->append(as_bytes("after repair")));
  // Opening again finds a clean spool: the repair is done once.
  s.reset();
  auto again = open_ok(d.dir.path(), o);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stats().corrupt_segments, 0u);
  EXPECT_EQ(all_pending(*again).size(), 10u);
}

// Both slots of the ack cursor destroyed: quarantine rebuilds it from the
// segments (everything before the oldest one was acknowledged), so nothing
// is lost and at most that segment is sent again.
TEST(SpoolRecovery, DamagedAckFileIsRebuiltFromTheSegments) {
  testing::TempDir dir;
  SpoolOptions small;
  small.max_segment_bytes = 512;
  small.max_record_bytes = 256;
  small.max_total_bytes = 1 << 20;
  {
    auto s = open_ok(dir.path(), small);
    for (std::uint64_t i = 1; i <= 40; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    ASSERT_TRUE(s->ack(25));
  }
  const auto segs = test::segment_files(dir.path());
  ASSERT_GT(segs.size(), 3u);
  write_bytes(dir / "ack", Bytes(64, 0xA5));
  SpoolOptions strict = small;
  auto refused = Spool::open(dir.path(), strict);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, SpoolErrorCode::kCorrupt);
  small.on_corruption = OnCorruption::kQuarantine;
  auto s = open_ok(dir.path(), small);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->stats().ack_rebuilt);
  auto pending = all_pending(*s);
  ASSERT_FALSE(pending.empty());
  EXPECT_LE(pending.front().id, 26u) << "nothing unacknowledged is skipped";
  EXPECT_EQ(pending.back().id, 40u);
  EXPECT_GT(pending.front().id, 1u) << "segments deleted as acknowledged are not re-sent";
}

TEST(SpoolRecovery, CorruptionFoundWhileRunningIsReportedByPeek) {
  testing::TempDir dir;
  // Records read from disk are checked; with the memory tail on, this
  // process would serve its own recent appends from memory instead
  // (spool_tail_test covers that case).
  SpoolOptions o;
  o.memory_tail_bytes = 0;
  auto s = open_ok(dir.path(), o);
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  auto seg = test::segment_files(dir.path())[0];
  int fd = ::open(seg.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::uint8_t junk = 0xAA;
  ASSERT_EQ(::pwrite(fd, &junk, 1, format::kSegmentHeaderSize + format::kFrameHeaderSize + 1), 1);
  ::close(fd);
  auto r = s->peek(10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, SpoolErrorCode::kCorrupt);
  EXPECT_EQ(s->stats().corrupt_reads, 1u);
}

TEST(SpoolRecovery, DamagedAckCursorSlotFallsBackToTheOtherSlot) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    ASSERT_TRUE(s->ack(3));
    ASSERT_TRUE(s->ack(6));  // generation 3: slot 1
  }
  // Tear the newest slot: the previous cursor (3) must be used.
  int fd = ::open((dir / "ack").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::uint8_t junk[8] = {};
  ASSERT_EQ(::pwrite(fd, junk, sizeof junk, 512 + 12), 8);
  ::close(fd);
  auto s = open_ok(dir.path());
  EXPECT_EQ(s->stats().acked_id, 3u);
  EXPECT_EQ(all_pending(*s).front().id, 4u);  // redelivered, never lost
}

TEST(SpoolRecovery, FullyAcknowledgedSegmentsLeftByACrashAreDeleted) {
  testing::TempDir dir, saved;
  SpoolOptions o;
  o.max_segment_bytes = 4096;
  o.max_record_bytes = 512;
  std::vector<fs::path> before;
  {
    auto s = open_ok(dir.path(), o);
    for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    before = test::segment_files(dir.path());
    for (const auto& p : before) fs::copy_file(p, saved / p.filename().string());
    ASSERT_TRUE(s->ack(60));  // persists the cursor, then unlinks
  }
  // A crash between the cursor write and the unlinks: the files are back.
  for (const auto& p : before) {
    if (!fs::exists(p)) fs::copy_file(saved / p.filename().string(), p);
  }
  auto s = open_ok(dir.path(), o);
  auto pending = all_pending(*s);
  ASSERT_EQ(pending.size(), 40u);
  EXPECT_EQ(pending.front().id, 61u);
  EXPECT_LT(test::segment_files(dir.path()).size(), before.size());
  EXPECT_EQ(s->stats().segments, test::segment_files(dir.path()).size());
}

}  // namespace
}  // namespace armored::spool

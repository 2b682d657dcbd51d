// The mirror (docs/spool.md, "Mirror"): both copies hold identical bytes;
// damage, a torn tail or a missing file in one copy is repaired from the
// other at open; only damage in both copies at the same place falls back to
// the quarantine; a mirror that cannot take a write fails the append whole.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "spool/mirror_merge.h"
#include "spool/segment_format.h"
#include "spool_testing.h"
#include "support/process.h"

namespace armored::spool {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::all_pending;
using test::open_ok;
using test::payload;

std::vector<ByteSpan> spans_of(const std::vector<std::string>& records) {
  std::vector<ByteSpan> out;
  for (const auto& r : records) out.push_back(as_bytes(r));
  return out;
}

Bytes bytes_of(const fs::path& p) { return *read_file(p, 1u << 30); }

void flip(const fs::path& p, std::uint64_t at, std::size_t n) {
  Bytes b = bytes_of(p);
  ASSERT_LE(at + n, b.size());
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  for (std::size_t i = 0; i < n; ++i) f.put(static_cast<char>(b[at + i] ^ 0x5A));
}

// Every segment file has the same name and the same bytes in both directories.
void expect_identical_copies(const fs::path& primary, const fs::path& mirror) {
  auto p = test::segment_files(primary), m = test::segment_files(mirror);
  ASSERT_EQ(p.size(), m.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].filename(), m[i].filename());
    EXPECT_TRUE(bytes_of(p[i]) == bytes_of(m[i])) << p[i] << " differs from its mirror";
  }
}

// Every record 1..n pending, with its payload.
void expect_all(Spool& s, std::uint64_t n) {
  auto got = all_pending(s);
  ASSERT_EQ(got.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].id, i + 1);
    EXPECT_EQ(as_string(got[i].payload), payload(i + 1)) << "record " << i + 1;
  }
}

class SpoolMirror : public ::testing::Test {
 protected:
  SpoolOptions options(OnCorruption on = OnCorruption::kQuarantine) const {
    SpoolOptions o;
    o.max_segment_bytes = 16 << 10;
    o.max_record_bytes = 1024;
    o.max_total_bytes = 1 << 20;
    o.on_corruption = on;
    o.mirror_dir = mirror();
    return o;
  }
  fs::path primary() const { return tmp_ / "spool"; }
  fs::path mirror() const { return tmp_ / "mirror"; }
  // Appends records 1..n (a few segments, batches of up to 25) and closes the spool.
  void fill(std::uint64_t n, const SpoolOptions& o) {
    auto s = open_ok(primary(), o);
    for (std::uint64_t i = 1; i <= n;) {
      std::vector<std::string> batch;
      for (; i <= n && batch.size() < 25; ++i) batch.push_back(payload(i));
      ASSERT_TRUE(s->append_batch(spans_of(batch)));
    }
  }
  testing::TempDir tmp_;
};

TEST_F(SpoolMirror, EverySegmentIsWrittenRolledAndDeletedInBothCopies) {
  {
    auto s = open_ok(primary(), options());
    for (std::uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
    for (std::uint64_t i = 201; i <= 600;) {
      std::vector<std::string> batch;
      for (; i <= 600 && batch.size() < 25; ++i) batch.push_back(payload(i));
      ASSERT_TRUE(s->append_batch(spans_of(batch)));
    }
    EXPECT_GT(s->stats().segments, 3u);
    expect_identical_copies(primary(), mirror());
    ASSERT_TRUE(s->ack(300));
    expect_identical_copies(primary(), mirror());
    EXPECT_FALSE(fs::exists(mirror() / "ack")) << "the ack cursor is kept once, in the spool directory";
  }
  auto s = open_ok(primary(), options());
  auto st = s->stats();
  EXPECT_EQ(st.mirror_repairs + st.mirror_copied_segments, 0u) << "an intact pair needs nothing";
  EXPECT_EQ(all_pending(*s).size(), 300u);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, FlippedBytesInThePrimaryAreRepairedFromTheMirror) {
  fill(200, options());
  auto seg = test::segment_files(primary()).front();
  flip(seg, fs::file_size(seg) / 2, 8);
  // Even "refuse" opens: bytes restored from an intact copy are not a loss.
  auto s = open_ok(primary(), options(OnCorruption::kFail));
  ASSERT_TRUE(s);
  auto st = s->stats();
  EXPECT_EQ(st.mirror_repairs, 1u);
  EXPECT_EQ(st.mirror_repaired_bytes, 8u);
  EXPECT_EQ(st.corrupt_segments, 0u);
  ASSERT_EQ(st.mirror_log.size(), 1u);
  EXPECT_NE(st.mirror_log[0].find("repaired 8 bytes of " + seg.filename().string() + " from the mirror"), std::string::npos)
      << st.mirror_log[0];
  expect_all(*s, 200);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, FlippedBytesInTheMirrorAreRepairedFromThePrimary) {
  fill(200, options());
  auto seg = test::segment_files(mirror()).front();
  flip(seg, fs::file_size(seg) / 3, 8);
  auto s = open_ok(primary(), options());
  auto st = s->stats();
  EXPECT_EQ(st.mirror_repairs, 1u);
  EXPECT_EQ(st.mirror_repaired_bytes, 8u);
  ASSERT_EQ(st.mirror_log.size(), 1u);
  EXPECT_NE(st.mirror_log[0].find("of the mirror's " + seg.filename().string() + " from the primary"), std::string::npos)
      << st.mirror_log[0];
  expect_all(*s, 200);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, ATornTailInThePrimaryIsMadeWholeFromTheMirror) {
  fill(200, options());
  auto seg = test::segment_files(primary()).back();
  const auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 500);
  auto s = open_ok(primary(), options());
  auto st = s->stats();
  EXPECT_EQ(st.torn_bytes, 0u) << "nothing is cut: the mirror holds the records";
  EXPECT_EQ(st.mirror_repaired_bytes, 500u);
  expect_all(*s, 200);
  expect_identical_copies(primary(), mirror());
  EXPECT_EQ(*s->append(as_bytes(payload(201))), 201u);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, TheLongerValidRunWinsWhicheverCopyHoldsIt) {
  // A crash between the two writes of an append: one copy holds the last
  // record, the other half of it. Those records were never answered, but
  // they are valid, so both copies keep them.
  fill(50, options());
  for (const fs::path& cut : {mirror(), primary()}) {
    auto seg = test::segment_files(cut).back();
    fs::resize_file(seg, fs::file_size(seg) - format::frame_size(payload(50).size()) / 2);
    auto s = open_ok(primary(), options());
    EXPECT_EQ(s->stats().torn_bytes, 0u) << cut;
    expect_all(*s, 50);
    expect_identical_copies(primary(), mirror());
  }
}

TEST_F(SpoolMirror, DamageInBothCopiesAtTheSamePlaceIsQuarantinedAsWithoutAMirror) {
  fill(200, options());
  const auto name = test::segment_files(primary()).front().filename();
  const auto at = fs::file_size(primary() / name) / 2;
  flip(primary() / name, at, 8);
  flip(mirror() / name, at + 2, 8);  // overlapping, not identical: no copy has that record
  {
    auto strict = Spool::open(primary(), options(OnCorruption::kFail));
    ASSERT_FALSE(strict);
    EXPECT_EQ(strict.error().code, SpoolErrorCode::kCorrupt);
  }
  auto s = open_ok(primary(), options());
  auto st = s->stats();
  EXPECT_EQ(st.corrupt_segments, 1u);
  ASSERT_EQ(st.quarantined.size(), 1u);
  EXPECT_TRUE(fs::exists(st.quarantined[0]));
  EXPECT_GE(st.id_gaps, 1u);
  EXPECT_LE(st.id_gaps, 2u);
  auto got = all_pending(*s);
  EXPECT_EQ(got.size(), 200u - st.id_gaps);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, AMissingOrEmptyMirrorIsBuiltFromThePrimary) {
  SpoolOptions plain = options();
  plain.mirror_dir.reset();
  fill(300, plain);
  const auto n = test::segment_files(primary()).size();
  ASSERT_GT(n, 1u);
  {
    auto s = open_ok(primary(), options());
    auto st = s->stats();
    EXPECT_EQ(st.mirror_copied_segments, n);
    EXPECT_EQ(st.mirror_log.size(), n);
    EXPECT_EQ(st.mirror_repairs, 0u);
    expect_all(*s, 300);
    expect_identical_copies(primary(), mirror());
  }
  // A mirror emptied (a replaced disk) is built again the same way.
  fs::remove_all(mirror());
  auto s = open_ok(primary(), options());
  EXPECT_EQ(s->stats().mirror_copied_segments, n);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, SegmentsOnlyOneCopyHoldsAreReconciled) {
  fill(600, options());
  auto segs = test::segment_files(primary());
  ASSERT_GT(segs.size(), 2u);
  // A segment lost from the primary comes back from the mirror; one lost
  // from the mirror is copied to it.
  fs::remove(segs[1]);
  fs::remove(mirror() / segs[2].filename());
  const Bytes oldest = bytes_of(mirror() / segs[0].filename());
  {
    auto s = open_ok(primary(), options());
    EXPECT_EQ(s->stats().mirror_copied_segments, 2u);
    expect_all(*s, 600);
    expect_identical_copies(primary(), mirror());
    ASSERT_TRUE(s->ack(s->stats().next_id - 2));  // every segment but the newest goes
    EXPECT_FALSE(fs::exists(mirror() / segs[0].filename()));
  }
  // A crash between the two unlinks of an acknowledged segment: the copy
  // left over goes, it is not copied back.
  {
    std::ofstream f(mirror() / segs[0].filename(), std::ios::binary);
    f.write(reinterpret_cast<const char*>(oldest.data()), static_cast<std::streamsize>(oldest.size()));
  }
  auto s = open_ok(primary(), options());
  EXPECT_EQ(s->stats().mirror_copied_segments, 0u);
  EXPECT_EQ(all_pending(*s).size(), 1u);
  expect_identical_copies(primary(), mirror());
}

TEST_F(SpoolMirror, PeekTakesARecordDamagedOnDiskFromTheMirror) {
  SpoolOptions o = options();
  o.memory_tail_bytes = 0;  // every peek reads the files
  auto s = open_ok(primary(), o);
  for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  auto seg = test::segment_files(primary()).front();
  flip(seg, format::kSegmentHeaderSize + 20, 4);  // inside record 1's payload
  expect_all(*s, 100);
  EXPECT_GE(s->stats().mirror_reads, 1u);
  EXPECT_EQ(s->stats().corrupt_reads, 0u);
}

TEST_F(SpoolMirror, AMirrorInsideTheSpoolIsRefused) {
  SpoolOptions o = options();
  for (const fs::path& bad : {primary(), primary() / "mirror", primary() / "." / "x" / ".."}) {
    o.mirror_dir = bad;
    auto s = Spool::open(primary(), o);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, SpoolErrorCode::kBadOptions);
    EXPECT_NE(s.error().message.find("inside"), std::string::npos) << s.error().message;
  }
}

TEST_F(SpoolMirror, AFullMirrorFailsTheAppendWholeAndLosesNothing) {
  fs::create_directories(mirror());
  auto mount = testing::run({"mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mirror().string()}, 30s);
  if (mount.exit_code != 0) GTEST_SKIP() << "cannot mount a tmpfs: " << mount.err;
  struct Unmount {
    fs::path p;
    ~Unmount() { (void)testing::run({"umount", "-l", p.string()}, 30s); }
  } unmount{mirror()};
  auto s = open_ok(primary(), options());
  std::uint64_t accepted = 0;
  SpoolError refused{};
  // Batches of 20 records: the mirror fills in a few dozen appends.
  std::vector<std::string> batch;
  for (std::uint64_t i = 1; i <= 20; ++i) batch.push_back(payload(i));
  const auto spans = spans_of(batch);
  for (int n = 0; n < 1000; ++n) {
    auto id = s->append_batch(spans);
    if (!id) {
      refused = id.error();
      break;
    }
    accepted = *id + spans.size() - 1;
  }
  ASSERT_GT(accepted, 0u);
  ASSERT_LT(accepted, 20000u) << "the 256 KiB mirror never filled";
  EXPECT_EQ(refused.code, SpoolErrorCode::kIo);
  EXPECT_NE(refused.message.find(mirror().string()), std::string::npos) << refused.message;
  // Nothing of the refused record is in either copy, and the spool goes on
  // once the mirror has room.
  expect_identical_copies(primary(), mirror());
  ASSERT_TRUE(s->ack(accepted));
  auto again = s->append(as_bytes(payload(1)));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, accepted + 1) << "the refused append used no id";
  s.reset();
  s = open_ok(primary(), options());
  EXPECT_EQ(s->stats().mirror_repairs, 0u);
  expect_identical_copies(primary(), mirror());
}

// The merge itself, without files: it names exactly the damaged bytes.
TEST(MirrorMerge, NamesTheDamagedRangeOfEachCopy) {
  Bytes seg;
  format::append_segment_header(7, seg);
  for (std::uint64_t id = 7; id < 17; ++id) format::append_frame(id, as_bytes(payload(id)), seg);
  Bytes p = seg, m = seg;
  p[100] ^= 1;
  p[101] ^= 1;
  m[300] ^= 1;
  auto plan = format::merge_copies(p, m, 7, 1024);
  ASSERT_EQ(plan.primary.ranges.size(), 1u);
  EXPECT_EQ(plan.primary.ranges[0].from, 100u);
  EXPECT_EQ(plan.primary.ranges[0].to, 102u);
  ASSERT_EQ(plan.mirror.ranges.size(), 1u);
  EXPECT_EQ(plan.mirror.ranges[0].from, 300u);
  EXPECT_TRUE(plan.damaged_in_both.empty());
  EXPECT_EQ(plan.valid_end, seg.size());
  // Same bytes in both: nothing to take from either, one damaged range.
  m = p;
  plan = format::merge_copies(p, m, 7, 1024);
  EXPECT_TRUE(plan.primary.ranges.empty());
  EXPECT_TRUE(plan.mirror.ranges.empty());
  EXPECT_EQ(plan.damaged_in_both.size(), 1u);
  EXPECT_TRUE(format::merge_copies(Bytes(10, 0), Bytes(), 7, 1024).headers_bad);
}

}  // namespace
}  // namespace armored::spool

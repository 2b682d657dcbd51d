// The spool's memory tail (docs/spool.md, "Memory tail"): records served
// from memory must equal the records read from disk for every peek, after
// a restart, after acks, across segment rolls and once the tail has been
// evicted; the stats say which path served them, so each test knows it
// exercised the path it claims to.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "spool/segment_format.h"
#include "spool/spool.h"
#include "spool_testing.h"
#include "support/process.h"

namespace armored::spool {
namespace {
using test::open_ok;
using test::payload;

using Records = std::vector<SpoolRecord>;

void expect_same(const Records& a, const Records& b, const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id) << where;
    EXPECT_EQ(a[i].payload, b[i].payload) << where << " id " << a[i].id;
  }
}

// Appends records first..last in batches of 1, 2, 3, ... records.
void append_range(Spool& s, std::uint64_t first, std::uint64_t last) {
  std::uint64_t id = first;
  for (std::size_t batch = 1; id <= last; ++batch) {
    std::vector<std::string> ps;
    for (std::size_t k = 0; k < batch && id <= last; ++k) ps.push_back(payload(id++));
    std::vector<ByteSpan> spans;
    for (const auto& p : ps) spans.push_back(as_bytes(p));
    auto r = s.append_batch(spans);
    ASSERT_TRUE(r) << r.error().message;
  }
}

Records peek_ok(Spool& s, std::size_t n, std::size_t max_bytes, std::uint64_t after) {
  auto r = s.peek(n, max_bytes, after);
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : Records{};
}

// The peeks a forwarding gateway makes: pipelined after ids, with record
// and byte budgets, some cutting through the middle of an append batch.
struct PeekCase {
  std::size_t n, max_bytes;
  std::uint64_t after;
};
const PeekCase kCases[] = {{1, 1 << 20, 0},  {7, 1 << 20, 0},   {255, 60 * 1024, 0}, {255, 300, 10},
                           {3, 1 << 20, 44}, {1000, 1 << 20, 77}, {50, 2000, 150},    {10, 1 << 20, 299},
                           {10, 1 << 20, 300}};

TEST(SpoolTail, ServesExactlyWhatADiskReadReturnsBeforeAndAfterRestart) {
  testing::TempDir dir;
  std::vector<Records> from_memory;
  {
    auto s = open_ok(dir.path());
    append_range(*s, 1, 300);
    for (const auto& c : kCases) from_memory.push_back(peek_ok(*s, c.n, c.max_bytes, c.after));
    auto st = s->stats();
    EXPECT_GT(st.tail_records_read, 0u);
    EXPECT_EQ(st.disk_records_read, 0u);
    EXPECT_GT(st.tail_bytes, 0u);
  }
  auto s = open_ok(dir.path());  // restart: the tail is empty, everything comes from disk
  for (std::size_t i = 0; i < std::size(kCases); ++i) {
    const auto& c = kCases[i];
    expect_same(from_memory[i], peek_ok(*s, c.n, c.max_bytes, c.after), "case " + std::to_string(i));
  }
  EXPECT_EQ(s->stats().tail_records_read, 0u);
  EXPECT_GT(s->stats().disk_records_read, 0u);
  for (const auto& r : from_memory[5]) EXPECT_EQ(as_string(r.payload), payload(r.id));
}

TEST(SpoolTail, AfterARestartNewAppendsAreServedFromMemoryOnceTheOldOnesAreRead) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    append_range(*s, 1, 100);
  }
  auto s = open_ok(dir.path());
  append_range(*s, 101, 200);
  // Record 1 is only on disk: the whole range is read from disk.
  auto all = peek_ok(*s, 1000, 1 << 20, 0);
  ASSERT_EQ(all.size(), 200u);
  EXPECT_EQ(s->stats().disk_records_read, 200u);
  // Once the reader is past the old records, the tail serves the rest.
  auto recent = peek_ok(*s, 1000, 1 << 20, 100);
  ASSERT_EQ(recent.size(), 100u);
  EXPECT_EQ(s->stats().tail_records_read, 100u);
  expect_same(recent, Records(all.begin() + 100, all.end()), "tail vs disk");
}

TEST(SpoolTail, AcknowledgedBlocksLeaveTheTail) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  append_range(*s, 1, 300);
  const auto before = s->stats().tail_bytes;
  ASSERT_TRUE(s->ack(150));
  EXPECT_LT(s->stats().tail_bytes, before);
  auto rest = peek_ok(*s, 1000, 1 << 20, 0);
  ASSERT_EQ(rest.size(), 150u);
  EXPECT_EQ(rest.front().id, 151u);
  EXPECT_EQ(s->stats().disk_records_read, 0u);
  for (const auto& r : rest) EXPECT_EQ(as_string(r.payload), payload(r.id));
  ASSERT_TRUE(s->ack(300));
  EXPECT_EQ(s->stats().tail_bytes, 0u);
  EXPECT_TRUE(peek_ok(*s, 10, 1 << 20, 0).empty());
  append_range(*s, 301, 310);  // the tail starts again after being emptied by acks
  auto next = peek_ok(*s, 100, 1 << 20, 0);
  ASSERT_EQ(next.size(), 10u);
  EXPECT_EQ(next.front().id, 301u);
  EXPECT_EQ(s->stats().disk_records_read, 0u);
}

TEST(SpoolTail, EqualsDiskAcrossSegmentRolls) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_segment_bytes = 4096;
  o.max_record_bytes = 1024;
  o.max_total_bytes = 1 << 22;
  std::vector<Records> from_memory;
  {
    auto s = open_ok(dir.path(), o);
    append_range(*s, 1, 300);
    ASSERT_GT(s->stats().segments, 5u);
    for (const auto& c : kCases) from_memory.push_back(peek_ok(*s, c.n, c.max_bytes, c.after));
    EXPECT_EQ(s->stats().disk_records_read, 0u);
  }
  auto s = open_ok(dir.path(), o);
  for (std::size_t i = 0; i < std::size(kCases); ++i) {
    const auto& c = kCases[i];
    expect_same(from_memory[i], peek_ok(*s, c.n, c.max_bytes, c.after), "case " + std::to_string(i));
  }
}

TEST(SpoolTail, AnEvictedTailFallsBackToDiskWithTheSameRecords) {
  testing::TempDir dir;
  SpoolOptions o;
  o.memory_tail_bytes = 8192;  // the last three batches (of 22..24 records) only
  auto s = open_ok(dir.path(), o);
  append_range(*s, 1, 300);
  EXPECT_GT(s->stats().tail_bytes, 0u);
  EXPECT_LE(s->stats().tail_bytes, 8192u);
  auto old = peek_ok(*s, 1000, 1 << 20, 0);  // record 1 was evicted long ago
  ASSERT_EQ(old.size(), 300u);
  EXPECT_EQ(s->stats().disk_records_read, 300u);
  EXPECT_EQ(s->stats().tail_records_read, 0u);
  auto recent = peek_ok(*s, 1000, 1 << 20, 295);  // still in memory
  ASSERT_EQ(recent.size(), 5u);
  EXPECT_EQ(s->stats().tail_records_read, 5u);
  expect_same(recent, Records(old.end() - 5, old.end()), "tail vs disk");
  for (const auto& r : old) EXPECT_EQ(as_string(r.payload), payload(r.id));
}

TEST(SpoolTail, ABatchLargerThanTheBudgetRestartsTheTailAndStaysConsecutive) {
  testing::TempDir dir;
  SpoolOptions o;
  o.memory_tail_bytes = 1000;
  auto s = open_ok(dir.path(), o);
  append_range(*s, 1, 10);
  std::string big(2000, 'x');
  ASSERT_TRUE(s->append(as_bytes(big)));  // id 11: not kept
  EXPECT_EQ(s->stats().tail_bytes, 0u);
  ASSERT_TRUE(s->append(as_bytes(payload(12))));
  // 11 is not in memory: reading after 10 must not skip it.
  auto r = peek_ok(*s, 10, 1 << 20, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, 11u);
  EXPECT_EQ(as_string(r[0].payload), big);
  EXPECT_EQ(as_string(r[1].payload), payload(12));
  EXPECT_EQ(s->stats().disk_records_read, 2u);
}

TEST(SpoolTail, DisabledTailReadsEverythingFromDisk) {
  testing::TempDir dir;
  SpoolOptions o;
  o.memory_tail_bytes = 0;
  auto s = open_ok(dir.path(), o);
  append_range(*s, 1, 50);
  EXPECT_EQ(s->stats().tail_bytes, 0u);
  EXPECT_EQ(peek_ok(*s, 100, 1 << 20, 0).size(), 50u);
  EXPECT_EQ(s->stats().tail_records_read, 0u);
  EXPECT_EQ(s->stats().disk_records_read, 50u);
}

TEST(SpoolTail, DamageOnDiskDoesNotChangeWhatTheTailServesAndIsFoundOnReopen) {
  testing::TempDir dir;
  {
    auto s = open_ok(dir.path());
    append_range(*s, 1, 10);
    auto seg = test::segment_files(dir.path())[0];
    int fd = ::open(seg.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::uint8_t junk = 0xAA;
    ASSERT_EQ(::pwrite(fd, &junk, 1, format::kSegmentHeaderSize + format::kFrameHeaderSize + 1), 1);
    ::close(fd);
    // The tail holds the bytes that were written and synced: forwarding them is right.
    auto r = peek_ok(*s, 10, 1 << 20, 0);
    ASSERT_EQ(r.size(), 10u);
    EXPECT_EQ(as_string(r[0].payload), payload(1));
  }
  auto again = Spool::open(dir.path());  // kFail by default: the damage is reported
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, SpoolErrorCode::kCorrupt);
}

}  // namespace
}  // namespace armored::spool

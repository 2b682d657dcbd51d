#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "spool/spool.h"
#include "spool_testing.h"
#include "support/process.h"

namespace armored::spool {
namespace {
using test::all_pending;
using test::open_ok;
using test::payload;

TEST(Spool, AppendPeekAck) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  for (std::uint64_t i = 1; i <= 10; ++i) {
    auto id = s->append(as_bytes(payload(i)));
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, i);
  }
  auto first3 = s->peek(3);
  ASSERT_TRUE(first3);
  ASSERT_EQ(first3->size(), 3u);
  EXPECT_EQ(first3->at(0).id, 1u);
  EXPECT_EQ(as_string(first3->at(2).payload), payload(3));
  ASSERT_TRUE(s->ack(3));
  auto next = s->peek(100);
  ASSERT_EQ(next->size(), 7u);
  EXPECT_EQ(next->front().id, 4u);
  EXPECT_EQ(s->stats().pending_records, 7u);
  EXPECT_EQ(s->stats().acked_id, 3u);
}

TEST(Spool, PeekAfterAnIdPipelinesWithoutAcking) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  for (std::uint64_t i = 1; i <= 300; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  auto a = s->peek(100);
  auto b = s->peek(100, 1u << 20, a->back().id);  // the next 100 while the first are in flight
  ASSERT_EQ(b->size(), 100u);
  EXPECT_EQ(b->front().id, 101u);
  EXPECT_EQ(as_string(b->back().payload), payload(200));
  auto c = s->peek(1000, 1u << 20, 290);
  EXPECT_EQ(c->size(), 10u);
  EXPECT_TRUE(s->peek(10, 1u << 20, 300)->empty());
}

TEST(Spool, PeekStopsAtTheByteBudgetButAlwaysReturnsOne) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  std::string big(5000, 'b');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s->append(as_bytes(big)));
  EXPECT_EQ(s->peek(10, 12000)->size(), 2u);
  EXPECT_EQ(s->peek(10, 100)->size(), 1u);
}

TEST(Spool, AppendBatchIsOneConsecutiveRun) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  ASSERT_TRUE(s->append(as_bytes("solo")));
  std::vector<std::string> texts = {"a", "bb", "ccc"};
  std::vector<ByteSpan> spans;
  for (auto& t : texts) spans.push_back(as_bytes(t));
  auto first = s->append_batch(spans);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 2u);
  auto all = all_pending(*s);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(as_string(all[3].payload), "ccc");
  EXPECT_EQ(s->stats().syncs, 2u);  // one per call, not per record
}

TEST(Spool, RefusesEmptyAndOversizedRecords) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_record_bytes = 100;
  auto s = open_ok(dir.path(), o);
  EXPECT_EQ(s->append({}).error().code, SpoolErrorCode::kTooLarge);
  std::string big(101, 'x');
  EXPECT_EQ(s->append(as_bytes(big)).error().code, SpoolErrorCode::kTooLarge);
  EXPECT_TRUE(s->append(ByteSpan(as_bytes(big)).first(100)));
}

TEST(Spool, AckBeyondTheLastRecordIsRefused) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  ASSERT_TRUE(s->append(as_bytes("x")));
  auto r = s->ack(2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, SpoolErrorCode::kInvalidAck);
  EXPECT_TRUE(s->ack(1));
  EXPECT_TRUE(s->ack(1));  // idempotent
  EXPECT_TRUE(s->ack(0));
}

TEST(Spool, OnlyOneProcessMayOpenIt) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  auto again = Spool::open(dir.path());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, SpoolErrorCode::kLocked);
}

TEST(Spool, RollsSegmentsAndDeletesThemOnceAcknowledged) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_segment_bytes = 4096;
  o.max_record_bytes = 1024;
  o.max_total_bytes = 1 << 20;
  auto s = open_ok(dir.path(), o);
  for (std::uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE(s->append(as_bytes(payload(i))));
  auto segs = test::segment_files(dir.path());
  ASSERT_GT(segs.size(), 3u);
  EXPECT_EQ(s->stats().segments, segs.size());
  ASSERT_TRUE(s->ack(150));
  auto after = test::segment_files(dir.path());
  EXPECT_LT(after.size(), segs.size());
  auto pending = all_pending(*s);
  ASSERT_EQ(pending.size(), 50u);
  EXPECT_EQ(pending.front().id, 151u);
  for (const auto& r : pending) EXPECT_EQ(as_string(r.payload), payload(r.id));
}

TEST(Spool, FullSpoolRefusesNewRecordsAndKeepsEveryAcceptedOne) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_segment_bytes = 4096;
  o.max_record_bytes = 1000;
  o.max_total_bytes = 3 * 4096;
  auto s = open_ok(dir.path(), o);
  std::string rec(900, 'r');
  std::uint64_t accepted = 0;
  for (int i = 0; i < 100; ++i) {
    auto id = s->append(as_bytes(rec));
    if (!id) {
      EXPECT_EQ(id.error().code, SpoolErrorCode::kFull);
      EXPECT_NE(id.error().message.find("full"), std::string::npos);
      break;
    }
    accepted = *id;
  }
  ASSERT_GT(accepted, 5u);
  EXPECT_LE(s->stats().disk_bytes, o.max_total_bytes);
  EXPECT_EQ(s->append(as_bytes(rec)).error().code, SpoolErrorCode::kFull);
  EXPECT_EQ(s->stats().full_rejections, 2u);
  EXPECT_EQ(all_pending(*s).size(), accepted);  // nothing accepted was dropped
  // Acknowledging frees whole segments; appends work again.
  ASSERT_TRUE(s->ack(accepted / 2));
  EXPECT_TRUE(s->append(as_bytes(rec)));
  // Filled again, then everything acknowledged: room for a fresh spool's worth.
  while (s->append(as_bytes(rec))) {
  }
  ASSERT_TRUE(s->ack(s->stats().next_id - 1));
  for (std::uint64_t i = 0; i < accepted / 2; ++i) ASSERT_TRUE(s->append(as_bytes(rec))) << i;
}

TEST(Spool, ConcurrentAppendsShareSyncs) {
  testing::TempDir dir;
  auto s = open_ok(dir.path());
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint64_t>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto id = s->append(as_bytes(p));
        ASSERT_TRUE(id);
        ids[t].push_back(*id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::uint64_t> unique;
  for (const auto& v : ids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // each thread's appends in its order
    unique.insert(v.begin(), v.end());
  }
  EXPECT_EQ(unique.size(), std::size_t{kThreads * kPerThread});
  auto stats = s->stats();
  EXPECT_EQ(stats.appended_records, std::uint64_t{kThreads * kPerThread});
  EXPECT_LT(stats.syncs, stats.appended_records);  // group commit
  EXPECT_EQ(all_pending(*s).size(), std::size_t{kThreads * kPerThread});
}

TEST(Spool, RecordsLargerThanAReadChunk) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_record_bytes = 1 << 20;
  auto s = open_ok(dir.path(), o);
  std::string big(700 * 1024, 'B');
  big[12345] = 'x';
  ASSERT_TRUE(s->append(as_bytes("small")));
  ASSERT_TRUE(s->append(as_bytes(big)));
  ASSERT_TRUE(s->append(as_bytes("after")));
  auto all = all_pending(*s);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(as_string(all[1].payload), big);
  EXPECT_EQ(as_string(all[2].payload), "after");
}

TEST(Spool, RejectsInconsistentOptions) {
  testing::TempDir dir;
  SpoolOptions o;
  o.max_segment_bytes = 1000;
  o.max_record_bytes = 2000;
  EXPECT_FALSE(Spool::open(dir.path(), o));
  o = SpoolOptions{};
  o.max_total_bytes = o.max_segment_bytes;
  EXPECT_FALSE(Spool::open(dir.path(), o));
}

}  // namespace
}  // namespace armored::spool

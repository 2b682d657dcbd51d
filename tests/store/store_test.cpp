// One typed suite, run against every backend: the cloud must not care which
// database it writes to.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <random>
#include <thread>

#include <sqlite3.h>

#include "backends.h"
#include "store/stored_index.h"

namespace armored::store {
namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
using test::PostgresBackend;
using test::PostgresSharedBackend;
using test::SqliteBackend;
using test::SqliteDeviceOrderedBackend;

ReadingRow row(std::string device, std::uint32_t epoch, std::uint64_t seq) {
  ReadingRow r;
  r.device = std::move(device);
  r.key_id = {0x4b, 0x49, static_cast<std::uint8_t>(epoch), 0x01};
  r.epoch = epoch;
  r.seq = seq;
  r.timestamp = 1'700'000'000 + static_cast<std::int64_t>(seq % 100000) * 30;
  r.heart_rate_dbpm = static_cast<std::uint16_t>(600 + seq % 400);
  r.spo2_pct = static_cast<std::uint8_t>(90 + seq % 10);
  for (std::size_t i = 0; i < r.payload.size(); ++i) r.payload[i] = static_cast<std::uint8_t>(seq * 7 + i);
  r.received_at_ms = 1'700'000'000'123 + static_cast<std::int64_t>(seq % 100000);
  return r;
}

std::vector<ReadingRow> rows(std::string device, std::uint32_t epoch, std::uint64_t first, std::size_t n) {
  std::vector<ReadingRow> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(row(device, epoch, first + i));
  return out;
}

template <typename Backend>
class StoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = Backend::unavailable(); !why.empty()) {
      if (test::in_ci()) GTEST_FAIL() << why;
      GTEST_SKIP() << why;
    }
    backend_ = std::make_unique<Backend>();
    reopen();
  }
  void reopen() {
    store_.reset();
    auto s = backend_->open();
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
  }
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> store_;
};

using Backends =
    ::testing::Types<SqliteBackend, SqliteDeviceOrderedBackend, PostgresBackend, PostgresSharedBackend>;
struct BackendNames {
  template <typename T>
  static std::string GetName(int) { return T::kName; }
};
TYPED_TEST_SUITE(StoreSuite, Backends, BackendNames);

TYPED_TEST(StoreSuite, StoresABatchAndReadsItBack) {
  auto batch = rows("dev-1", 3, 1, 100);
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 100u);
  EXPECT_EQ(r->duplicates, 0u);
  EXPECT_EQ(*this->store_->count_readings(), 100u);
  auto got = this->store_->find_reading("dev-1", 3, 42);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, row("dev-1", 3, 42));
  EXPECT_FALSE(this->store_->find_reading("dev-1", 3, 101)->has_value());
  EXPECT_FALSE(this->store_->find_reading("dev-2", 3, 42)->has_value());
}

TYPED_TEST(StoreSuite, RedeliveredBatchIsCountedAsDuplicatesNotStoredTwice) {
  auto batch = rows("dev-1", 1, 1, 50);
  ASSERT_TRUE(this->store_->store_batch(batch));
  auto again = this->store_->store_batch(batch);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->inserted, 0u);
  EXPECT_EQ(again->duplicates, 50u);
  // A partly new batch: only the new part is stored.
  auto overlap = rows("dev-1", 1, 41, 20);
  auto r = this->store_->store_batch(overlap);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted, 10u);
  EXPECT_EQ(r->duplicates, 10u);
  EXPECT_EQ(*this->store_->count_readings(), 60u);
}

TYPED_TEST(StoreSuite, ADuplicateNeverOverwritesWhatIsStored) {
  ASSERT_TRUE(this->store_->store_batch(rows("dev-1", 1, 7, 1)));
  auto forged = row("dev-1", 1, 7);
  forged.payload.fill(0xEE);
  forged.heart_rate_dbpm = 2999;
  auto r = this->store_->store_batch(std::span(&forged, 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(**this->store_->find_reading("dev-1", 1, 7), row("dev-1", 1, 7));
}

TYPED_TEST(StoreSuite, RepeatsInsideOneBatchAreDuplicates) {
  auto batch = rows("dev-1", 1, 1, 10);
  batch.push_back(row("dev-1", 1, 5));
  batch.push_back(row("dev-1", 1, 5));
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 10u);
  EXPECT_EQ(r->duplicates, 2u);
}

// Batches longer than one multi-row INSERT (SQLite stores 64 rows per
// statement): repeats inside one statement, across two, and against rows
// stored earlier are all duplicates, and every column of every row lands in
// its own place (a shifted parameter would mix two readings).
TYPED_TEST(StoreSuite, RepeatsWithinAndAcrossMultiRowStatementsAreDuplicates) {
  ASSERT_TRUE(this->store_->store_batch(rows("dev-0", 1, 1, 3)));
  std::vector<ReadingRow> batch;
  for (std::uint64_t s = 1; s <= 150; ++s) batch.push_back(row("dev-" + std::to_string(s % 7), 1, s));
  batch.insert(batch.begin() + 10, row("dev-3", 1, 3));    // within the first statement
  batch.insert(batch.begin() + 64, row("dev-5", 1, 40));   // first of the second, repeats row 40
  batch.insert(batch.begin() + 140, row("dev-1", 1, 120)); // among the single-row tail
  batch.push_back(row("dev-0", 1, 2));                     // stored by the first batch
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(batch.size(), 154u);
  EXPECT_EQ(r->inserted, 150u);
  EXPECT_EQ(r->duplicates, 4u);
  EXPECT_EQ(*this->store_->count_readings(), 153u);
  for (std::uint64_t s = 1; s <= 150; ++s) {
    const std::string device = "dev-" + std::to_string(s % 7);
    auto found = this->store_->find_reading(device, 1, s);
    ASSERT_TRUE(found && found->has_value()) << device << " seq " << s;
    EXPECT_EQ(**found, row(device, 1, s)) << device << " seq " << s;
  }
}

TYPED_TEST(StoreSuite, DeviceEpochAndSeqTogetherIdentifyAReading) {
  std::vector<ReadingRow> batch = {row("dev-1", 1, 1), row("dev-1", 2, 1), row("dev-2", 1, 1),
                                   row("dev-10", 1, 1)};
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted, 4u);
  EXPECT_EQ(*this->store_->sequences("dev-1", 1), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(*this->store_->sequences("dev-1", 2), (std::vector<std::uint64_t>{1}));
}

TYPED_TEST(StoreSuite, SequencesComeBackAscending) {
  std::vector<ReadingRow> batch = {row("d", 1, 9), row("d", 1, 2), row("d", 1, 5),
                                   row("d", 1, std::uint64_t{1} << 40)};
  ASSERT_TRUE(this->store_->store_batch(batch));
  EXPECT_EQ(*this->store_->sequences("d", 1), (std::vector<std::uint64_t>{2, 5, 9, std::uint64_t{1} << 40}));
  EXPECT_TRUE(this->store_->sequences("nobody", 1)->empty());
}

TYPED_TEST(StoreSuite, ReadingKeysListEverythingOnceInKeyOrder) {
  std::vector<ReadingRow> batch = {row("b", 1, 2), row("a", 2, 1), row("b", 1, 1), row("a", 1, 5),
                                   row("B", 1, 1)};
  ASSERT_TRUE(this->store_->store_batch(batch));
  ASSERT_TRUE(this->store_->store_batch(batch));  // redelivered: still once each
  auto keys = this->store_->reading_keys();
  ASSERT_TRUE(keys) << keys.error().message;
  std::vector<ReadingKey> want = {{"B", 1, 1}, {"a", 1, 5}, {"a", 2, 1}, {"b", 1, 1}, {"b", 1, 2}};
  EXPECT_EQ(*keys, want);
}

TYPED_TEST(StoreSuite, IdentitiesAreStoredByteForByte) {
  std::vector<ReadingRow> batch = {row("patient-\u00fc-\u2713", 1, 1), row(std::string(200, 'x'), 1, 1),
                                   row("with space, 'quote' \"dq\" \\ tab\t", 1, 1)};
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 3u);
  for (const auto& b : batch) {
    auto got = this->store_->find_reading(b.device, 1, 1);
    ASSERT_TRUE(got && got->has_value()) << b.device;
    EXPECT_EQ(**got, b);
  }
}

TYPED_TEST(StoreSuite, LargestSequenceAndEpochFit) {
  const std::uint64_t max_seq = std::numeric_limits<std::int64_t>::max();
  std::vector<ReadingRow> batch = {row("d", 0xFFFFFFFF, max_seq), row("d", 0, 0)};
  ASSERT_TRUE(this->store_->store_batch(batch));
  auto got = this->store_->find_reading("d", 0xFFFFFFFF, max_seq);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->seq, max_seq);
  EXPECT_EQ((*got)->epoch, 0xFFFFFFFFu);
}

TYPED_TEST(StoreSuite, AnUnstorableRowRejectsTheWholeBatch) {
  auto batch = rows("d", 1, 1, 10);
  batch.push_back(row("d", 1, std::uint64_t{1} << 63));
  auto r = this->store_->store_batch(batch);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreErrorCode::kInvalidArgument);
  EXPECT_EQ(*this->store_->count_readings(), 0u);
}

TYPED_TEST(StoreSuite, EmptyBatchIsFine) {
  auto r = this->store_->store_batch({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inserted + r->duplicates, 0u);
}

TYPED_TEST(StoreSuite, LargeBatchesAcrossManyDevices) {
  std::vector<ReadingRow> batch;
  for (int d = 0; d < 1000; ++d) {
    for (std::uint64_t s = 1; s <= 5; ++s) batch.push_back(row("dev-" + std::to_string(d), 1, s));
  }
  auto r = this->store_->store_batch(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 5000u);
  EXPECT_EQ(*this->store_->count_readings(), 5000u);
  EXPECT_EQ(this->store_->sequences("dev-999", 1)->size(), 5u);
}

TYPED_TEST(StoreSuite, EverythingSurvivesReopening) {
  ASSERT_TRUE(this->store_->store_batch(rows("d", 1, 1, 20), std::vector<ReplayState>{{"d", 1, 20, {0xFF, 0x0F}}}));
  ASSERT_TRUE(this->store_->register_devices(std::vector<DeviceEnrollment>{{bytes_of("kid-1"), std::string("d")}}, 1000));
  SecurityEvent ev{5, EventKind::kAclDenied, "foreign topic", "gw-2", "armored/v1/gw-1/up"};
  ASSERT_TRUE(this->store_->record_events(std::span(&ev, 1)));
  this->reopen();
  EXPECT_EQ(*this->store_->count_readings(), 20u);
  EXPECT_EQ(**this->store_->load_replay("d", 1), (ReplayState{"d", 1, 20, {0xFF, 0x0F}}));
  EXPECT_EQ((*this->store_->find_device(as_bytes("kid-1")))->identity, "d");
  EXPECT_EQ(this->store_->recent_events(10)->at(0), ev);
  // Opening again over an existing schema is idempotent and dedup still holds.
  EXPECT_EQ(this->store_->store_batch(rows("d", 1, 1, 20))->duplicates, 20u);
}

TYPED_TEST(StoreSuite, ReplayStateIsStoredWithTheBatchAndNeverRegresses) {
  std::vector<ReplayState> s = {{"d", 1, 10, {1, 2, 3}}};
  ASSERT_TRUE(this->store_->store_batch(rows("d", 1, 1, 10), s));
  EXPECT_EQ(**this->store_->load_replay("d", 1), s[0]);
  std::vector<ReplayState> older = {{"d", 1, 5, {9}}};
  ASSERT_TRUE(this->store_->save_replay(older));
  EXPECT_EQ((*this->store_->load_replay("d", 1))->highest_seq, 10u);
  // Several states for one key in one call: the highest wins.
  std::vector<ReplayState> several = {{"d", 1, 30, {3}}, {"d", 1, 20, {2}}, {"d", 2, 1, {}}};
  ASSERT_TRUE(this->store_->save_replay(several));
  EXPECT_EQ(**this->store_->load_replay("d", 1), (ReplayState{"d", 1, 30, {3}}));
  EXPECT_EQ(**this->store_->load_replay("d", 2), (ReplayState{"d", 2, 1, {}}));
  EXPECT_FALSE(this->store_->load_replay("d", 3)->has_value());
}

TYPED_TEST(StoreSuite, DevicesMapKeyIdsToIdentities) {
  Bytes kid = {0x00, 0x01, 0xFE, 0xFF};
  ASSERT_TRUE(this->store_->register_devices(std::vector<DeviceEnrollment>{{Bytes(kid), std::string("patient-0001")}}, 1000));
  ASSERT_TRUE(this->store_->register_devices(std::vector<DeviceEnrollment>{{Bytes(kid), std::string("patient-0001")}}, 2000));  // idempotent
  // A batch with one conflict registers none of its devices.
  auto conflict = this->store_->register_devices(
      std::vector<DeviceEnrollment>{{Bytes{0x42}, "patient-0042"}, {Bytes(kid), "patient-0002"}}, 3000);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, StoreErrorCode::kConflict);
  EXPECT_FALSE(this->store_->find_device(Bytes{0x42})->has_value());
  auto d = this->store_->find_device(kid);
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ(**d, (DeviceRow{kid, "patient-0001", 1000, 0}));
  std::vector<Bytes> seen = {kid, Bytes{0x99}};
  ASSERT_TRUE(this->store_->touch_devices(seen, 5000));
  ASSERT_TRUE(this->store_->touch_devices(std::span(seen.data(), 1), 4000));  // never backwards
  EXPECT_EQ((*this->store_->find_device(kid))->last_seen_ms, 5000);
  EXPECT_FALSE(this->store_->find_device(Bytes{0x99})->has_value());
}

// The scaled mode's shared E3 state: an older epoch never replaces a newer one.
TYPED_TEST(StoreSuite, E3StatesKeepTheNewestEpochPerDevice) {
  const Bytes a{1, 2, 3}, b{9};
  ASSERT_TRUE(this->store_->save_e3_states(std::vector<E3DeviceState>{{a, 5, Bytes{0xA5}}, {b, 1, Bytes{0xB1}}}));
  ASSERT_TRUE(this->store_->save_e3_states(std::vector<E3DeviceState>{{a, 4, Bytes{0xA4}}}));  // stale: ignored
  ASSERT_TRUE(this->store_->save_e3_states(std::vector<E3DeviceState>{{b, 2, Bytes{0xB2, 0xB2}}}));
  auto one = this->store_->load_e3_states(std::vector<Bytes>{a});
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0], (E3DeviceState{a, 5, Bytes{0xA5}}));
  this->reopen();
  auto all = this->store_->load_e3_states({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  for (const auto& e : *all) {
    if (e.key_id == b) {
      EXPECT_EQ(e, (E3DeviceState{b, 2, Bytes{0xB2, 0xB2}}));
    }
  }
  auto none = this->store_->load_e3_states(std::vector<Bytes>{Bytes{7, 7}});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// Command sequence numbers for the fronts of a scaled cloud: never the
// same one twice, never below what the caller's own state reserved.
TYPED_TEST(StoreSuite, CommandSequencesAreHandedOutOnceEach) {
  const Bytes kid{4, 2};
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 7, 0), 0u);
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 7, 0), 1u);
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 7, 300), 300u);  // a reservation made before
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 7, 5), 301u);
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 8, 0), 0u);  // a new epoch starts again
  this->reopen();
  EXPECT_EQ(*this->store_->next_command_sequence(kid, 7, 0), 302u);
}

// The fronts' shared ticket keys: one rotation per due time, whoever asks
// first; retired keys go.
TYPED_TEST(StoreSuite, TicketKeysRotateOncePerDueTime) {
  const SealedTicketKey k1{Bytes(16, 1), Bytes{0xA1}, 1000}, k2{Bytes(16, 2), Bytes{0xA2}, 1500},
      k3{Bytes(16, 3), Bytes{0xA3}, 2000};
  auto r = this->store_->rotate_ticket_key(k1, 0, 0);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
  // Not due yet (k1 is newer than the due time): k2 is not added, k1 comes back.
  r = this->store_->rotate_ticket_key(k2, 900, 0);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], k1);
  // Due, and k1 retired at the same time.
  r = this->store_->rotate_ticket_key(k3, 1900, 1001);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], k3);
  this->reopen();
  auto all = this->store_->ticket_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0], k3);
}

TYPED_TEST(StoreSuite, SecurityEventsAreAnAuditTrail) {
  std::vector<SecurityEvent> events = {
      {100, EventKind::kRejectedEnvelope, "bad tag", "gw-1", "device dev-7 epoch 2 seq 99"},
      {101, EventKind::kFailedHandshake, "no client certificate", "127.0.0.1:4242", ""},
      {102, EventKind::kAclDenied, "foreign topic", "gw-2", "armored/v1/gw-1/up"},
      {103, EventKind::kRejectedEnvelope, "replayed seq", "gw-1", "quote ' and \"; DROP TABLE readings"},
  };
  ASSERT_TRUE(this->store_->record_events(events));
  auto recent = this->store_->recent_events(3);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ(recent->at(0), events[3]);
  EXPECT_EQ(recent->at(2), events[1]);
  EXPECT_EQ(*this->store_->count_events(EventKind::kRejectedEnvelope), 2u);
  EXPECT_EQ(*this->store_->count_events(EventKind::kEarlyDataRefused), 0u);
  EXPECT_EQ(*this->store_->count_events(std::nullopt), 4u);
}

// The fleet audit finds connections by kind: the text must survive both
// backends and come back as kConnected, not as kOther.
TYPED_TEST(StoreSuite, ConnectedEventsRoundTripByKind) {
  SecurityEvent ev{200, EventKind::kConnected, "full handshake", "gw-1",
                   "serial=0A1B2C uri=urn:armored:gateway:gw-1 from=127.0.0.1:5000"};
  ASSERT_TRUE(this->store_->record_events(std::span(&ev, 1)));
  EXPECT_EQ(this->store_->recent_events(1)->at(0), ev);
  EXPECT_EQ(*this->store_->count_events(EventKind::kConnected), 1u);
  EXPECT_EQ(*this->store_->count_events(EventKind::kOther), 0u);
  EXPECT_STREQ(to_string(EventKind::kConnected), "connected");
  EXPECT_EQ(event_kind_from("connected"), EventKind::kConnected);
}

TYPED_TEST(StoreSuite, CommandsTrackTheirStatus) {
  Command c;
  c.device = "dev-1";
  c.command = "set_interval";
  c.params = R"({"seconds":60})";
  c.created_at_ms = 1000;
  auto id1 = this->store_->add_command(c);
  ASSERT_TRUE(id1) << id1.error().message;
  c.command = "reboot";
  c.params = "{}";
  auto id2 = this->store_->add_command(c);
  ASSERT_TRUE(id2);
  EXPECT_NE(*id1, *id2);
  ASSERT_TRUE(this->store_->set_command_status(*id1, CommandStatus::kAcknowledged, "", 2000));
  auto all = this->store_->commands_for("dev-1", std::nullopt);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(0).status, CommandStatus::kAcknowledged);
  EXPECT_EQ(all->at(0).updated_at_ms, 2000);
  EXPECT_EQ(all->at(0).params, R"({"seconds":60})");
  auto pending = this->store_->commands_for("dev-1", CommandStatus::kPending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->at(0).command, "reboot");
  EXPECT_EQ(pending->at(0).created_at_ms, 1000);
  auto missing = this->store_->set_command_status(*id2 + 1000, CommandStatus::kFailed, "gone", 3000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, StoreErrorCode::kNotFound);
  EXPECT_TRUE(this->store_->commands_for("dev-2", std::nullopt)->empty());
  auto recent = this->store_->recent_commands(1);
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ(recent->at(0).command, "reboot");
  EXPECT_EQ(recent->at(0).device, "dev-1");
  EXPECT_EQ(this->store_->recent_commands(10)->size(), 2u);
  // Settled is final: an expiry after the answer is refused.
  auto late = this->store_->set_command_status(*id1, CommandStatus::kExpired, "no answer", 4000);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, StoreErrorCode::kConflict);
  EXPECT_EQ(this->store_->commands_for("dev-1", CommandStatus::kAcknowledged)->size(), 1u);
  // Every device's commands of one status; only sent ones expire, by age.
  c.device = "dev-9";
  auto id3 = this->store_->add_command(c).value();
  ASSERT_TRUE(this->store_->set_command_status(*id2, CommandStatus::kSent, "", 5000));
  ASSERT_TRUE(this->store_->set_command_status(id3, CommandStatus::kSent, "", 7000));
  auto sent = this->store_->commands_with_status(CommandStatus::kSent);
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_EQ(sent->size(), 2u);
  EXPECT_EQ(sent->at(0).id, *id2);
  EXPECT_EQ(sent->at(1).device, "dev-9");
  auto expired = this->store_->expire_commands(6000, "nobody left to wait", 8000);
  ASSERT_TRUE(expired) << expired.error().message;
  EXPECT_EQ(*expired, 1u);
  EXPECT_EQ(this->store_->commands_with_status(CommandStatus::kExpired)->at(0).id, *id2);
  EXPECT_EQ(this->store_->commands_with_status(CommandStatus::kSent)->size(), 1u);
  EXPECT_EQ(*this->store_->expire_commands(6000, "again", 9000), 0u);
}

// A reply is stored once by its (device, epoch, seq) and settles the
// command it answers only if that is the device's and not settled yet. A
// pending one is settled too: the answer can be committed (by a worker)
// before the front that sent the command has written `sent`.
TYPED_TEST(StoreSuite, RepliesAreStoredOnceAndSettleOnlyAnUnsettledCommandOfTheirDevice) {
  Command c;
  c.device = "dev-1";
  c.command = "get_status";
  c.params = "{}";
  const auto sent = this->store_->add_command(c).value();
  const auto pending = this->store_->add_command(c).value();
  ASSERT_TRUE(this->store_->set_command_status(sent, CommandStatus::kSent, "", 10));
  ReplyRow wrong_device{"dev-2", 1, 3, sent, CommandStatus::kFailed, "device: x", 20};
  ReplyRow to_pending{"dev-1", 1, 4, pending, CommandStatus::kAcknowledged, "", 20};
  ReplyRow answer{"dev-1", 1, 5, sent, CommandStatus::kAcknowledged, R"({"battery":80})", 30};
  auto r = this->store_->store_batch(rows("dev-1", 1, 0, 3), {}, std::vector{wrong_device, to_pending, answer, answer});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 3u);
  EXPECT_EQ(r->replies, 3u) << "the second copy of the answer is not new";
  auto all = this->store_->commands_for("dev-1", std::nullopt).value();
  EXPECT_EQ(all.at(0).status, CommandStatus::kAcknowledged);
  EXPECT_EQ(all.at(0).reason, R"({"battery":80})");
  EXPECT_EQ(all.at(0).updated_at_ms, 30);
  EXPECT_EQ(all.at(1).status, CommandStatus::kAcknowledged) << "answered before `sent` was written";
  auto sent_late = this->store_->set_command_status(pending, CommandStatus::kSent, "", 40);
  ASSERT_FALSE(sent_late);
  EXPECT_EQ(sent_late.error().code, StoreErrorCode::kConflict) << "the answer stands";
  auto refused = answer;
  refused.seq = 6;
  refused.outcome = CommandStatus::kFailed;
  r = this->store_->store_batch({}, {}, std::vector{refused});
  ASSERT_TRUE(r);
  EXPECT_EQ(this->store_->commands_for("dev-1", std::nullopt)->at(0).status, CommandStatus::kAcknowledged);
  auto bad = answer;
  bad.seq = std::uint64_t{1} << 63;
  EXPECT_FALSE(this->store_->store_batch({}, {}, std::vector{bad}));
}

// The dashboard's device pages: ordered by identity, searched by substring
// with LIKE's wildcards taken literally, filtered to devices not seen
// since a time (never seen included), and counted across pages.
TYPED_TEST(StoreSuite, DevicePagesSearchFilterAndCount) {
  for (int i = 0; i < 12; ++i) {
    const std::string id = "ward-" + std::to_string(100 + i);
    ASSERT_TRUE(this->store_->register_devices(std::vector<DeviceEnrollment>{{bytes_of(id), std::string(id)}}, 1000));
  }
  ASSERT_TRUE(this->store_->register_devices(std::vector<DeviceEnrollment>{{bytes_of("k%"), std::string("odd_%name")}}, 1000));
  std::vector<Bytes> seen;
  for (const char* id : {"ward-100", "ward-101", "ward-102"}) {
    const auto b = as_bytes(id);
    seen.emplace_back(b.begin(), b.end());
  }
  ASSERT_TRUE(this->store_->touch_devices(seen, 50'000));
  ASSERT_TRUE(this->store_->touch_devices(std::span(seen.data(), 1), 90'000));

  DeviceQuery q;
  q.limit = 5;
  auto first = this->store_->list_devices(q);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->total, 13u);
  ASSERT_EQ(first->devices.size(), 5u);
  EXPECT_EQ(first->devices[0].identity, "odd_%name");
  EXPECT_EQ(first->devices[1].identity, "ward-100");
  EXPECT_EQ(first->devices[1].last_seen_ms, 90'000);
  q.offset = 10;
  auto last = this->store_->list_devices(q);
  ASSERT_EQ(last->devices.size(), 3u);
  EXPECT_EQ(last->devices.back().identity, "ward-111");

  DeviceQuery search;
  search.search = "ward-11";
  EXPECT_EQ(this->store_->list_devices(search)->total, 2u);
  search.search = "_%";  // literal, not wildcards
  auto odd = this->store_->list_devices(search);
  ASSERT_EQ(odd->total, 1u);
  EXPECT_EQ(odd->devices[0].identity, "odd_%name");
  search.search = "' OR 1=1 --";
  EXPECT_EQ(this->store_->list_devices(search)->total, 0u);

  DeviceQuery inactive;
  inactive.not_seen_since_ms = 60'000;  // ward-101 and -102 last seen at 50 s, 9 never
  auto quiet = this->store_->list_devices(inactive);
  EXPECT_EQ(quiet->total, 12u);
  inactive.search = "ward-10";
  auto ids = this->store_->list_devices(inactive);
  ASSERT_EQ(ids->total, 9u);
  EXPECT_EQ(ids->devices[0].identity, "ward-101");

  DeviceQuery huge;
  huge.limit = 1'000'000;
  EXPECT_EQ(this->store_->list_devices(huge)->devices.size(), 13u);  // capped at kMaxDevicePage, all fit
}

}  // namespace
}  // namespace armored::store

namespace armored::store {
namespace {

// --- Identity-based exactly-once and the account of every reading ----------
// (docs/storage.md, "Stored ranges"; docs/reliability.md)

template <typename Backend>
class StoredRangesSuite : public StoreSuite<Backend> {};
TYPED_TEST_SUITE(StoredRangesSuite, Backends, BackendNames);

// The same (device, epoch, seq) with a different timestamp (what only a
// device reusing a nonce could produce) is still one reading: SQLite's
// time-ordered key cannot say so, the stored ranges do.
TYPED_TEST(StoredRangesSuite, UniqueByIdentityEvenWithAnotherTimestamp) {
  auto a = row("dev-1", 1, 7);
  ASSERT_TRUE(this->store_->store_batch(std::vector{a}));
  auto b = a;
  b.timestamp += 3600;
  auto r = this->store_->store_batch(std::vector{b});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inserted, 0u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(*this->store_->count_readings(), 1u);
  EXPECT_EQ(this->store_->find_reading("dev-1", 1, 7)->value().timestamp, a.timestamp) << "never overwritten";
}

// A reading far behind everything stored since is stored when missing and
// dropped when not, whatever the replay window of the cloud was.
TYPED_TEST(StoredRangesSuite, LateReadingIsStoredOnceHoweverLate) {
  auto batch = rows("dev-1", 2, 0, 5000);
  std::vector<ReadingRow> without;
  for (const auto& r : batch) {
    if (r.seq != 17 && r.seq != 1500) without.push_back(r);
  }
  ASSERT_TRUE(this->store_->store_batch(without));
  auto runs = this->store_->stored_runs("dev-1", 2);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].first, 0u);
  EXPECT_EQ((*runs)[0].last, 16u);
  EXPECT_EQ((*runs)[2].last, 4999u);
  auto late = this->store_->store_batch(std::vector{batch[17], batch[1500], batch[4000]});
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->inserted, 2u);
  EXPECT_EQ(late->duplicates, 1u);
  runs = this->store_->stored_runs("dev-1", 2);
  ASSERT_EQ(runs->size(), 1u) << "the holes closed: one run 0..4999";
  EXPECT_EQ((*runs)[0].last, 4999u);
  EXPECT_EQ(*this->store_->count_readings(), 5000u);
}

TYPED_TEST(StoredRangesSuite, GapsAreListedWithTotalsAndClosedWhenFilled) {
  auto a = rows("dev-a", 1, 0, 100);
  a.erase(a.begin() + 40, a.begin() + 43);  // 40..42 missing
  auto b = rows("dev-b", 4, 5, 10);          // 0..4 missing at the start of the epoch
  ASSERT_TRUE(this->store_->store_batch(a));
  ASSERT_TRUE(this->store_->store_batch(b));
  Store::GapTotals totals;
  auto gaps = this->store_->sequence_gaps(100, &totals);
  ASSERT_TRUE(gaps) << gaps.error().message;
  ASSERT_EQ(gaps->size(), 2u);
  EXPECT_EQ((*gaps)[0].device, "dev-a");
  EXPECT_EQ((*gaps)[0].first_missing, 40u);
  EXPECT_EQ((*gaps)[0].last_missing, 42u);
  EXPECT_EQ((*gaps)[0].after_ms, row("dev-a", 1, 39).received_at_ms);
  EXPECT_EQ((*gaps)[0].before_ms, row("dev-a", 1, 43).received_at_ms);
  EXPECT_EQ((*gaps)[1].device, "dev-b");
  EXPECT_EQ((*gaps)[1].first_missing, 0u);
  EXPECT_EQ((*gaps)[1].last_missing, 4u);
  EXPECT_EQ((*gaps)[1].after_ms, 0);
  EXPECT_EQ(totals.gaps, 2u);
  EXPECT_EQ(totals.missing, 8u);
  EXPECT_EQ(totals.series, 2u);
  // A limit lists fewer but the totals count all.
  auto one = this->store_->sequence_gaps(1, &totals);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(totals.gaps, 2u);
  // Filled: no gap left.
  auto fill = rows("dev-a", 1, 40, 3);
  auto fill_b = rows("dev-b", 4, 0, 5);
  fill.insert(fill.end(), fill_b.begin(), fill_b.end());
  ASSERT_TRUE(this->store_->store_batch(fill));
  gaps = this->store_->sequence_gaps(100, &totals);
  EXPECT_TRUE(gaps->empty());
  EXPECT_EQ(totals.missing, 0u);
}

// A command reply takes one of the device's sequence numbers: the gap
// account knows it and does not count it missing, before and after
// reopening; a hole beside it is still a gap.
TYPED_TEST(StoredRangesSuite, ARepliesSequenceNumberIsNotAGap) {
  auto batch = rows("dev-1", 1, 0, 20);
  batch.erase(batch.begin() + 12, batch.begin() + 14);  // 12 a reply, 13 lost
  batch.erase(batch.begin() + 5);                       // 5 a reply
  const std::vector<ReplyRow> replies{{"dev-1", 1, 5, 0, CommandStatus::kAcknowledged, "", 100},
                                      {"dev-1", 1, 12, 0, CommandStatus::kFailed, "device: x", 100},
                                      {"dev-1", 1, 25, 0, CommandStatus::kAcknowledged, "", 100}};
  ASSERT_TRUE(this->store_->store_batch(batch, {}, replies));
  for (int pass = 0; pass < 2; ++pass) {
    Store::GapTotals totals;
    auto gaps = this->store_->sequence_gaps(10, &totals);
    ASSERT_TRUE(gaps) << gaps.error().message;
    ASSERT_EQ(gaps->size(), 2u);
    EXPECT_EQ((*gaps)[0].first_missing, 13u);
    EXPECT_EQ((*gaps)[0].last_missing, 13u);
    EXPECT_EQ((*gaps)[1].first_missing, 20u) << "readings 20..24 never came before the reply at 25";
    EXPECT_EQ((*gaps)[1].last_missing, 24u);
    EXPECT_EQ(totals.missing, 6u);
    EXPECT_EQ(*this->store_->count_readings(), 17u) << "replies are not readings";
    this->reopen();
  }
}

// The runs are durable with the rows: after reopening, the same copies are
// duplicates and the same holes are gaps.
TYPED_TEST(StoredRangesSuite, RunsSurviveReopening) {
  auto batch = rows("dev-1", 1, 0, 50);
  batch.erase(batch.begin() + 10);
  ASSERT_TRUE(this->store_->store_batch(batch));
  this->reopen();
  auto again = this->store_->store_batch(batch);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inserted, 0u);
  EXPECT_EQ(again->duplicates, 49u);
  auto gaps = this->store_->sequence_gaps(10);
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ((*gaps)[0].first_missing, 10u);
}

// The writer's index keeps one series per device, its newest epoch, so it
// grows with the fleet and not with rotations. Late readings of the
// previous epoch (the hour of grace) are read from the table: stored once,
// copies dropped, before and after reopening (which loads the newest only).
TYPED_TEST(StoredRangesSuite, LateReadingsOfAnOlderEpochAreStoredOnceAfterANewerOne) {
  auto e1 = rows("dev-1", 1, 0, 20);
  e1.erase(e1.begin() + 7);
  ASSERT_TRUE(this->store_->store_batch(e1));
  ASSERT_TRUE(this->store_->store_batch(rows("dev-1", 2, 0, 10)));
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "same connection" : "reopened");
    auto late = rows("dev-1", 1, 5, 3);  // 5 and 6 stored, 7 missing
    auto r = this->store_->store_batch(late);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->inserted, pass == 0 ? 1u : 0u);
    EXPECT_EQ(r->duplicates, pass == 0 ? 2u : 3u);
    auto both = rows("dev-1", 2, 8, 4);  // 8, 9 stored; 10, 11 new the first time
    auto mixed = rows("dev-1", 1, 19, 2);
    both.insert(both.end(), mixed.begin(), mixed.end());
    r = this->store_->store_batch(both);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->inserted, pass == 0 ? 3u : 0u) << "epoch 2: 10, 11; epoch 1: 20";
    EXPECT_EQ(r->duplicates, pass == 0 ? 3u : 6u);
    this->reopen();
  }
  EXPECT_EQ(*this->store_->count_readings(), 21u + 12u);
  auto runs1 = this->store_->stored_runs("dev-1", 1);
  ASSERT_EQ(runs1->size(), 1u) << "0..20 with the hole filled";
  EXPECT_EQ((*runs1)[0].last, 20u);
  EXPECT_TRUE(this->store_->sequence_gaps(10)->empty());
}

// Only the runs a batch changed are written (store/stored_index.h): after
// readings of three series arriving shuffled, in small batches and with
// copies, what a reopened store reads back from the table is exactly the
// runs of what was stored, so every merge, extension and new run reached
// the table and nothing stale was left there.
TYPED_TEST(StoredRangesSuite, RunsWrittenIncrementallyMatchWhatIsStored) {
  std::vector<ReadingRow> all;
  for (std::string d : {"dev-a", "dev-b", "dev-c"}) {
    auto r = rows(d, 3, 0, 400);
    all.insert(all.end(), r.begin(), r.end());
  }
  std::mt19937_64 rng(7);
  std::shuffle(all.begin(), all.end(), rng);
  std::map<std::string, SeqRuns, std::less<>> truth;
  std::size_t at = 0;
  while (at < all.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 40, all.size() - at);
    std::vector<ReadingRow> batch(all.begin() + static_cast<std::ptrdiff_t>(at),
                                  all.begin() + static_cast<std::ptrdiff_t>(at + n));
    // Some left out for now (holes), some sent twice.
    std::erase_if(batch, [&](const ReadingRow& r) { return r.seq % 97 == 5 && at < all.size() / 2; });
    if (at > 0 && rng() % 3 == 0) batch.push_back(all[at - 1]);
    ASSERT_TRUE(this->store_->store_batch(batch));
    for (const auto& r : batch) {
      if (!truth[r.device].contains(r.seq)) truth[r.device].add(r.seq, r.received_at_ms);
    }
    at += n;
  }
  this->reopen();
  for (const auto& [device, runs] : truth) {
    auto stored = this->store_->stored_runs(device, 3);
    ASSERT_TRUE(stored) << stored.error().message;
    ASSERT_EQ(stored->size(), runs.runs().size()) << device;
    for (std::size_t i = 0; i < stored->size(); ++i) {
      EXPECT_EQ((*stored)[i].first, runs.runs()[i].first) << device;
      EXPECT_EQ((*stored)[i].last, runs.runs()[i].last) << device;
    }
  }
  std::size_t expected = 0;
  for (const auto& [device, runs] : truth) {
    for (const auto& r : runs.runs()) expected += r.last - r.first + 1;
  }
  EXPECT_EQ(*this->store_->count_readings(), expected);
}

// Three writers, each with its own connection, store overlapping shuffled
// batches of the same series at once (what ingest workers do when a
// redelivered batch reaches another worker). Every reading is stored
// once, inserted + duplicates account for every row sent, and the stored
// runs are exactly what the readings table holds.
TEST(SharedWriters, ConcurrentWritersStoreEachReadingOnceAndKeepRunsExact) {
  if (std::string why = PostgresBackend::unavailable(); !why.empty()) {
    if (test::in_ci()) GTEST_FAIL() << why;
    GTEST_SKIP() << why;
  }
  PostgresSharedBackend backend;
  std::vector<ReadingRow> all;
  for (std::string d : {"dev-a", "dev-b", "dev-c", "dev-d"}) {
    for (std::uint32_t epoch : {1u, 2u}) {
      auto r = rows(d, epoch, 0, 300);
      all.insert(all.end(), r.begin(), r.end());
    }
  }
  constexpr int kWriters = 3;
  std::vector<std::unique_ptr<Store>> stores;
  for (int w = 0; w < kWriters; ++w) {
    auto s = backend.open();
    ASSERT_TRUE(s) << s.error().message;
    stores.push_back(std::move(*s));
  }
  std::atomic<std::size_t> inserted{0}, duplicates{0}, sent{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Each writer sends every reading once, in its own order and batch sizes.
      std::mt19937_64 rng(100 + static_cast<unsigned>(w));
      auto mine = all;
      std::shuffle(mine.begin(), mine.end(), rng);
      std::size_t at = 0;
      while (at < mine.size()) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 60, mine.size() - at);
        std::span<const ReadingRow> batch(mine.data() + at, n);
        auto r = stores[static_cast<std::size_t>(w)]->store_batch(batch);
        if (!r) {
          ++failures;
          continue;  // retried whole, as the storage thread does
        }
        inserted += r->inserted;
        duplicates += r->duplicates;
        sent += n;
        at += n;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(inserted.load(), all.size());
  EXPECT_EQ(sent.load(), all.size() * kWriters);
  EXPECT_EQ(inserted.load() + duplicates.load(), sent.load());
  auto keys = stores[0]->reading_keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), all.size());
  for (std::string d : {"dev-a", "dev-b", "dev-c", "dev-d"}) {
    for (std::uint32_t epoch : {1u, 2u}) {
      auto runs = stores[1]->stored_runs(d, epoch);
      ASSERT_TRUE(runs) << runs.error().message;
      ASSERT_EQ(runs->size(), 1u) << d << " epoch " << epoch;
      EXPECT_EQ((*runs)[0].first, 0u);
      EXPECT_EQ((*runs)[0].last, 299u);
    }
  }
  Store::GapTotals totals;
  ASSERT_TRUE(stores[2]->sequence_gaps(10, &totals));
  EXPECT_EQ(totals.missing, 0u);
}

// A database written before stored_ranges: its runs are derived from the
// readings at open, so duplicates and gaps are right from the first batch.
TEST(StoredRangesUpgrade, RunsAreDerivedFromExistingReadings) {
  testing::TempDir dir;
  const auto path = dir / "old.db";
  {
    auto s = open_sqlite(path);
    ASSERT_TRUE(s);
    auto batch = rows("dev-1", 1, 0, 30);
    batch.erase(batch.begin() + 5);
    ASSERT_TRUE((*s)->store_batch(batch));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE stored_ranges", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite(path);
  ASSERT_TRUE(s) << s.error().message;
  auto runs = (*s)->stored_runs("dev-1", 1);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].last, 4u);
  EXPECT_EQ((*runs)[1].first, 6u);
  auto again = (*s)->store_batch(rows("dev-1", 1, 0, 30));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inserted, 1u);
  EXPECT_EQ(again->duplicates, 29u);
}

TEST(StoredIndex, RunsMergeFromEverySide) {
  SeqRuns r;
  for (std::uint64_t s : {5, 7, 9, 6, 8, 1, 3, 2, 4, 0, 100}) {
    ASSERT_FALSE(r.contains(s)) << s;
    r.add(s, static_cast<std::int64_t>(s));
    ASSERT_TRUE(r.contains(s)) << s;
  }
  ASSERT_EQ(r.runs().size(), 2u);
  EXPECT_EQ(r.runs()[0].first, 0u);
  EXPECT_EQ(r.runs()[0].last, 9u);
  EXPECT_EQ(r.runs()[0].first_at_ms, 0);
  EXPECT_EQ(r.runs()[0].last_at_ms, 9);
  EXPECT_FALSE(r.contains(10));
  EXPECT_FALSE(r.contains(99));
  EXPECT_TRUE(r.contains(100));
  EXPECT_FALSE(r.contains(101));
}

// What a writer rewrites: readings in order change one run (one UPDATE);
// a reading that joins two runs changes the first and removes the second.
TEST(StoredIndex, PlanNamesOnlyTheRunsItChanged) {
  StoredIndex index;
  index.set_complete(true);
  auto load = [](std::string_view, std::uint32_t) -> StoreResult<SeqRuns> { return SeqRuns{}; };
  auto first = rows("d", 1, 0, 10);
  first.erase(first.begin() + 5);  // 0..4 and 6..9
  auto p = index.plan(first, load);
  ASSERT_TRUE(p);
  const auto& s = p->series.begin()->second;
  EXPECT_EQ(s.changed_keys, (std::vector<std::uint64_t>{0, 6}));
  EXPECT_TRUE(s.removed_keys.empty());
  index.committed(std::move(*p));
  auto more = index.plan(rows("d", 1, 10, 20), load);
  EXPECT_EQ(more->series.begin()->second.changed_keys, (std::vector<std::uint64_t>{6})) << "one run extended";
  auto join = index.plan(rows("d", 1, 5, 1), load);
  EXPECT_EQ(join->series.begin()->second.changed_keys, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(join->series.begin()->second.removed_keys, (std::vector<std::uint64_t>{6})) << "merged into 0..";
}

// A commit that fails changes nothing: the next plan sees the same runs.
TEST(StoredIndex, OnlyACommittedPlanChangesTheCache) {
  StoredIndex index;
  index.set_complete(true);
  auto load = [](std::string_view, std::uint32_t) -> StoreResult<SeqRuns> { return SeqRuns{}; };
  auto batch = rows("d", 1, 0, 3);
  auto p = index.plan(batch, load);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->fresh.size(), 3u);
  // Not committed (the transaction failed): planned again, all are fresh.
  auto again = index.plan(batch, load);
  EXPECT_EQ(again->fresh.size(), 3u);
  index.committed(std::move(*again));
  auto third = index.plan(batch, load);
  EXPECT_EQ(third->fresh.size(), 0u);
  EXPECT_EQ(third->duplicates, 3u);
  EXPECT_EQ(index.cached_series(), 1u);
}

// A bounded cache starts over and reads series back through the loader.
TEST(StoredIndex, BoundedCacheReloadsThroughTheLoader) {
  StoredIndex index(/*max_cached_runs=*/2);
  index.set_complete(true);
  int loads = 0;
  std::map<std::string, SeqRuns, std::less<>> db;
  auto load = [&](std::string_view d, std::uint32_t) -> StoreResult<SeqRuns> {
    ++loads;
    auto it = db.find(d);
    return it == db.end() ? SeqRuns{} : it->second;
  };
  for (std::string d : {"a", "b", "c"}) {
    auto p = index.plan(rows(d, 1, 0, 1), load);
    for (auto& [k, s] : p->series) db[k.device] = s.runs;
    index.committed(std::move(*p));
  }
  EXPECT_EQ(index.cached_series(), 0u) << "over the bound: emptied";
  auto p = index.plan(rows("a", 1, 0, 1), load);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(p->duplicates, 1u) << "what the database holds still counts";
}

// One series per device: a newer epoch replaces the older one in the
// cache, an older one is read through the loader each time and never
// displaces the newer. Complete, a newer epoch than the cached one needs
// no read (nothing of it can be stored).
TEST(StoredIndex, KeepsOnlyEachDevicesNewestEpoch) {
  StoredIndex index;
  index.set_complete(true);
  std::map<std::pair<std::string, std::uint32_t>, SeqRuns> db;
  int loads = 0;
  auto load = [&](std::string_view d, std::uint32_t e) -> StoreResult<SeqRuns> {
    ++loads;
    auto it = db.find({std::string(d), e});
    return it == db.end() ? SeqRuns{} : it->second;
  };
  auto store = [&](const std::vector<ReadingRow>& batch) {
    auto p = index.plan(batch, load);
    EXPECT_TRUE(p);
    const std::size_t fresh = p->fresh.size();
    for (auto& [k, s] : p->series) db[{k.device, k.epoch}] = s.runs;
    index.committed(std::move(*p));
    return fresh;
  };
  EXPECT_EQ(store(rows("d", 1, 0, 10)), 10u);
  EXPECT_EQ(store(rows("d", 2, 0, 10)), 10u);
  EXPECT_EQ(loads, 0) << "complete: new series need no read";
  EXPECT_EQ(index.cached_series(), 1u);
  EXPECT_EQ(index.cached_epoch("d"), 2u);
  EXPECT_EQ(store(rows("d", 1, 8, 4)), 2u) << "8, 9 stored; 10, 11 new";
  EXPECT_EQ(loads, 1) << "the older epoch is read from the table";
  EXPECT_EQ(index.cached_epoch("d"), 2u) << "and does not displace the newer";
  EXPECT_EQ(store(rows("d", 1, 8, 4)), 0u);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(store(rows("d", 2, 5, 10)), 5u);
  EXPECT_EQ(loads, 2) << "the newest is served from the cache";
  EXPECT_EQ(index.cached_runs(), 1u);
  // Loading at open keeps the newest whatever the order.
  StoredIndex reopened;
  for (std::uint32_t e : {3u, 1u, 2u}) {
    SeqRuns r;
    r.append_loaded({0, e, 0, 0});
    reopened.put_loaded({"x", e}, std::move(r));
  }
  EXPECT_EQ(reopened.cached_series(), 1u);
  EXPECT_EQ(reopened.cached_epoch("x"), 3u);
  EXPECT_EQ(reopened.cached_runs(), 1u);
}

}  // namespace
}  // namespace armored::store

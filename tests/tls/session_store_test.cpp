// Client ticket store on disk: restart survival, age limits, corruption.
#include "tls/session_store.h"

#include <sys/stat.h>

#include <fstream>
#include <gtest/gtest.h>

#include "common/file_io.h"
#include "tls/test_fleet.h"

namespace armored::tls {
namespace {

using testing::find_event;
using testing::pump;

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sc = TlsContext::create(fleet.server_config(), clock);
    ASSERT_TRUE(sc) << sc.error().message;
    server_ctx = std::move(*sc);
  }
  // One client "process": a fresh context and store; returns the handshake.
  HandshakeComplete connect_once(SessionStore& store, Bytes early = {}) {
    auto cc = TlsContext::create(fleet.client_config(), clock);
    EXPECT_TRUE(cc);
    ClientOptions o{"localhost", store.load("localhost", 8883), std::move(early)};
    auto c = Connection::client(**cc, o).value();
    auto s = Connection::server(*server_ctx).value();
    auto ex = pump(*c, *s, clock.now(), true);
    if (auto* t = find_event<NewSessionTicket>(ex.client_events)) {
      EXPECT_TRUE(store.save("localhost", 8883, *t));
    }
    auto* hc = find_event<HandshakeComplete>(ex.server_events);
    EXPECT_NE(hc, nullptr);
    return hc ? *hc : HandshakeComplete{};
  }
  NewSessionTicket sample(std::uint32_t lifetime = 7200) {
    return NewSessionTicket{Bytes{1, 2, 3, 4, 5}, lifetime, 16384};
  }

  testing::Fleet fleet;
  ManualClock clock{SystemClock().now()};
  std::unique_ptr<TlsContext> server_ctx;
};

TEST_F(SessionStoreTest, RestartedClientResumesWithTicketFromDisk) {
  SessionStore first_run(fleet.dir / "tickets", clock);
  EXPECT_FALSE(connect_once(first_run).resumed);
  SessionStore second_run(fleet.dir / "tickets", clock);  // nothing shared but the directory
  auto hc = connect_once(second_run, Bytes{'e', '3'});
  EXPECT_TRUE(hc.resumed);
  EXPECT_TRUE(hc.early_data_accepted);
}

TEST_F(SessionStoreTest, TicketRefusedAfterMaxAge) {
  SessionStore store(fleet.dir / "tickets", clock);
  connect_once(store);
  clock.advance(std::chrono::hours(2) + std::chrono::seconds(1));
  EXPECT_FALSE(store.load("localhost", 8883));
  EXPECT_FALSE(connect_once(store).resumed) << "stale ticket not offered: full handshake";
}

TEST_F(SessionStoreTest, ConfigurableMaxAge) {
  SessionStore store(fleet.dir / "tickets", clock, std::chrono::minutes(10));
  ASSERT_TRUE(store.save("localhost", 8883, sample()));
  clock.advance(std::chrono::minutes(9));
  EXPECT_TRUE(store.load("localhost", 8883));
  clock.advance(std::chrono::minutes(2));
  EXPECT_FALSE(store.load("localhost", 8883));
}

TEST_F(SessionStoreTest, TicketLifetimeShorterThanMaxAgeWins) {
  SessionStore store(fleet.dir / "tickets", clock);
  ASSERT_TRUE(store.save("localhost", 8883, sample(60)));
  clock.advance(std::chrono::seconds(59));
  EXPECT_TRUE(store.load("localhost", 8883));
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(store.load("localhost", 8883));
}

TEST_F(SessionStoreTest, ClockSteppedFarBackIgnoresEntry) {
  SessionStore store(fleet.dir / "tickets", clock);
  ASSERT_TRUE(store.save("localhost", 8883, sample()));
  clock.set(clock.now() - std::chrono::hours(1));
  EXPECT_FALSE(store.load("localhost", 8883));
}

TEST_F(SessionStoreTest, FileIsWrittenWithMode0600PerServerAndPort) {
  SessionStore store(fleet.dir / "tickets", clock);
  ASSERT_TRUE(store.save("localhost", 8883, sample()));
  ASSERT_TRUE(store.save("localhost", 8884, NewSessionTicket{Bytes{9}, 7200, 0}));
  struct stat st {};
  ASSERT_EQ(::stat(store.path_for("localhost", 8883).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*store.load("localhost", 8883), (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(*store.load("localhost", 8884), (Bytes{9}));
  EXPECT_FALSE(store.load("127.0.0.1", 8883));
}

TEST_F(SessionStoreTest, CorruptEntriesAreIgnored) {
  SessionStore store(fleet.dir / "tickets", clock);
  ASSERT_TRUE(store.save("localhost", 8883, sample()));
  auto path = store.path_for("localhost", 8883);
  Bytes good = *read_file(path);
  auto rewrite = [&](const Bytes& b) { ASSERT_TRUE(write_file_atomic(path, b)); };
  for (std::size_t i = 0; i < good.size(); i += 7) {  // any flipped byte
    Bytes bad = good;
    bad[i] ^= 0x01;
    rewrite(bad);
    EXPECT_FALSE(store.load("localhost", 8883)) << "flipped byte " << i;
  }
  rewrite(Bytes(good.begin(), good.begin() + good.size() / 2));  // truncated
  EXPECT_FALSE(store.load("localhost", 8883));
  rewrite(Bytes{});  // empty
  EXPECT_FALSE(store.load("localhost", 8883));
  rewrite(Bytes(SessionStore::kMaxEntryBytes + 1, 0x41));  // oversized
  EXPECT_FALSE(store.load("localhost", 8883));
  Bytes trailing = good;
  trailing.push_back(0);
  rewrite(trailing);
  EXPECT_FALSE(store.load("localhost", 8883));
}

TEST_F(SessionStoreTest, CorruptTicketFileFallsBackToFullHandshake) {
  SessionStore store(fleet.dir / "tickets", clock);
  connect_once(store);
  auto path = store.path_for("localhost", 8883);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a ticket at all";
  auto hc = connect_once(store);
  EXPECT_FALSE(hc.resumed);
  EXPECT_TRUE(store.load("localhost", 8883)) << "replaced by the new ticket";
}

TEST_F(SessionStoreTest, EntryRenamedToAnotherServerIsIgnored) {
  SessionStore store(fleet.dir / "tickets", clock);
  ASSERT_TRUE(store.save("localhost", 8883, sample()));
  std::filesystem::rename(store.path_for("localhost", 8883), store.path_for("evil.example", 8883));
  EXPECT_FALSE(store.load("evil.example", 8883));
}

}  // namespace
}  // namespace armored::tls

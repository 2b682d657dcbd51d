// Ticket keys on disk: the file format's negative cases, the ring reloading
// its keys, and a restarted server resuming a ticket it issued before.
#include "tls/ticket_key_file.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "common/file_io.h"
#include "tls/test_fleet.h"

namespace armored::tls {
namespace {

using testing::find_event;
using testing::pump;

TicketKey key(std::uint8_t seed, std::int64_t created) {
  TicketKey k;
  k.name.fill(seed);
  k.aes_key.fill(static_cast<std::uint8_t>(seed + 1));
  k.hmac_key.fill(static_cast<std::uint8_t>(seed + 2));
  k.created = Clock::TimePoint{std::chrono::seconds{created}};
  return k;
}

// Re-seals a modified body with a valid checksum, so the check under test
// is the one that fires.
Bytes reseal(Bytes body) {
  std::uint8_t d[32];
  SHA256(body.data(), body.size(), d);
  body.insert(body.end(), d, d + 32);
  return body;
}

Bytes body_of(const Bytes& file) { return Bytes(file.begin(), file.end() - 32); }

std::string decode_error(const Bytes& file) {
  auto r = decode_ticket_keys(file);
  return r ? std::string("accepted") : r.error();
}

TEST(TicketKeyFile, RoundTripsKeysInOrder) {
  std::deque<TicketKey> keys{key(3, 1'700'000'300), key(2, 1'700'000'200), key(1, 1'700'000'100)};
  auto decoded = decode_ticket_keys(encode_ticket_keys(keys));
  ASSERT_TRUE(decoded) << decoded.error();
  ASSERT_EQ(decoded->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*decoded)[i].name, keys[i].name);
    EXPECT_EQ((*decoded)[i].aes_key, keys[i].aes_key);
    EXPECT_EQ((*decoded)[i].hmac_key, keys[i].hmac_key);
    EXPECT_EQ((*decoded)[i].created, keys[i].created);
  }
}

TEST(TicketKeyFile, RejectsMalformedFilesNamingTheFault) {
  Bytes good = encode_ticket_keys({key(1, 1'700'000'000), key(2, 1'700'000'100)});
  EXPECT_NE(decode_error(Bytes(good.begin(), good.begin() + 20)).find("truncated"), std::string::npos);
  Bytes flipped = good;
  flipped[12] ^= 1;
  EXPECT_NE(decode_error(flipped).find("checksum"), std::string::npos);
  Bytes magic = body_of(good);
  magic[0] = 'X';
  EXPECT_NE(decode_error(reseal(magic)).find("not a ticket key file"), std::string::npos);
  Bytes zero = body_of(good);
  zero[8] = 0;
  zero[9] = 0;
  EXPECT_NE(decode_error(reseal(zero)).find("key count 0"), std::string::npos);
  Bytes many = body_of(good);
  many[8] = 0;
  many[9] = static_cast<std::uint8_t>(kMaxTicketKeys + 1);
  EXPECT_NE(decode_error(reseal(many)).find("outside"), std::string::npos);
  Bytes longer = body_of(good);
  longer.push_back(0);
  EXPECT_NE(decode_error(reseal(longer)).find("length"), std::string::npos);
  Bytes far = body_of(encode_ticket_keys({key(1, 1'700'000'000)}));
  far[far.size() - 8] = 0x01;  // creation time near 2^56 s: would overflow the clock
  EXPECT_NE(decode_error(reseal(far)).find("out of range"), std::string::npos);
  Bytes dup = encode_ticket_keys({key(1, 1'700'000'000), key(1, 1'700'000'100)});
  EXPECT_NE(decode_error(dup).find("duplicate"), std::string::npos);
}

TEST(TicketKeyRingFile, KeysSurviveARestartAndTheFileIsPrivate) {
  testing::TempDir dir;
  auto file = dir / "ticket.keys";
  ManualClock clock;
  TicketKey k;
  {
    TicketKeyRing ring(std::chrono::seconds(100), std::chrono::seconds(300), file, clock.now());
    k = ring.encryption_key(clock.now());
  }
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  clock.advance(std::chrono::seconds(10));
  TicketKeyRing again(std::chrono::seconds(100), std::chrono::seconds(300), file, clock.now());
  auto found = again.decryption_key(k.name, clock.now());
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->current);
  EXPECT_EQ(found->key.aes_key, k.aes_key);
  EXPECT_EQ(again.encryption_key(clock.now()).name, k.name) << "no needless rotation after a restart";
  clock.advance(std::chrono::seconds(400));  // past rotation + lifetime
  TicketKeyRing later(std::chrono::seconds(100), std::chrono::seconds(300), file, clock.now());
  EXPECT_FALSE(later.decryption_key(k.name, clock.now())) << "retired keys are not loaded";
}

// What a scaled cloud's fronts share (docs/scale-out.md, "Resumption"):
// one rotates, the other adopts that key instead of making its own, and a
// ticket name only the other has seen is found by reading the source again.
struct MemorySource final : TicketKeySource {
  std::deque<TicketKey> keys;
  int loads = 0, rotations = 0;
  bool down = false;
  std::optional<std::deque<TicketKey>> load() override {
    ++loads;
    if (down) return std::nullopt;
    return keys;
  }
  std::optional<std::deque<TicketKey>> rotate(const TicketKey& candidate, Clock::TimePoint due_before,
                                              Clock::TimePoint retired_before) override {
    if (down) return std::nullopt;
    ++rotations;
    std::erase_if(keys, [&](const TicketKey& k) { return k.created < retired_before; });
    const bool fresh = std::any_of(keys.begin(), keys.end(), [&](const TicketKey& k) { return k.created >= due_before; });
    if (!fresh) keys.push_front(candidate);
    return keys;
  }
};

TEST(TicketKeyRingShared, TwoServersRotateOnceAndOpenEachOthersTickets) {
  ManualClock clock;
  auto source = std::make_shared<MemorySource>();
  TicketKeyRing a(std::chrono::seconds(100), std::chrono::seconds(300), source, clock.now());
  TicketKeyRing b(std::chrono::seconds(100), std::chrono::seconds(300), source, clock.now());
  const TicketKey ka = a.encryption_key(clock.now());
  EXPECT_EQ(source->keys.size(), 1u);
  // b has not looked since: a ticket sealed by a is found by reading again.
  auto found = b.decryption_key(ka.name, clock.now() + std::chrono::seconds(2));
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->current);
  // b's first encryption: a's key is not due, so b uses it.
  EXPECT_EQ(b.encryption_key(clock.now()).name, ka.name);
  EXPECT_EQ(source->keys.size(), 1u);
  // Due: whichever rotates first makes the key, the other adopts it.
  clock.advance(std::chrono::seconds(101));
  const TicketKey kb = b.encryption_key(clock.now());
  EXPECT_NE(kb.name, ka.name);
  EXPECT_EQ(a.encryption_key(clock.now()).name, kb.name);
  EXPECT_EQ(source->keys.size(), 2u);
  EXPECT_TRUE(a.decryption_key(ka.name, clock.now())) << "the old key still opens its tickets";
  // A made-up name reads the source at most once a second.
  const int loads = source->loads;
  std::array<std::uint8_t, 16> unknown{};
  unknown.fill(0x5a);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(a.decryption_key(unknown, clock.now()));
  EXPECT_LE(source->loads - loads, 1);
  // The source down: the ring rotates on its own rather than stop issuing tickets.
  source->down = true;
  clock.advance(std::chrono::seconds(101));
  const TicketKey alone = a.encryption_key(clock.now());
  EXPECT_NE(alone.name, kb.name);
  EXPECT_TRUE(a.decryption_key(alone.name, clock.now()));
}

TEST(TicketKeyRingFile, CorruptOrFutureKeysAreIgnoredNotFatal) {
  testing::TempDir dir;
  auto file = dir / "ticket.keys";
  ManualClock clock;
  ASSERT_TRUE(write_file_atomic(file, as_bytes("not a key file at all, but long enough to parse"), 0600));
  TicketKeyRing ring(std::chrono::seconds(100), std::chrono::seconds(300), file, clock.now());
  EXPECT_EQ(ring.size(), 0u);
  TicketKey fresh = ring.encryption_key(clock.now());
  auto saved = decode_ticket_keys(read_file(file).value());
  ASSERT_TRUE(saved) << "the corrupt file is replaced by a valid one";
  EXPECT_EQ(saved->front().name, fresh.name);

  auto future = key(9, unix_seconds(clock.now()) + 3600);
  ASSERT_TRUE(write_file_atomic(file, encode_ticket_keys({future}), 0600));
  TicketKeyRing skewed(std::chrono::seconds(100), std::chrono::seconds(300), file, clock.now());
  EXPECT_FALSE(skewed.decryption_key(future.name, clock.now()));
}

TEST(TicketKeyRingFile, RestartedServerResumesTicketsItIssuedBefore) {
  testing::Fleet fleet;
  ManualClock clock{SystemClock().now()};
  auto sconf = fleet.server_config();
  sconf.ticket_key_file = fleet.dir / "ticket.keys";
  auto cc = TlsContext::create(fleet.client_config(), clock).value();
  Bytes ticket;
  {
    auto sc = TlsContext::create(sconf, clock).value();
    auto c = Connection::client(*cc, {"localhost", std::nullopt, {}}).value();
    auto s = Connection::server(*sc).value();
    auto ex = pump(*c, *s, clock.now(), true);
    auto* t = find_event<NewSessionTicket>(ex.client_events);
    ASSERT_NE(t, nullptr);
    ticket = t->der;
  }
  for (bool with_file : {true, false}) {
    auto conf = with_file ? sconf : fleet.server_config();
    auto sc = TlsContext::create(conf, clock).value();  // the restarted server
    auto c = Connection::client(*cc, {"localhost", ticket, {}}).value();
    auto s = Connection::server(*sc).value();
    auto ex = pump(*c, *s, clock.now(), true);
    auto* hc = find_event<HandshakeComplete>(ex.server_events);
    ASSERT_NE(hc, nullptr);
    EXPECT_EQ(hc->resumed, with_file) << (with_file ? "keys from the file" : "memory-only keys are gone");
    EXPECT_EQ(hc->peer.id, "gw-1");
  }
}

TEST(TicketKeyRingFile, ConfigRefusesKeyFileWhereItCannotWork) {
  testing::Fleet fleet;
  auto client = fleet.client_config();
  client.ticket_key_file = fleet.dir / "k";
  EXPECT_FALSE(validate(client));
  auto missing_dir = fleet.server_config();
  missing_dir.ticket_key_file = fleet.dir / "no-such-dir" / "k";
  EXPECT_FALSE(validate(missing_dir));
  auto too_many = fleet.server_config();
  too_many.ticket_key_file = fleet.dir / "k";
  too_many.ticket_key_rotation = std::chrono::seconds(60);
  too_many.ticket_lifetime = std::chrono::hours(24);
  EXPECT_FALSE(validate(too_many));
  auto fine = fleet.server_config();
  fine.ticket_key_file = fleet.dir / "k";
  EXPECT_TRUE(validate(fine));
}

}  // namespace
}  // namespace armored::tls

// Connection admission: per-address and global limits, eviction of pending
// handshakes at the global limit, per-identity counts, and the handshake
// deadline that shrinks as the listener fills.

#include <gtest/gtest.h>

#include "cloud/internal/admission.h"

namespace armored::cloud {
namespace {
using namespace std::chrono_literals;

AdmissionLimits small() {
  AdmissionLimits l;
  l.max_connections = 10;
  l.max_per_address = 3;
  l.max_per_identity = 2;
  l.handshake_timeout = 10000ms;
  l.handshake_timeout_min = 1000ms;
  return l;
}

TEST(Admission, OneAddressGetsNoMoreThanItsShare) {
  Admission a(small());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.admit("127.0.0.2", 0), Admit::kAccept);
  EXPECT_EQ(a.admit("127.0.0.2", 3), Admit::kRefuseAddress);
  EXPECT_EQ(a.admit("127.0.0.1", 3), Admit::kAccept);  // another address still gets in
  a.release("127.0.0.2");
  EXPECT_EQ(a.admit("127.0.0.2", 3), Admit::kAccept);
  EXPECT_EQ(a.open(), 4u);
}

TEST(Admission, AtTheGlobalLimitAPendingHandshakeMakesRoomOrTheNewOneIsRefused) {
  Admission a(small());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.admit("10.0.0." + std::to_string(i), 0), Admit::kAccept);
  EXPECT_EQ(a.admit("10.0.1.1", 0), Admit::kRefuseGlobal);      // all authenticated: nothing to evict
  EXPECT_EQ(a.admit("10.0.1.1", 4), Admit::kEvictThenAccept);  // the oldest pending one goes
  a.release("10.0.0.0");                                       // ... and releases its slot
  EXPECT_EQ(a.open(), 10u);
}

TEST(Admission, CountsEachIdentitysConnections) {
  Admission a(small());
  EXPECT_EQ(a.identity_opened("gateway:gw1"), 1u);
  EXPECT_EQ(a.identity_opened("gateway:gw1"), 2u);
  EXPECT_EQ(a.identity_opened("gateway:gw1"), 3u);  // above max_per_identity: caller closes the oldest
  EXPECT_EQ(a.identity_opened("gateway:gw2"), 1u);
  a.identity_closed("gateway:gw1");
  EXPECT_EQ(a.identity_opened("gateway:gw1"), 3u);
}

TEST(Admission, HandshakeDeadlineShrinksUnderPressure) {
  Admission a(small());
  EXPECT_EQ(a.handshake_timeout(), 10000ms);
  for (int i = 0; i < 5; ++i) (void)a.admit("10.0.0." + std::to_string(i), 0);
  EXPECT_EQ(a.handshake_timeout(), 10000ms);  // half full
  for (int i = 5; i < 8; ++i) (void)a.admit("10.0.0." + std::to_string(i), 0);
  EXPECT_LT(a.handshake_timeout(), 10000ms);
  EXPECT_GT(a.handshake_timeout(), 1000ms);
  for (int i = 8; i < 10; ++i) (void)a.admit("10.0.0." + std::to_string(i), 0);
  EXPECT_EQ(a.handshake_timeout(), 1000ms);  // full
}

}  // namespace
}  // namespace armored::cloud

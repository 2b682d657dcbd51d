// The audit-trail row for a completed handshake: what `audit fleet` parses
// (peer = identity, serial=, from=) for each kind of handshake.

#include <gtest/gtest.h>

#include "cloud/connection_event.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

tls::HandshakeComplete handshake(bool resumed, bool early) {
  tls::HandshakeComplete hc;
  hc.resumed = resumed;
  hc.early_data_accepted = early;
  hc.cipher = "TLS_AES_128_GCM_SHA256";
  hc.version = "TLSv1.3";
  hc.peer = {tls::PeerIdentity::Kind::kGateway, "gw-1", "urn:armored:gateway:gw-1"};
  return hc;
}

TEST(ConnectionEvent, NamesTheIssuedSerialAndTheKindOfHandshake) {
  testing::TempDir dir;
  const std::string pki = (dir / "pki").string();
  ASSERT_EQ(testing::run({testing::armored_binary().string(), "pki", "init", "--dir", pki}).exit_code, 0);
  auto issued = testing::run({testing::armored_binary().string(), "--json", "pki", "issue", "gateway", "--id", "gw-1",
                              "--dir", pki});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  auto events = ConnectionEvents::load(pki, SystemClock().now());
  EXPECT_EQ(events.known(), 1u);

  auto full = events.make(1234, handshake(false, false), "127.0.0.1:5000");
  EXPECT_EQ(full.kind, store::EventKind::kConnected);
  EXPECT_EQ(full.at_ms, 1234);
  EXPECT_EQ(full.peer, "gw-1");
  EXPECT_EQ(full.reason, "full handshake");
  auto serial_at = full.detail.find("serial=");
  ASSERT_EQ(serial_at, 0u) << full.detail;
  std::string serial = full.detail.substr(7, full.detail.find(' ') - 7);
  EXPECT_NE(issued.out.find(serial), std::string::npos) << serial << " not in " << issued.out;
  EXPECT_NE(full.detail.find(" uri=urn:armored:gateway:gw-1 from=127.0.0.1:5000 TLSv1.3 TLS_AES_128_GCM_SHA256"),
            std::string::npos)
      << full.detail;
  EXPECT_EQ(events.make(1, handshake(true, false), "a").reason, "resumed");
  EXPECT_EQ(events.make(1, handshake(true, true), "a").reason, "0-RTT");
}

TEST(ConnectionEvent, WithoutAPkiIndexTheSerialIsUnknown) {
  testing::TempDir dir;
  auto events = ConnectionEvents::load(dir.path(), SystemClock().now());
  EXPECT_EQ(events.known(), 0u);
  EXPECT_EQ(events.make(1, handshake(false, false), "x").detail.rfind("serial=unknown ", 0), 0u);
  auto none = ConnectionEvents::load({}, SystemClock().now());
  EXPECT_EQ(none.known(), 0u);
}

}  // namespace
}  // namespace armored::cloud

// The audit-trail row for a completed handshake: what `audit fleet` parses
// (peer = identity, serial=, from=) for each kind of handshake.

#include <gtest/gtest.h>

#include "cloud/internal/connection_event.h"

namespace armored::cloud {
namespace {

tls::HandshakeComplete handshake(bool resumed, bool early, std::string serial = "0A1B2C") {
  tls::HandshakeComplete hc;
  hc.resumed = resumed;
  hc.early_data_accepted = early;
  hc.cipher = "TLS_AES_128_GCM_SHA256";
  hc.version = "TLSv1.3";
  hc.peer = {tls::PeerIdentity::Kind::kGateway, "gw-1", "urn:armored:gateway:gw-1", std::move(serial)};
  return hc;
}

TEST(ConnectionEvent, NamesThePresentedSerialAndTheKindOfHandshake) {
  auto full = connected_event(1234, handshake(false, false), "127.0.0.1:5000");
  EXPECT_EQ(full.kind, store::EventKind::kConnected);
  EXPECT_EQ(full.at_ms, 1234);
  EXPECT_EQ(full.peer, "gw-1");
  EXPECT_EQ(full.reason, "full handshake");
  EXPECT_EQ(full.detail, "serial=0A1B2C uri=urn:armored:gateway:gw-1 from=127.0.0.1:5000 TLSv1.3 TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(connected_event(1, handshake(true, false), "a").reason, "resumed");
  EXPECT_EQ(connected_event(1, handshake(true, true), "a").reason, "0-RTT");
}

TEST(ConnectionEvent, ASerialTheTlsLayerCouldNotReadIsUnknown) {
  EXPECT_EQ(connected_event(1, handshake(false, false, ""), "x").detail.rfind("serial=unknown ", 0), 0u);
}

}  // namespace
}  // namespace armored::cloud

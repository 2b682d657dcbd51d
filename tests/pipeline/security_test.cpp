// Security tests with real peers: a malicious gateway (mosquitto_pub holding
// a genuine gateway certificate) that alters, replays or misroutes genuine
// envelopes sealed by `armored fleet`; a client without a certificate; plain
// MQTT on the TLS port; a config asking for port 1883.

#include <filesystem>
#include <thread>

#include "peer_fixture.h"

namespace armored::pipeline_test {
namespace {
class SecurityTest : public PeerTest {};
using namespace std::chrono_literals;
using armored::testing::have_program;
using armored::testing::run;
using armored::testing::slurp;

TEST_F(SecurityTest, MaliciousGatewayIsRejectedAndAudited) {
  if (!have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto_pub not installed";
  make_pki(3, {"gw1", "gw2"});
  auto got = capture(3);
  ASSERT_EQ(got.size(), 3u);
  auto it = got.begin();
  const Captured& a = (it++)->second;
  const Captured& b = (it++)->second;
  const Captured& c = it->second;
  auto cloud = start_cloud();

  // (a) One byte of a reading altered (in the ciphertext): the announcement
  // goes through, the reading fails authentication and nothing of it is stored.
  Bytes altered = a.uplinks[0];
  altered[altered.size() / 2] ^= 0x01;
  auto r = publish("gateway", "gw1", "armored/v1/gw1/up", batch_of({a.announcement, altered}), "altered");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(wait_events("kind = 'rejected_envelope' AND reason = 'authentication_failed' AND peer = 'gw1'", 1), 1)
      << sql("SELECT kind, reason, peer, detail FROM security_events");
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);

  // (b) A genuine batch is stored; the same batch replayed is refused by the
  // E3 replay window and stores nothing more.
  Bytes genuine = batch_of({b.announcement, b.uplinks[0], b.uplinks[1]});
  r = publish("gateway", "gw1", "armored/v1/gw1/up", genuine, "genuine");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(wait_for_stored(2, 10s));
  r = publish("gateway", "gw1", "armored/v1/gw1/up", genuine, "replay");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(wait_events("kind = 'rejected_envelope' AND reason = 'replayed' AND peer = 'gw1'", 2), 2)
      << sql("SELECT kind, reason, peer, detail FROM security_events");
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 2);

  // (c) gw1 publishing under gw2's topic: denied, connection closed, nothing stored.
  r = publish("gateway", "gw1", "armored/v1/gw2/up", batch_of({c.announcement, c.uplinks[0]}), "misrouted");
  EXPECT_EQ(wait_events("kind = 'acl_denied' AND peer = 'gw1' AND detail LIKE '%armored/v1/gw2/up%'", 1), 1)
      << sql("SELECT kind, reason, peer, detail FROM security_events");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 2);
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device) FROM readings"), 1);
  stop_cloud(cloud);
}

TEST_F(SecurityTest, ClientWithoutCertificateIsRefusedAndAudited) {
  if (!have_program("openssl")) GTEST_SKIP() << "openssl not installed";
  make_pki(1);
  auto cloud = start_cloud();
  auto r = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3",
                "-CAfile", (dir() / "pki" / "root-ca.crt").string(), "-servername", "localhost"},
               20s, "");
  // TLS 1.3 clients learn of the refusal only after their Finished: the
  // server's alert ends the connection without any application data.
  EXPECT_EQ(wait_events("kind = 'failed_handshake'", 1), 1)
      << r.out << r.err << sql("SELECT kind, reason, peer, detail FROM security_events");
  auto h = stop_cloud(cloud);
  EXPECT_GE(h.failed, 1);
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);
}

TEST_F(SecurityTest, NonTelemetryInEarlyDataIsRefused) {
  if (!have_program("openssl")) GTEST_SKIP() << "openssl not installed";
  make_pki(1);
  auto cloud = start_cloud();
  const auto pki = dir() / "pki";
  const std::vector<std::string> tls = {"-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3",
                                        "-CAfile", (pki / "root-ca.crt").string(), "-cert",
                                        (pki / "gateway" / "gw1.crt").string(), "-cert_chain",
                                        (pki / "issuing-ca.crt").string(), "-key",
                                        (pki / "gateway" / "gw1.key").string(), "-ign_eof"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"openssl", "s_client"};
    a.insert(a.end(), tls.begin(), tls.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  // A first connection leaves a resumable session with the cloud's ticket.
  const auto sess = (dir() / "sess.pem").string();
  run(with({"-sess_out", sess}), 4s);
  ASSERT_TRUE(std::filesystem::exists(sess));
  // The second sends CONNECT + SUBSCRIBE as 0-RTT early data: the cloud
  // refuses, records it under the gateway's verified identity and closes.
  const std::string connect("\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01z", 15);
  const std::string subscribe("\x82\x18\x00\x01\x00\x13" "armored/v1/gw1/down\x01", 26);
  const auto early = (dir() / "early.bin").string();
  const std::string bytes = connect + subscribe;
  write_bytes(early, ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  auto r = run(with({"-sess_in", sess, "-early_data", early}), 4s);
  EXPECT_NE(r.out.find("Early data was accepted"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(wait_events("kind = 'early_data_refused' AND peer = 'gw1'", 1), 1)
      << sql("SELECT kind, reason, peer, detail FROM security_events");
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.zero_rtt, 1);
}

TEST_F(SecurityTest, PlaintextMqttGetsNoConnack) {
  if (!have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto_pub not installed";
  make_pki(1);
  auto cloud = start_cloud();
  // A plain MQTT client on the TLS port: the server never sends CONNACK.
  auto r = run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(cloud_port_), "-q", "1", "-t",
                "armored/v1/gw1/up", "-m", "x", "-i", "plain"},
               20s);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);
  EXPECT_GE(wait_events("kind = 'failed_handshake'", 1), 1) << sql("SELECT kind, reason, detail FROM security_events");
  stop_cloud(cloud);
}

TEST_F(SecurityTest, Port1883RefusesToStart) {
  make_pki(1);
  cloud_port_ = 1883;
  write_cloud_config();
  auto r = run(armored({"cloud", "--config", (dir() / "cloud.toml").string()}), 20s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  const auto& err = r.err;
  EXPECT_NE(err.find("1883"), std::string::npos) << err;
  EXPECT_NE(err.find("TLS"), std::string::npos) << err;
}

}  // namespace
}  // namespace armored::pipeline_test

// Interop: clients we did not write publish sealed envelopes to our cloud.
// A device that talks MQTT directly is a gateway of itself: with its own
// certificate it may publish to armored/v1/<device-id>/up.

#include <filesystem>

#include "peer_fixture.h"

namespace armored::pipeline_test {
namespace {
class InteropTest : public PeerTest {};

TEST_F(InteropTest, MosquittoPubWithDeviceCertificateIsStored) {
  if (!have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto_pub not installed";
  make_pki(1);
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const auto& [kid, c] = *got.begin();
  const std::string id = device_id_for_kid(kid);
  ASSERT_FALSE(id.empty());
  auto cloud = start_cloud();
  const std::string topic = "armored/v1/" + id + "/up";
  // The announcement first (the cloud learns the epoch), then a reading, each
  // a single E3 message as the payload.
  auto r = publish("device", id, topic, c.announcement, "announce");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = publish("device", id, topic, c.uplinks[0], "reading");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(wait_for_stored(1, 10s));
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings WHERE device = '" + id + "'"), 1);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.full, 2);
}

TEST_F(InteropTest, PahoWithReferenceTlsContextIsStored) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  auto probe = run({"/usr/bin/python3", "-c", "import paho.mqtt.client"}, 20s);
  if (probe.exit_code != 0) GTEST_SKIP() << "python3-paho-mqtt not installed";
  make_pki(1);
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const auto& [kid, c] = *got.begin();
  const std::string id = device_id_for_kid(kid);
  auto cloud = start_cloud();
  // One batch: the announcement and two readings.
  auto file = (dir() / "paho.bin").string();
  write_bytes(file, batch_of({c.announcement, c.uplinks[0], c.uplinks[1]}));
  auto r = run({"/usr/bin/python3", armored::testing::source_path("tests/pipeline/paho_publish.py").string(),
                "localhost", std::to_string(cloud_port_), (dir() / "pki" / "root-ca.crt").string(),
                chain_for("device", id), (dir() / "pki" / "device" / (id + ".key")).string(),
                "armored/v1/" + id + "/up", file},
               40s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(wait_for_stored(2, 10s));
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings WHERE device = '" + id + "'"), 2);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::pipeline_test

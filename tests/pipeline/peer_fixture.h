#pragma once
// Fixture for tests that play a peer themselves: genuine envelopes sealed by
// `armored fleet` and caught by a stand-in gateway, published to the cloud by
// a real MQTT client (mosquitto_pub) holding a gateway or device certificate.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/hex.h"
#include "e3/batch.h"
#include "envelope_capture.h"
#include "pipeline_fixture.h"

namespace armored::pipeline_test {

using namespace std::chrono_literals;
using armored::testing::have_program;
using armored::testing::run;
using armored::testing::slurp;

class PeerTest : public PipelineTest {
 protected:
  // Genuine envelopes of `devices` wearables, sealed by the fleet and caught
  // by a stand-in gateway.
  std::map<std::string, Captured> capture(int devices) {
    EnvelopeCapture cap;
    auto fleet = start_fleet(devices, 60, 3, cap.port(), "capture");
    auto f = finish_fleet(*fleet, "capture");
    EXPECT_EQ(f.exit_code, 0) << slurp(dir() / "capture.err");
    auto got = cap.by_device();
    EXPECT_EQ(got.size(), static_cast<std::size_t>(devices));
    for (const auto& [kid, c] : got) {
      EXPECT_FALSE(c.announcement.empty()) << kid;
      EXPECT_GE(c.uplinks.size(), 2u) << kid;
    }
    return got;
  }

  // The certificate followed by the issuing CA, as `armored pki` writes it
  // for standard clients (<id>.fullchain.pem).
  std::string chain_for(const std::string& role, const std::string& id) {
    return (dir() / "pki" / role / (id + ".fullchain.pem")).string();
  }

  // Publishes `payload` with QoS 1 as `id` (a real TLS 1.3 MQTT client).
  armored::testing::RunResult publish(const std::string& role, const std::string& id, const std::string& topic,
                                      ByteSpan payload, const std::string& name) {
    auto file = (dir() / (name + ".bin")).string();
    write_bytes(file, payload);
    return run({"mosquitto_pub", "--cafile", (dir() / "pki" / "root-ca.crt").string(), "--cert",
                chain_for(role, id), "--key", (dir() / "pki" / role / (id + ".key")).string(), "-h", "localhost",
                "-p", std::to_string(cloud_port_), "--tls-version", "tlsv1.3", "-q", "1", "-i", name, "-t", topic,
                "-f", file},
               30s);
  }

  // Waits until the audit trail has `n` rows matching `where`.
  std::int64_t wait_events(const std::string& where, std::int64_t n) {
    std::int64_t got = 0;
    for (int i = 0; i < 50; ++i) {
      got = sql_int("SELECT count(*) FROM security_events WHERE " + where);
      if (got >= n) break;
      std::this_thread::sleep_for(100ms);
    }
    return got;
  }
  // The enrolled device id of a key ID (hex), from the E3 registry.
  std::string device_id_for_kid(const std::string& kid_hex) {
    auto j = nlohmann::json::parse(slurp(dir() / "e3" / "registry.json"), nullptr, false);
    if (j.is_discarded()) return "";
    for (const auto& d : j["devices"]) {
      if (d.value("kid", "") == kid_hex) return d.value("id", "");
    }
    return "";
  }
};

inline Bytes batch_of(const std::vector<Bytes>& messages) {
  std::vector<ByteSpan> spans(messages.begin(), messages.end());
  auto b = e3::encode_batch(spans);
  EXPECT_TRUE(b.has_value());
  return b ? *b : Bytes{};
}

}  // namespace armored::pipeline_test

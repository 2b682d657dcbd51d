// The fuzz seed corpora are packets captured from our own encoders. This test
// keeps them in sync: it fails if a seed differs from what the encoders
// produce now. ARMORED_WRITE_CORPUS=1 rewrites them.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_util.h"

namespace armored::mqtt {
namespace {

using test::encode_bytes;
namespace fs = std::filesystem;

// Seeds start with the chunk selector byte (see fuzz/mqtt_fuzz_input.h).
Bytes seed(std::uint8_t chunk, std::initializer_list<Packet> packets) {
  Bytes out{chunk};
  for (const auto& p : packets) {
    Bytes b = encode_bytes(p);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

Connect gateway_connect() {
  Connect c;
  c.client_id = "gw-1";
  c.keep_alive_s = 30;
  c.will = Will{"armored/v1/gw-1/status", as_bytes("offline"), QoS::kAtLeastOnce, true};
  c.username = "gw-1";
  c.password = as_bytes("secret-token");
  return c;
}

const std::string& payload96() {
  static const std::string p = [] {
    std::string s(96, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
    return s;
  }();
  return p;
}

std::vector<std::pair<std::string, Bytes>> decoder_seeds() {
  const Publish up{"armored/v1/gw-1/up", as_bytes(payload96()), QoS::kAtLeastOnce, false, false, 1};
  return {
      {"connect", seed(0, {gateway_connect()})},
      {"connack", seed(0, {ConnAck{false, ConnectReturnCode::kAccepted}})},
      {"publish_qos0", seed(0, {Publish{"armored/v1/gw-1/up", as_bytes(payload96()),
                                        QoS::kAtMostOnce, false, false, 0}})},
      {"publish_qos1", seed(0, {up})},
      {"puback", seed(0, {PubAck{1}})},
      {"subscribe", seed(0, {Subscribe{2,
                                       {{"armored/v1/gw-1/down", QoS::kAtLeastOnce},
                                        {"a/+/#", QoS::kAtMostOnce}}}})},
      {"suback", seed(0, {SubAck{2, {SubAckCode::kGrantedQos1, SubAckCode::kFailure}}})},
      {"unsubscribe", seed(0, {Unsubscribe{3, {"a/+/#"}}})},
      {"unsuback", seed(0, {UnsubAck{3}})},
      {"stream_split_7", seed(7, {gateway_connect(), up, PingReq{}, PingResp{}, Disconnect{}})},
  };
}

std::vector<std::pair<std::string, Bytes>> session_seeds() {
  const Publish up{"armored/v1/gw-1/up", as_bytes(payload96()), QoS::kAtLeastOnce, false, false, 1};
  const Publish up2{"armored/v1/gw-1/up", as_bytes("r2"), QoS::kAtLeastOnce, false, false, 2};
  return {
      {"connect_publish_disconnect", seed(0, {gateway_connect(), up, up2, Disconnect{}})},
      {"subscribe_ping",
       seed(0, {gateway_connect(), Subscribe{5, {{"armored/v1/gw-1/down", QoS::kAtLeastOnce}}},
                Unsubscribe{6, {"armored/v1/gw-1/down"}}, PingReq{}})},
      {"split_every_5", seed(5, {gateway_connect(), up, PubAck{1}, PingReq{}})},
  };
}

// What a broker sends the cloud's broker source: CONNACK (session present),
// SUBACK, queued QoS 1 uplinks (one a DUP redelivery), PUBACK, PINGRESP.
std::vector<std::pair<std::string, Bytes>> client_session_seeds() {
  const Publish up{"armored/v1/gw-1/up", as_bytes(payload96()), QoS::kAtLeastOnce, false, false, 7};
  const Publish again{"armored/v1/gw-1/up", as_bytes(payload96()), QoS::kAtLeastOnce, false, true, 7};
  return {
      {"connack_suback_uplinks",
       seed(0, {ConnAck{true, ConnectReturnCode::kAccepted}, SubAck{1, {SubAckCode::kGrantedQos1}}, up, again,
                PubAck{2}, PingResp{}})},
      {"refused", seed(0, {ConnAck{false, ConnectReturnCode::kNotAuthorized}})},
      {"split_every_3", seed(3, {ConnAck{false, ConnectReturnCode::kAccepted}, up, SubAck{1, {SubAckCode::kFailure}}})},
  };
}

void check_corpus(const std::string& target,
                  const std::vector<std::pair<std::string, Bytes>>& seeds) {
  const fs::path dir = fs::path(ARMORED_SOURCE_DIR) / "fuzz" / "corpus" / target;
  const bool write = std::getenv("ARMORED_WRITE_CORPUS") != nullptr;
  for (const auto& [name, bytes] : seeds) {
    const fs::path file = dir / (name + ".bin");
    if (write) {
      fs::create_directories(dir);
      std::ofstream(file, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
    }
    std::ifstream f(file, std::ios::binary);
    Bytes on_disk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(on_disk, bytes) << file << " is stale: rerun with ARMORED_WRITE_CORPUS=1";
  }
}

TEST(MqttFuzzCorpus, DecoderSeedsAreCapturedFromTheEncoders) {
  check_corpus("mqtt_decoder_fuzzer", decoder_seeds());
}

TEST(MqttFuzzCorpus, ServerSessionSeedsAreCapturedFromTheEncoders) {
  check_corpus("mqtt_server_session_fuzzer", session_seeds());
}

TEST(MqttFuzzCorpus, ClientSessionSeedsAreCapturedFromTheEncoders) {
  check_corpus("mqtt_client_session_fuzzer", client_session_seeds());
}

}  // namespace
}  // namespace armored::mqtt

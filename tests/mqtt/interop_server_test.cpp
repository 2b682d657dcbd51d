// Our ServerSession inside a tiny test-owned TCP loop, driven by real
// clients: mosquitto_pub, mosquitto_sub and Python paho-mqtt (Debian 1.6.x).
#include <gtest/gtest.h>

#include <poll.h>

#include <fstream>
#include <functional>
#include <memory>

#include "common/hex.h"
#include "mqtt/mqtt.h"
#include "support/process.h"
#include "tcp_test_socket.h"

namespace armored::mqtt {
namespace {

using namespace std::chrono_literals;
using armored::testing::Subprocess;
using armored::testing::TempDir;
using test::TcpListener;
using test::TcpSocket;

struct Received {
  std::string client_id;
  std::string topic;
  std::string payload;
  QoS qos;
  bool dup;
};

// One listener, one ServerSession per connection. It routes PUBLISH to the
// matching subscribers and acknowledges QoS 1 once "stored" (here: logged).
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) : options_(std::move(options)) {}
  int port() const { return listener_.port(); }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      step();
      if (done()) return true;
    }
    return false;
  }

  const std::vector<Received>& received() const { return received_; }
  std::size_t subscriptions() const { return subscriptions_; }
  std::size_t delivered() const { return delivered_; }
  std::size_t closed_cleanly() const { return closed_cleanly_; }
  const ErrorCounters& errors() const { return errors_; }

 private:
  struct Conn {
    TcpSocket sock;
    ServerSession session;
    std::vector<TopicRequest> subs;
    std::vector<std::string> sub_storage;
    bool open = true;
  };

  Time now() const { return std::chrono::steady_clock::now() - start_; }

  void step() {
    std::vector<pollfd> fds{{listener_.fd(), POLLIN, 0}};
    for (auto& c : conns_) fds.push_back({c->open ? c->sock.fd() : -1, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 10);
    while (auto s = listener_.accept_pending()) {
      conns_.push_back(std::make_unique<Conn>(Conn{std::move(*s), ServerSession(options_, now()), {}, {}, true}));
    }
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = *conns_[i];
      if (!c.open) continue;
      std::span<const ServerEvent> events;
      if (i + 1 < fds.size() && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
        auto bytes = c.sock.receive(0ms);
        if (bytes && bytes->empty()) {
          drop(c);
          continue;
        }
        if (bytes) events = c.session.receive(*bytes, now());
      } else {
        events = c.session.on_timer(now());
      }
      handle(c, events);
    }
    for (auto& c : conns_) flush(*c);
  }

  void handle(Conn& c, std::span<const ServerEvent> events) {
    for (const auto& e : events) {
      switch (e.kind) {
        case ServerEvent::Kind::kMessage:
          received_.push_back({c.session.client_id(), std::string(e.message.topic),
                               std::string(as_string(e.message.payload)), e.message.qos, e.message.dup});
          route(e.message);
          if (e.message.qos == QoS::kAtLeastOnce) {
            EXPECT_TRUE(c.session.acknowledge(e.message.packet_id).has_value());
          }
          break;
        case ServerEvent::Kind::kSubscribed:
          for (const auto& g : e.granted) {
            c.sub_storage.emplace_back(g.filter);
            c.subs.push_back({"", g.qos});
          }
          for (std::size_t k = 0; k < c.subs.size(); ++k) c.subs[k].filter = c.sub_storage[k];
          ++subscriptions_;
          break;
        case ServerEvent::Kind::kDelivered:
          ++delivered_;
          break;
        case ServerEvent::Kind::kClosed:
          if (!e.error) ++closed_cleanly_;
          break;
        default:
          break;
      }
    }
    if (c.session.state() == ServerState::kClosed) {
      flush(c);
      drop(c);
    }
  }

  void route(const Publish& m) {
    for (auto& other : conns_) {
      if (!other->open) continue;
      for (const auto& s : other->subs) {
        if (!topic_matches(s.filter, m.topic)) continue;
        QoS q = std::min(m.qos, s.qos);
        EXPECT_TRUE(other->session.publish(m.topic, m.payload, q, false, now()).has_value());
        break;
      }
    }
  }

  void flush(Conn& c) {
    auto out = c.session.pending_output();
    if (c.open && !out.empty() && c.sock.send_all(out)) c.session.consume_output(out.size());
  }

  void drop(Conn& c) {
    if (!c.open) return;
    errors_.add(c.session.counters());
    c.open = false;
    c.sock.close();
  }

  ServerOptions options_;
  TcpListener listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Received> received_;
  std::size_t subscriptions_ = 0;
  std::size_t delivered_ = 0;
  std::size_t closed_cleanly_ = 0;
  ErrorCounters errors_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class MqttServerInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!armored::testing::have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto-clients not installed";
  }
  TempDir dir_;
};

TEST_F(MqttServerInterop, MosquittoPubQos1IsReceivedAndAcknowledged) {
  TestServer server;
  Subprocess::Options o;
  o.stdout_path = dir_ / "pub.out";
  o.stderr_path = dir_ / "pub.err";
  Subprocess pub({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(server.port()), "-q", "1", "-i", "gw-1",
                  "-t", "armored/v1/gw-1/up", "-m", "sealed envelope bytes", "-d"},
                 o);
  ASSERT_TRUE(server.run_until([&] { return !pub.running() && server.closed_cleanly() == 1; }, 10s))
      << armored::testing::slurp(o.stderr_path);
  EXPECT_EQ(pub.wait(1s), 0);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].client_id, "gw-1");
  EXPECT_EQ(server.received()[0].topic, "armored/v1/gw-1/up");
  EXPECT_EQ(server.received()[0].payload, "sealed envelope bytes");
  EXPECT_EQ(server.received()[0].qos, QoS::kAtLeastOnce);
  const std::string out = armored::testing::slurp(o.stdout_path);
  EXPECT_NE(out.find("received CONNACK (0)"), std::string::npos) << out;
  EXPECT_NE(out.find("received PUBACK (Mid: 1, RC:0)"), std::string::npos) << out;  // our PUBACK arrived
  EXPECT_EQ(server.closed_cleanly(), 1u);  // mosquitto_pub ends with DISCONNECT
  EXPECT_EQ(server.errors().total(), 0u);
}

TEST_F(MqttServerInterop, MosquittoSubReceivesRoutedPublishWithQos1) {
  TestServer server;
  const std::string port = std::to_string(server.port());
  Subprocess::Options so;
  so.stdout_path = dir_ / "sub.out";
  Subprocess sub({"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", "armored/v1/+/up", "-C", "1",
                  "-v", "-i", "cloud-sub"},
                 so);
  ASSERT_TRUE(server.run_until([&] { return server.subscriptions() == 1; }, 10s));
  Subprocess pub({"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", "armored/v1/gw-2/up", "-m",
                  "batch of 3 envelopes"});
  ASSERT_TRUE(server.run_until([&] { return !sub.running() && !pub.running(); }, 10s));
  EXPECT_EQ(sub.wait(1s), 0);
  EXPECT_EQ(armored::testing::slurp(so.stdout_path), "armored/v1/gw-2/up batch of 3 envelopes\n");
  server.run_until([&] { return server.delivered() == 1; }, 2s);
  EXPECT_EQ(server.delivered(), 1u);  // mosquitto_sub acknowledged our QoS 1 PUBLISH
  EXPECT_EQ(server.errors().total(), 0u);
}

// paho-mqtt 1.6 API (Debian 12): mqtt.Client(client_id=..., protocol=MQTTv311).
const char* kPahoScript = R"PY(
import sys
import paho.mqtt.client as mqtt

port, topic, count, payload = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
client = mqtt.Client(client_id="paho-gw", clean_session=True, protocol=mqtt.MQTTv311)
acked = set()
client.on_publish = lambda c, u, mid: acked.add(mid)
client.connect("127.0.0.1", port, keepalive=30)
client.loop_start()
infos = [client.publish(topic, payload + bytes([i]), qos=1) for i in range(count)]
for info in infos:
    info.wait_for_publish(timeout=10)
ok = all(info.is_published() for info in infos) and len(acked) == count
print("acked %d of %d" % (len(acked), count))
client.disconnect()
client.loop_stop()
sys.exit(0 if ok else 1)
)PY";

TEST_F(MqttServerInterop, PahoPublishesQos1AndGetsEveryPubAck) {
  TestServer server;
  const auto script = dir_ / "paho_publish.py";
  std::ofstream(script) << kPahoScript;
  Bytes payload(95);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(255 - i * 3);
  payload[0] = 0;
  Subprocess::Options o;
  o.stdout_path = dir_ / "paho.out";
  o.stderr_path = dir_ / "paho.err";
  constexpr int kCount = 20;
  Subprocess paho({"/usr/bin/python3", script.string(), std::to_string(server.port()), "armored/v1/paho-gw/up",
                   std::to_string(kCount), to_hex(payload)},
                  o);
  ASSERT_TRUE(server.run_until([&] { return !paho.running(); }, 20s));
  EXPECT_EQ(paho.wait(1s), 0) << armored::testing::slurp(o.stderr_path);
  EXPECT_EQ(armored::testing::slurp(o.stdout_path), "acked 20 of 20\n");
  ASSERT_EQ(server.received().size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const auto& r = server.received()[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.client_id, "paho-gw");
    EXPECT_EQ(r.topic, "armored/v1/paho-gw/up");
    Bytes expected = payload;
    expected.push_back(static_cast<std::uint8_t>(i));  // in order, exact bytes (96 each)
    EXPECT_EQ(r.payload, std::string(as_string(expected)));
    EXPECT_EQ(r.qos, QoS::kAtLeastOnce);
  }
  EXPECT_EQ(server.errors().total(), 0u);
}

TEST_F(MqttServerInterop, MalformedClientIsDisconnectedAndCounted) {
  TestServer server;
  TcpSocket raw = TcpSocket::connect_loopback(server.port());
  ASSERT_TRUE(raw.valid());
  Bytes wire;
  Connect c;
  c.client_id = "rogue";
  ASSERT_TRUE(append_packet(c, wire).has_value());
  const std::uint8_t wildcard_publish[] = {0x30, 0x05, 0x00, 0x03, 'a', '/', '#'};
  wire.insert(wire.end(), std::begin(wildcard_publish), std::end(wildcard_publish));
  ASSERT_TRUE(raw.send_all(wire));
  Bytes got;
  bool peer_closed = false;
  server.run_until(
      [&] {
        auto b = raw.receive(0ms);
        if (b && b->empty()) peer_closed = true;
        if (b) got.insert(got.end(), b->begin(), b->end());
        return peer_closed;
      },
      5s);
  EXPECT_TRUE(peer_closed);
  EXPECT_EQ(got, (Bytes{0x20, 0x02, 0x00, 0x00}));  // CONNACK, then the connection is closed
  EXPECT_EQ(server.errors().count(ErrorCode::kInvalidTopicName), 1u);
  EXPECT_TRUE(server.received().empty());
}

}  // namespace
}  // namespace armored::mqtt

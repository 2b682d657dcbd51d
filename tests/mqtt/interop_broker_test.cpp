// Our ClientSession against a real Mosquitto broker on 127.0.0.1, with
// mosquitto_sub / mosquitto_pub as independent peers for cross-checks.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "mqtt/mqtt.h"
#include "support/process.h"
#include "tcp_test_socket.h"

namespace armored::mqtt {
namespace {

using namespace std::chrono_literals;
using armored::testing::Subprocess;
using armored::testing::TempDir;
using test::TcpSocket;

// A private broker: plain TCP on loopback, anonymous, no persistence.
class MosquittoBroker {
 public:
  MosquittoBroker() : port_(armored::testing::free_tcp_port()) {
    const auto conf = dir_ / "mosquitto.conf";
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\n"
                        << "allow_anonymous true\n"
                        << "persistence false\n";
    Subprocess::Options o;
    o.stderr_path = dir_ / "mosquitto.log";
    o.stdout_path = dir_ / "mosquitto.out";
    broker_ = std::make_unique<Subprocess>(std::vector<std::string>{"mosquitto", "-c", conf.string()}, o);
    ready_ = armored::testing::wait_for_tcp_port(port_, 10s);
  }
  int port() const { return port_; }
  bool ready() const { return ready_; }
  std::string log() const { return armored::testing::slurp(dir_ / "mosquitto.log"); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Subprocess> broker_;
  bool ready_ = false;
};

// What the tests keep of an event (events hold views that expire).
struct Seen {
  ClientEvent::Kind kind;
  std::string topic;
  std::string payload;
  QoS qos = QoS::kAtMostOnce;
  std::uint16_t packet_id = 0;
  std::vector<SubAckCode> codes;
};

// Runs a ClientSession over a test-owned TCP socket with real time.
class Driver {
 public:
  Driver(int port, ClientOptions options) : sock_(TcpSocket::connect_loopback(port)), session_(std::move(options)) {}

  Time now() const { return std::chrono::steady_clock::now() - start_; }
  ClientSession& session() { return session_; }
  bool connected_socket() const { return sock_.valid(); }

  void flush() {
    auto out = session_.pending_output();
    if (!out.empty() && sock_.send_all(out)) session_.consume_output(out.size());
  }

  // Pumps socket and timers until `done` holds for a seen event, or timeout.
  bool run_until(const std::function<bool(const Seen&)>& done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      flush();
      auto bytes = sock_.receive(20ms);
      std::span<const ClientEvent> events;
      if (bytes && bytes->empty()) {
        session_.transport_closed();
        return false;
      }
      if (bytes) {
        events = session_.receive(*bytes, now());
      } else {
        events = session_.on_timer(now());
      }
      bool hit = false;
      for (const auto& e : events) {
        Seen s{e.kind, std::string(e.message.topic), std::string(as_string(e.message.payload)), e.message.qos,
               e.packet_id, e.codes};
        seen_.push_back(s);
        hit = hit || done(s);
      }
      flush();
      if (hit) return true;
    }
    return false;
  }
  // Pumps for a fixed time (keep-alive tests).
  void run_for(std::chrono::milliseconds d) {
    run_until([](const Seen&) { return false; }, d);
  }
  const std::vector<Seen>& seen() const { return seen_; }

 private:
  TcpSocket sock_;
  ClientSession session_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::vector<Seen> seen_;
};

ClientOptions client_options(std::string id, std::uint16_t keep_alive = 30) {
  ClientOptions o;
  o.client_id = std::move(id);
  o.keep_alive_s = keep_alive;
  return o;
}

bool is(const Seen& s, ClientEvent::Kind k) { return s.kind == k; }

// Connects and subscribes `filter` at QoS 1.
void connect_and_subscribe(Driver& d, std::string_view filter) {
  ASSERT_TRUE(d.connected_socket());
  ASSERT_TRUE(d.session().connect(d.now()).has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kConnected); }, 5s));
  const TopicRequest topics[] = {{filter, QoS::kAtLeastOnce}};
  ASSERT_TRUE(d.session().subscribe(topics, d.now()).has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kSubscribed); }, 5s));
  EXPECT_EQ(d.seen().back().codes, std::vector<SubAckCode>{SubAckCode::kGrantedQos1});
}

class MqttBrokerInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!armored::testing::have_program("mosquitto")) GTEST_SKIP() << "mosquitto not installed";
    broker_ = std::make_unique<MosquittoBroker>();
    ASSERT_TRUE(broker_->ready()) << broker_->log();
  }
  std::unique_ptr<MosquittoBroker> broker_;
};

TEST_F(MqttBrokerInterop, OurClientPublishesQos0AndQos1AndReceivesItsOwnMessages) {
  Driver d(broker_->port(), client_options("armored-interop-1"));
  connect_and_subscribe(d, "armored/interop/#");

  ASSERT_TRUE(d.session().publish("armored/interop/q0", as_bytes("hello qos0"), QoS::kAtMostOnce, false, d.now()));
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kMessage); }, 5s));
  EXPECT_EQ(d.seen().back().topic, "armored/interop/q0");
  EXPECT_EQ(d.seen().back().payload, "hello qos0");
  EXPECT_EQ(d.seen().back().qos, QoS::kAtMostOnce);

  std::string binary(96, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 37 + 1);
  binary[5] = '\0';
  auto id = d.session().publish("armored/interop/q1", as_bytes(binary), QoS::kAtLeastOnce, false, d.now());
  ASSERT_TRUE(id.has_value());
  bool acked = false;
  bool received = false;
  ASSERT_TRUE(d.run_until(
      [&](const Seen& s) {
        if (is(s, ClientEvent::Kind::kPublishAcked) && s.packet_id == *id) acked = true;
        if (is(s, ClientEvent::Kind::kMessage) && s.topic == "armored/interop/q1") {
          received = true;
          EXPECT_EQ(s.payload, binary);
          EXPECT_EQ(s.qos, QoS::kAtLeastOnce);
        }
        return acked && received;
      },
      5s));
  EXPECT_EQ(d.session().inflight(), 0u);
  ASSERT_TRUE(d.session().disconnect(d.now()).has_value());
  d.flush();
}

TEST_F(MqttBrokerInterop, MosquittoSubReceivesWhatOurClientPublishes) {
  Subprocess::Options o;
  o.stdout_path = broker_->dir() / "sub.out";
  // stdbuf: line-buffered stdout, so the -d trace shows SUBACK as it happens.
  Subprocess sub({"stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-t",
                  "armored/v1/gw-1/up", "-q", "1", "-C", "1", "-d", "-i", "cross-sub"},
                 o);
  // -d prints protocol steps: publish only once the subscription is in place.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (armored::testing::slurp(o.stdout_path).find("received SUBACK") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "mosquitto_sub never subscribed";
    std::this_thread::sleep_for(20ms);
  }
  Driver d(broker_->port(), client_options("armored-interop-2"));
  ASSERT_TRUE(d.session().connect(d.now()).has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kConnected); }, 5s));
  auto id = d.session().publish("armored/v1/gw-1/up", as_bytes("reading 42 sealed"), QoS::kAtLeastOnce, false,
                                d.now());
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kPublishAcked); }, 5s));
  auto status = sub.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  const std::string out = armored::testing::slurp(o.stdout_path);
  EXPECT_NE(out.find("received PUBLISH (d0, q1, r0, m1, 'armored/v1/gw-1/up', ... (17 bytes))"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\nreading 42 sealed\n"), std::string::npos) << out;
}

TEST_F(MqttBrokerInterop, OurClientReceivesWhatMosquittoPubPublishes) {
  Driver d(broker_->port(), client_options("armored-interop-3"));
  connect_and_subscribe(d, "armored/v1/+/down");
  auto pub = armored::testing::run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()), "-t",
                                    "armored/v1/gw-7/down", "-q", "1", "-m", "reboot please"},
                                   10s);
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kMessage); }, 5s));
  EXPECT_EQ(d.seen().back().topic, "armored/v1/gw-7/down");
  EXPECT_EQ(d.seen().back().payload, "reboot please");
  EXPECT_EQ(d.seen().back().qos, QoS::kAtLeastOnce);
}

TEST_F(MqttBrokerInterop, UnsubscribeGetsUnsubAckFromTheBroker) {
  Driver d(broker_->port(), client_options("armored-interop-4"));
  connect_and_subscribe(d, "armored/interop/x");
  const std::string_view filters[] = {"armored/interop/x"};
  ASSERT_TRUE(d.session().unsubscribe(filters, d.now()).has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kUnsubscribed); }, 5s));
  // Unsubscribed: our own publish no longer comes back.
  ASSERT_TRUE(d.session().publish("armored/interop/x", as_bytes("gone"), QoS::kAtLeastOnce, false, d.now()));
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kPublishAcked); }, 5s));
  d.run_for(300ms);
  for (const auto& s : d.seen()) EXPECT_NE(s.kind, ClientEvent::Kind::kMessage);
}

TEST_F(MqttBrokerInterop, KeepAlivePingsKeepAnIdleConnectionOpen_MQTT_3_1_2_23) {
  // With Keep Alive 1 s the broker drops a silent client after 1.5 s; our
  // PINGREQ scheduling must keep this one connected for 3 s.
  Driver d(broker_->port(), client_options("armored-interop-5", 1));
  ASSERT_TRUE(d.session().connect(d.now()).has_value());
  ASSERT_TRUE(d.run_until([](const Seen& s) { return is(s, ClientEvent::Kind::kConnected); }, 5s));
  d.run_for(3200ms);
  EXPECT_EQ(d.session().state(), ClientState::kConnected);
  EXPECT_EQ(d.session().counters().total(), 0u);
}

}  // namespace
}  // namespace armored::mqtt

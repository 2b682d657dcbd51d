// Interop through a standard broker: our gateway publishes through a real
// Mosquitto (TLS 1.3, client certificates required, identity as user name,
// an ACL that confines each gateway to armored/v1/<id>/up), and the cloud's
// broker source subscribes to armored/v1/+/up there and stores every
// reading exactly once. Also: the cloud away while the gateway publishes
// (the broker queues for the cloud's persistent session), the cloud killed
// mid-stream (the broker redelivers with DUP, storage drops the copies), and
// a broker whose certificate comes from another CA (refused, clearly).

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "common/file_io.h"
#include "crypto/ec.h"
#include "peer_fixture.h"
#include "receipt/receipt.h"
#include "topics/topics.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::have_program;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::Subprocess;
namespace fs = std::filesystem;

class BrokerTest : public PeerTest {
 protected:
  void SetUp() override {
    if (!have_program("mosquitto")) GTEST_SKIP() << "mosquitto not installed";
  }

  // The broker's server certificate (from `pki_dir`'s CA) and the cloud's
  // client certificate for the broker (clientAuth, CN cloud-ingest).
  void issue_broker_certificates(const std::string& pki_dir = "pki") {
    const std::string pki = (dir() / pki_dir).string();
    auto r = run(armored({"pki", "issue", "cloud", "--id", "broker", "--dns", "localhost", "--ip", "127.0.0.1",
                          "--dir", pki}),
                 60s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run(armored({"pki", "issue", "gateway", "--id", "cloud-ingest", "--dir", (dir() / "pki").string()}), 60s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Mosquitto on 127.0.0.1: TLS 1.3 only, a client certificate from our CA
  // required, the certificate's CN as user name, and the ACL below.
  // `persistence`: Mosquitto saves its sessions and queues to a file every
  // second (a crash still loses what it acknowledged since the last save).
  // A restart keeps the port.
  void start_broker(bool persistence = false) {
    if (broker_port_ == 0) broker_port_ = armored::testing::free_tcp_port();
    std::ofstream(dir() / "mosquitto.acl") << "# The cloud reads every gateway's uplink and writes its receipts.\n"
                                              "user cloud-ingest\n"
                                              "topic read armored/v1/+/up\n"
                                              "topic write armored/v1/+/receipts\n\n"
                                              "# Each gateway writes its own uplink and reads its own downlink\n"
                                              "# and receipts.\n"
                                              "pattern write armored/v1/%u/up\n"
                                              "pattern read armored/v1/%u/down\n"
                                              "pattern read armored/v1/%u/receipts\n";
    std::ofstream(dir() / "mosquitto.conf")
        // Started as root, mosquitto would drop to user "mosquitto", which
        // cannot read the 0600 key: stay the user running the test.
        << "user " << current_user() << "\n"
        << "per_listener_settings false\n"
        << "allow_anonymous false\n"
        << (persistence ? "persistence true\npersistence_location " + (dir() / "mosquitto-data").string() +
                              "/\nautosave_interval 1\n"
                        : std::string("persistence false\n"))
        << "max_queued_messages 0\n"  // no cap: queued uplinks for an absent cloud are never dropped
        << "listener " << broker_port_ << " 127.0.0.1\n"
        << "tls_version tlsv1.3\n"
        << "cafile " << (dir() / "pki" / "root-ca.crt").string() << "\n"
        << "certfile " << (dir() / broker_pki_ / "cloud" / "broker.fullchain.pem").string() << "\n"
        << "keyfile " << (dir() / broker_pki_ / "cloud" / "broker.key").string() << "\n"
        << "require_certificate true\n"
        << "use_identity_as_username true\n"
        << "acl_file " << (dir() / "mosquitto.acl").string() << "\n";
    if (persistence) fs::create_directories(dir() / "mosquitto-data");
    Subprocess::Options o;
    o.stdout_path = dir() / "mosquitto.out";
    o.stderr_path = dir() / "mosquitto.log";
    broker_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"mosquitto", "-v", "-c", (dir() / "mosquitto.conf").string()}, o);
    ASSERT_TRUE(armored::testing::wait_for_tcp_port(broker_port_, 10s)) << slurp(dir() / "mosquitto.log");
    gateway_upstream_port_ = broker_port_;
    cloud_extra_config_ = "[broker]\nurl = \"mqtts://localhost:" + std::to_string(broker_port_) +
                          "\"\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/cloud-ingest.crt\"\n"
                          "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/gateway/cloud-ingest.key\"\n"
                          "client_id = \"armored-cloud-test\"\nticket_dir = \"broker-tickets\"\n"
                          "backoff_initial_ms = 200\nbackoff_max_ms = 2000\n";
  }

  static std::string current_user() {
    const passwd* pw = getpwuid(geteuid());
    return pw != nullptr ? pw->pw_name : "root";
  }

  std::string cloud_log() const { return slurp(dir() / ("cloud" + std::to_string(cloud_starts_) + ".err")); }
  // The cloud's log and the broker's, for failure messages.
  std::string logs() const {
    auto tail = [](std::string s) { return s.size() > 6000 ? s.substr(s.size() - 6000) : s; };
    return "--- cloud:\n" + tail(cloud_log()) + "--- mosquitto:\n" + tail(slurp(dir() / "mosquitto.log"));
  }

  // Waits until the cloud's status line shows its broker session is up.
  bool wait_broker_connected(int start) {
    return !wait_for_text(dir() / ("cloud" + std::to_string(start) + ".err"), "; broker connected", 20s).empty();
  }

  // mosquitto_pub holding gateway `id`'s certificate publishes `payload`
  // QoS 1 to `topic` on the broker.
  armored::testing::RunResult publish_via_broker(const std::string& id, const std::string& topic, ByteSpan payload,
                                                 const std::string& name) {
    auto file = (dir() / (name + ".bin")).string();
    write_bytes(file, payload);
    return run({"mosquitto_pub", "--cafile", (dir() / "pki" / "root-ca.crt").string(), "--cert",
                chain_for("gateway", id), "--key", (dir() / "pki" / "gateway" / (id + ".key")).string(), "-h",
                "localhost", "-p", std::to_string(broker_port_), "--tls-version", "tlsv1.3", "-q", "1", "-i", name,
                "-t", topic, "-f", file},
               30s);
  }

  int broker_port_ = 0;
  std::string broker_pki_ = "pki";
  Process broker_;
};

TEST_F(BrokerTest, GatewayThroughMosquittoIsStoredExactlyOnce) {
  make_pki(20, {"gw1", "gw2"});
  issue_broker_certificates();
  start_broker();
  auto cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(1)) << logs();
  auto gateway = start_gateway("gw1");
  auto fleet = start_fleet(20, 60, 8, gateway_udp_port_);
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  ASSERT_GT(f.readings, 20 * 8);
  EXPECT_TRUE(wait_for_stored(f.readings)) << logs();
  std::this_thread::sleep_for(1s);
  expect_exactly_once(f.readings);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");

  // The ACL: gw2 may not publish under gw1's topic. Mosquitto acknowledges
  // and drops it, so nothing reaches the cloud.
  auto pub = publish_via_broker("gw2", "armored/v1/gw1/up", as_bytes("not an envelope"), "gw2");
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind <> 'connected'"), 0) << "the broker's ACL let gw2 in";
  EXPECT_NE(slurp(dir() / "mosquitto.log").find("Denied PUBLISH from gw2"), std::string::npos)
      << slurp(dir() / "mosquitto.log");

  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_NE(slurp(dir() / "gateway1.out").find(", 0 still spooled"), std::string::npos);
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.full + h.resumed + h.zero_rtt, 0) << "nothing should have used the cloud's own listener";
  const auto out = slurp(dir() / "cloud1.out");
  EXPECT_NE(out.find("broker source: "), std::string::npos) << out;
  EXPECT_NE(cloud_log().find("broker connected"), std::string::npos) << "status line counts the broker";
}

TEST_F(BrokerTest, BrokerQueuesWhileTheCloudIsDownAndTheCloudDrainsItAll) {
  make_pki(20);
  issue_broker_certificates();
  start_broker();
  // The first start creates the cloud's persistent session at the broker.
  auto cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(1)) << logs();
  stop_cloud(cloud);

  auto gateway = start_gateway("gw1");
  auto fleet = start_fleet(20, 60, 6, gateway_udp_port_);
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  ASSERT_GT(f.readings, 0);
  // Everything left the gateway (its latest status line says so): the
  // broker holds it for the cloud.
  bool drained = false;
  for (int i = 0; i < 100 && !drained; ++i) {
    std::string log = slurp(dir() / "gateway1.err");
    auto last = log.rfind("gateway: ");
    drained = last != std::string::npos && log.find(", 0 pending", last) != std::string::npos &&
              log.find("connected, ", last) == last + 9;
    if (!drained) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(drained) << slurp(dir() / "gateway1.err");
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);

  cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(2)) << logs();
  EXPECT_NE(cloud_log().find("broker connected (session resumed)"), std::string::npos) << logs();
  EXPECT_TRUE(wait_for_stored(f.readings)) << logs();
  std::this_thread::sleep_for(1s);
  expect_exactly_once(f.readings);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");

  // A restarted gateway reconnects to the broker with the ticket it saved
  // and goes on; nothing fails on the way.
  EXPECT_EQ(gateway->stop(), 0);
  gateway = start_gateway("gw1");
  auto fleet2 = start_fleet(20, 60, 3, gateway_udp_port_, "fleet2");
  auto f2 = finish_fleet(*fleet2, "fleet2");
  EXPECT_EQ(f2.exit_code, 0);
  EXPECT_TRUE(wait_for_stored(f.readings + f2.readings)) << logs();
  std::this_thread::sleep_for(1s);
  // (A restarted fleet resumes past a reserved block of sequence numbers,
  // so the no-gap check of expect_exactly_once does not apply across runs.)
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), f.readings + f2.readings);
  EXPECT_EQ(sql_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings)"),
            f.readings + f2.readings);
  EXPECT_EQ(slurp(dir() / "gateway2.err").find("failed:"), std::string::npos) << slurp(dir() / "gateway2.err");
  EXPECT_EQ(gateway->stop(), 0);
  stop_cloud(cloud);
}

TEST_F(BrokerTest, CloudKilledWhileIngestingFromTheBrokerLosesNothing) {
  make_pki(30);
  issue_broker_certificates();
  start_broker();
  auto cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(1)) << logs();
  auto gateway = start_gateway("gw1");
  auto fleet = start_fleet(30, 60, 12, gateway_udp_port_);
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the crash";
  cloud->signal(SIGKILL);
  ASSERT_TRUE(cloud->wait(5s).has_value());
  std::this_thread::sleep_for(1s);
  cloud = start_cloud();

  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_TRUE(wait_for_stored(f.readings)) << logs();
  std::this_thread::sleep_for(2s);
  expect_exactly_once(f.readings);
  // What the broker sent again it marked DUP: such copies are "redelivered".
  std::cout << "[ figures  ] audit after the crash: "
            << sql("SELECT reason || ' ' || count(*) FROM security_events GROUP BY reason") << std::endl;
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind <> 'connected' AND reason <> 'redelivered'"), 0)
      << sql("SELECT kind || ': ' || reason || ' ' || peer FROM security_events");
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE reason = 'redelivered' AND "
                    "peer NOT LIKE 'gw1 via broker localhost:%'"),
            0)
      << "the audit names the broker source";
  EXPECT_EQ(gateway->stop(), 0);
  stop_cloud(cloud);
}

// "No trust in a broker's memory": Mosquitto killed with -9 mid-run and
// restarted on the same port. Without persistence it comes back with no
// session for the cloud and acknowledges, then drops, what the gateway sends
// before the cloud has subscribed again; with persistence it still loses what
// it acknowledged since its last save. The gateway waits for the cloud's
// signed receipts, so it sends such batches again: lost 0 either way. (With
// forward.confirm = "puback" the same run loses what the broker held.)
class BrokerFaultTest : public BrokerTest {
 public:
  void broker_killed(bool persistence) {
    const bool full = std::getenv("ARMORED_FAULTS_LONG") != nullptr;
    const int devices = full ? 200 : 20;
    const double speedup = full ? 300 : 60, seconds = full ? 60 : 14;
    const auto outage = full ? 10s : 2s;
    make_pki(devices);
    issue_broker_certificates();
    start_broker(persistence);
    gateway_forward_toml_ =
        "confirm = \"receipt\"\nreceipt_signer = \"pki/cloud/cloud.crt\"\nreceipt_timeout_s = 3\n";
    auto cloud = start_cloud();
    ASSERT_TRUE(wait_broker_connected(1)) << logs();
    auto gateway = start_gateway("gw1");
    auto fleet = start_fleet(devices, speedup, seconds, gateway_udp_port_);
    std::this_thread::sleep_for(full ? 20s : 4s);
    ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the broker crash" << logs();
    // The cloud paused first, so the broker holds a backlog for it when it
    // dies; it resumes only after the broker is back, so the gateway
    // reconnects first and publishes before the cloud has subscribed again.
    cloud->signal(SIGSTOP);
    std::this_thread::sleep_for(2s);
    broker_->signal(SIGKILL);
    ASSERT_TRUE(broker_->wait(5s).has_value());
    std::this_thread::sleep_for(outage);
    start_broker(persistence);
    std::this_thread::sleep_for(2s);
    cloud->signal(SIGCONT);

    auto f = finish_fleet(*fleet, "fleet", 300s);
    EXPECT_EQ(f.exit_code, 0);
    EXPECT_TRUE(wait_for_stored(f.readings, 120s)) << logs();
    std::this_thread::sleep_for(2s);
    expect_fault_row(std::string("broker (Mosquitto) kill -9, restarted ") + (full ? "10" : "2") +
                         " s later, persistence " + (persistence ? "on" : "off"),
                     f, true);
    // Copies the gateway sent again are dropped as duplicates; nothing else is audited.
    EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind <> 'connected' AND reason NOT IN "
                      "('redelivered', 'replayed')"),
              0)
        << sql("SELECT kind || ': ' || reason || ' ' || peer FROM security_events");
    // Everything the gateway held has been confirmed by a receipt.
    bool drained = false;
    for (int i = 0; i < 150 && !drained; ++i) {
      std::string log = slurp(dir() / "gateway1.err");
      auto last = log.rfind("gateway: ");
      drained = last != std::string::npos && log.find(", 0 pending", last) != std::string::npos &&
                log.find("; 0 awaiting the cloud's receipt", last) != std::string::npos;
      if (!drained) std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(drained) << slurp(dir() / "gateway1.err");
    const std::string glog = slurp(dir() / "gateway1.err");
    const auto last = glog.rfind("gateway: ");
    std::cout << "[ figures  ] gateway after the broker crash: "
              << (last == std::string::npos ? "" : glog.substr(last, glog.find('\n', last) - last)) << std::endl;
    EXPECT_EQ(glog.find("refused a receipt"), std::string::npos) << glog;
    EXPECT_EQ(gateway->stop(), 0);
    EXPECT_NE(slurp(dir() / "gateway1.out").find(", 0 still spooled"), std::string::npos);
    stop_cloud(cloud);
  }
};

// Nobody in between confirms for the cloud: receipts on the gateway's topic
// that are forged (another key), meant for another gateway, malformed or
// oversized are refused and counted; they confirm nothing, and every reading
// is still stored exactly once. Published with the cloud's own broker
// credentials, which the ACL lets write receipts: the signature decides.
TEST_F(BrokerFaultTest, HostileReceiptsConfirmNothing) {
  make_pki(10);
  issue_broker_certificates();
  start_broker();
  gateway_forward_toml_ = "confirm = \"receipt\"\nreceipt_signer = \"pki/cloud/cloud.crt\"\n";
  auto cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(1)) << logs();
  auto gateway = start_gateway("gw1");
  auto fleet = start_fleet(10, 60, 8, gateway_udp_port_);

  receipt::Receipt r;
  r.gateway = "gw1";
  r.issued_at_ms = 1;
  r.batches.push_back(receipt::batch_id(as_bytes("some batch")));
  const auto other = *crypto::EcPrivateKey::generate();
  auto cloud_key = crypto::EcPrivateKey::from_pem(*read_text_file(dir() / "pki" / "cloud" / "cloud.key", 64 * 1024));
  ASSERT_TRUE(cloud_key);
  receipt::Receipt for_gw2 = r;
  for_gw2.gateway = "gw2";
  const std::vector<std::pair<std::string, Bytes>> hostile = {
      {"forged", *receipt::seal(r, other)},
      {"for-gw2", *receipt::seal(for_gw2, *cloud_key)},
      {"malformed", Bytes(as_bytes("not a receipt").begin(), as_bytes("not a receipt").end())},
      {"oversized", Bytes(receipt::kMaxReceiptBytes + 1, 0xd2)},
  };
  // Connected (its status line says so), and so subscribed a moment later.
  ASSERT_FALSE(wait_for_text(dir() / "gateway1.err", "gateway: connected", 20s).empty()) << slurp(dir() / "gateway1.err");
  std::this_thread::sleep_for(1s);
  for (const auto& [name, bytes] : hostile) {
    auto pub = publish_via_broker("cloud-ingest", topics::receipts_topic("gw1"), bytes, name);
    EXPECT_EQ(pub.exit_code, 0) << name << ": " << pub.err;
  }
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_TRUE(wait_for_stored(f.readings)) << logs();
  std::this_thread::sleep_for(2s);
  expect_exactly_once(f.readings);
  EXPECT_FALSE(wait_for_text(dir() / "gateway1.err", "4 refused", 20s).empty()) << slurp(dir() / "gateway1.err");
  const std::string glog = slurp(dir() / "gateway1.err");
  // Logged at the first (then every 1,000th); each reason is in receipt_test.
  EXPECT_NE(glog.find("refused a receipt on armored/v1/gw1/receipts: bad_signature"), std::string::npos) << glog;
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_NE(slurp(dir() / "gateway1.out").find(", 0 still spooled"), std::string::npos);
  stop_cloud(cloud);
}

TEST_F(BrokerFaultTest, ReliabilityMosquittoKilledWithoutPersistenceLosesNothing) { broker_killed(false); }
TEST_F(BrokerFaultTest, ReliabilityMosquittoKilledWithPersistenceLosesNothing) { broker_killed(true); }

// Through a broker the topic's <id> is only a claim: a forged envelope is
// rejected and audited with the claim and the broker as its source, and a
// genuine one is stored under the device its E3 key ID is bound to.
TEST_F(BrokerTest, EnvelopesThroughTheBrokerAreJudgedByTheirKeyNotTheTopic) {
  make_pki(1, {"gw1"});
  issue_broker_certificates();
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const auto& [kid, c] = *got.begin();
  start_broker();
  auto cloud = start_cloud();
  ASSERT_TRUE(wait_broker_connected(1)) << logs();
  Bytes altered = c.uplinks[0];
  altered[altered.size() / 2] ^= 0x01;
  auto r = publish_via_broker("gw1", "armored/v1/gw1/up", batch_of({c.announcement, altered}), "forged");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(wait_events("kind = 'rejected_envelope' AND reason = 'authentication_failed' AND peer = 'gw1 via broker "
                        "localhost:" + std::to_string(broker_port_) + "'",
                        1),
            1)
      << sql("SELECT kind, reason, peer, detail FROM security_events") << logs();
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);
  r = publish_via_broker("gw1", "armored/v1/gw1/up", batch_of({c.uplinks[1]}), "genuine");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(wait_for_stored(1, 10s)) << logs();
  EXPECT_EQ(sql("SELECT device FROM readings"), device_id_for_kid(kid));
  stop_cloud(cloud);
}

TEST_F(BrokerTest, BrokerWithACertificateFromAnotherCaIsRefused) {
  make_pki(2);
  // A second CA, unknown to the cloud, issues the broker's certificate.
  auto r = run(armored({"pki", "init", "--dir", (dir() / "other-pki").string(), "--name", "Someone Else"}), 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  broker_pki_ = "other-pki";
  issue_broker_certificates("other-pki");
  start_broker();
  auto cloud = start_cloud();
  auto log = wait_for_text(dir() / "cloud1.err", "unknown_ca", 20s);
  EXPECT_NE(log.find("broker localhost:" + std::to_string(broker_port_) + " refused: TLS handshake failed: unknown_ca"),
            std::string::npos)
      << cloud_log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(cloud_log().find("; broker connected"), std::string::npos);
  // The cloud keeps serving its own listener meanwhile and stops cleanly.
  EXPECT_TRUE(cloud->running());
  stop_cloud(cloud);
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);
}

// Last "broker ..., N connect failures" of the cloud's status lines.
std::int64_t broker_connect_failures(const std::string& log) {
  static const std::regex re("(\\d+) connect failures");
  std::int64_t last = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    last = std::stoll((*it)[1]);
  }
  return last;
}

TEST_F(BrokerTest, UnreachableBrokerIsRetriedWithBackOffAndStopIsPrompt) {
  make_pki(1);
  issue_broker_certificates();
  const int nobody = armored::testing::free_tcp_port();
  cloud_extra_config_ = "[broker]\nurl = \"mqtts://127.0.0.1:" + std::to_string(nobody) +
                        "\"\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/cloud-ingest.crt\"\n"
                        "key = \"pki/gateway/cloud-ingest.key\"\nbackoff_initial_ms = 200\nbackoff_max_ms = 2000\n";
  auto cloud = start_cloud();
  std::this_thread::sleep_for(8s);
  const auto failures = broker_connect_failures(cloud_log());
  // Full jitter under a ceiling doubling from 200 ms to 2 s: about a dozen
  // attempts in 8 s where a fixed 200 ms retry would make 40.
  std::cout << "[ figures  ] broker connect attempts failed in 8 s: " << failures << std::endl;
  EXPECT_GE(failures, 3) << cloud_log();
  EXPECT_LE(failures, 30) << cloud_log();
  EXPECT_NE(cloud_log().find("; broker disconnected"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  stop_cloud(cloud);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "a broker that is away must not hold up SIGTERM";
}

TEST_F(BrokerTest, PlaintextBrokerUrlIsRefusedWithTheReason) {
  make_pki(1);
  issue_broker_certificates();
  cloud_extra_config_ = "[broker]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/cloud-ingest.crt\"\n"
                        "key = \"pki/gateway/cloud-ingest.key\"\n";
  write_cloud_config();
  auto r = run(armored({"cloud", "--config", (dir() / "cloud.toml").string(), "--broker", "mqtt://localhost:1883"}),
               30s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plaintext"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace armored::pipeline_test

// `armored pki revoke` takes effect in a running `armored cloud`: the CRL is
// reloaded when the file changes (or on SIGHUP), new handshakes with the
// revoked certificate are refused, its open connection is closed and
// audited, and a CRL that does not verify never replaces the good one.

#include <csignal>
#include <fstream>
#include <thread>

#include "peer_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::Subprocess;

class CrlReloadTest : public PeerTest {
 protected:
  std::string pki() const { return (dir() / "pki").string(); }

  std::vector<std::string> s_client(const std::string& id) const {
    std::vector<std::string> a{"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_),
                               "-servername", "localhost", "-tls1_3", "-CAfile", pki() + "/root-ca.crt",
                               "-cert", pki() + "/gateway/" + id + ".crt", "-key", pki() + "/gateway/" + id + ".key",
                               "-cert_chain", pki() + "/issuing-ca.crt", "-verify_return_error", "-brief"};
    return a;
  }
  // A mutual-TLS 1.3 handshake as gateway `id` that the cloud accepted. With
  // TLS 1.3 the client's certificate is checked after the client finished,
  // so "accepted" means the cloud recorded the connection, not just that
  // s_client printed CONNECTION ESTABLISHED.
  bool connects(const std::string& id) {
    const auto before = connected(id);
    auto r = run(s_client(id), 20s, "");
    if (r.exit_code != 0) return false;
    for (int i = 0; i < 30; ++i) {
      if (connected(id) > before) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::int64_t connected(const std::string& id) const {
    return sql_int("SELECT count(*) FROM security_events WHERE kind = 'connected' AND peer = '" + id + "'");
  }
  void revoke(const std::string& id) {
    // Revocation times have whole seconds: stay clear of the issue time.
    std::this_thread::sleep_for(1100ms);
    auto r = run(armored({"pki", "revoke", "--id", id, "--dir", pki()}), 60s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Seconds until gateway `id` is refused (negative: still accepted after 15 s).
  double seconds_until_refused(const std::string& id) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < 15s) {
      if (!connects(id)) return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::this_thread::sleep_for(200ms);
    }
    return -1;
  }
  std::string cloud_log() const { return slurp(dir() / "cloud1.out") + slurp(dir() / "cloud1.err"); }
};

TEST_F(CrlReloadTest, RevocationTakesEffectWithoutRestartAndClosesOpenConnection) {
  make_pki(1, {"gw1", "gw2"});
  auto cloud = start_cloud();
  ASSERT_TRUE(connects("gw1"));
  ASSERT_TRUE(connects("gw2"));

  // gw1 also holds an MQTT session open (subscribed to its downlink).
  if (!have_program("mosquitto_sub")) GTEST_SKIP() << "mosquitto_sub not installed";
  Subprocess::Options o;
  o.stdout_path = dir() / "held.out";
  o.stderr_path = dir() / "held.err";
  const auto before = connected("gw1");
  Subprocess held({"mosquitto_sub", "--cafile", pki() + "/root-ca.crt", "--cert", chain_for("gateway", "gw1"),
                   "--key", pki() + "/gateway/gw1.key", "-h", "localhost", "-p", std::to_string(cloud_port_),
                   "--tls-version", "tlsv1.3", "-q", "1", "-i", "gw1-held", "-t", "armored/v1/gw1/down", "-d"},
                  o);
  for (int i = 0; i < 100 && connected("gw1") == before; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_GT(connected("gw1"), before) << slurp(o.stderr_path) << slurp(o.stdout_path);
  ASSERT_TRUE(held.running());

  revoke("gw1");
  const double refused_after = seconds_until_refused("gw1");
  std::cout << "[ figures  ] revoked gateway refused " << refused_after << " s after `pki revoke` (poll 5 s)"
            << std::endl;
  ASSERT_GE(refused_after, 0) << "the running cloud still accepts the revoked gateway\n" << cloud_log();
  EXPECT_TRUE(connects("gw2")) << "a gateway that was not revoked must still connect";

  // Its open session was closed by the cloud when the CRL changed, and audited
  // (the audit row is committed by the storage thread a moment later).
  const std::string revoked_rows =
      "SELECT count(*) FROM security_events WHERE peer = 'gw1' AND reason = 'certificate revoked while connected'";
  for (int i = 0; i < 50 && sql_int(revoked_rows) == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sql_int(revoked_rows), 1) << cloud_log();
  EXPECT_NE(cloud_log().find("revoked serials"), std::string::npos) << cloud_log();
  EXPECT_EQ(cloud->stop(10s), 0);
}

TEST_F(CrlReloadTest, SighupReloadsAndABadCrlKeepsThePreviousOne) {
  make_pki(1, {"gw1", "gw2", "gw3"});
  cloud_tls_extra_ = "crl_check_interval_s = 0\n";  // SIGHUP only
  auto cloud = start_cloud();
  ASSERT_TRUE(connects("gw1"));

  revoke("gw1");
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(connects("gw1")) << "reloaded without SIGHUP although polling is off";
  cloud->signal(SIGHUP);
  EXPECT_GE(seconds_until_refused("gw1"), 0) << cloud_log();
  ASSERT_TRUE(cloud->running()) << "SIGHUP must not stop the cloud";

  // Damaged and forged CRLs: refused with a reason, the previous CRL stays.
  const auto crl = dir() / "pki" / "crl.pem";
  const std::string good = slurp(crl);
  std::string forged = good;
  const auto end = forged.find("-----END");
  ASSERT_NE(end, std::string::npos);
  forged[end - 6] = forged[end - 6] == 'A' ? 'B' : 'A';  // inside the signature
  for (const std::string& bad : {good.substr(0, good.size() / 2), forged, std::string("not a CRL\n")}) {
    std::ofstream(crl, std::ios::trunc) << bad;
    cloud->signal(SIGHUP);
    std::this_thread::sleep_for(500ms);
    EXPECT_FALSE(connects("gw1")) << "a bad CRL let a revoked gateway back in";
    EXPECT_TRUE(connects("gw2"));
  }
  const std::string log = cloud_log();
  EXPECT_NE(log.find("CRL signature does not verify"), std::string::npos) << log;
  EXPECT_NE(log.find("keeping the previous one"), std::string::npos) << log;
  std::ofstream(crl, std::ios::trunc) << good;
  revoke("gw3");  // a good CRL again: loads
  cloud->signal(SIGHUP);
  EXPECT_GE(seconds_until_refused("gw3"), 0) << cloud_log();
  EXPECT_EQ(cloud->stop(10s), 0);
}

}  // namespace
}  // namespace armored::pipeline_test

// Hardening found by an outside security test, each case with real peers:
// certificates made by plain `openssl` with what `armored pki` refuses to
// make, mosquitto_pub, paho and openssl s_client as clients, openssl
// s_server as a fake cloud or broker for `armored gateway` and the cloud's
// broker source. docs/security.md lists each defence with its test.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "peer_fixture.h"

namespace armored::pipeline_test {
namespace {
namespace fs = std::filesystem;
using armored::testing::Subprocess;

class HardeningTest : public PeerTest {
 protected:
  fs::path pki() const { return dir() / "pki"; }

  void write(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::trunc);
    f << text;
  }

  // A P-256 key and a certificate for it signed by `ca_crt`/`ca_key`, with
  // the given X.509 v3 extensions (OpenSSL config lines). Returns the
  // certificate path; the key is <name>.key beside it.
  fs::path openssl_leaf(const std::string& name, const fs::path& ca_crt, const fs::path& ca_key,
                        const std::string& extensions) {
    const auto key = dir() / (name + ".key"), csr = dir() / (name + ".csr"), crt = dir() / (name + ".crt"),
               ext = dir() / (name + ".ext");
    write(ext, "[v3]\n" + extensions);
    auto r = run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key.string(), "-subj", "/CN=" + name, "-out", csr.string()},
                 30s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", ca_crt.string(), "-CAkey", ca_key.string(),
             "-set_serial", std::to_string(1000 + serial_++), "-days", "30", "-sha256", "-extfile", ext.string(),
             "-extensions", "v3", "-out", crt.string()},
            30s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return crt;
  }
  // Signed by this PKI's issuing CA (whose key an attacker would not have:
  // these stand for what a careless or compromised CA operator could make).
  fs::path issued_by_fleet(const std::string& name, const std::string& extensions) {
    return openssl_leaf(name, pki() / "issuing-ca.crt", pki() / "private" / "issuing-ca.key", extensions);
  }
  // A self-signed root of another CA and a server certificate from it.
  fs::path other_ca_server(const std::string& name) {
    const auto key = dir() / "other-root.key", crt = dir() / "other-root.crt";
    if (!fs::exists(crt)) {
      auto r = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key.string(), "-out", crt.string(), "-subj", "/CN=Other Root", "-days", "30",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
                   30s);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return openssl_leaf(name, crt, key,
                        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
  }

  static std::string key_of(const fs::path& crt) { return fs::path(crt).replace_extension(".key").string(); }

  // mosquitto_pub over TLS 1.3 with any certificate file and key.
  armored::testing::RunResult mosquitto(const fs::path& cert, const fs::path& key, const std::string& topic,
                                        const std::string& payload_file, const std::string& client_id) {
    return run({"mosquitto_pub", "--cafile", (pki() / "root-ca.crt").string(), "--cert", cert.string(), "--key",
                key.string(), "-h", "localhost", "-p", std::to_string(cloud_port_), "--tls-version", "tlsv1.3",
                "-q", "1", "-i", client_id, "-t", topic, "-f", payload_file},
               30s);
  }

  std::string events() { return sql("SELECT kind, reason, peer, detail FROM security_events"); }

  int serial_ = 0;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

// ---- 3. A CA certificate is never an end-entity identity ----

TEST_F(HardeningTest, CaCertificateWithGatewaySanIsRefused) {
  if (!have_program("mosquitto_pub") || !have_program("openssl")) GTEST_SKIP() << "mosquitto_pub/openssl missing";
  make_pki(1);
  auto cloud = start_cloud();
  // CA:TRUE, clientAuth and a gateway SAN, signed by the fleet's issuing CA.
  const auto ca_gw = issued_by_fleet("ca-gw1",
                                     "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\n"
                                     "extendedKeyUsage=clientAuth\nsubjectAltName=URI:urn:armored:gateway:gw1\n");
  // `armored pki verify` refuses it too.
  auto v = run(armored({"pki", "verify", "--dir", pki().string(), ca_gw.string()}), 30s);
  EXPECT_NE(v.exit_code, 0) << v.out;
  EXPECT_NE((v.out + v.err).find("CA certificate"), std::string::npos) << v.out << v.err;

  write(dir() / "x.bin", "x");
  auto r = mosquitto(ca_gw, key_of(ca_gw), "armored/v1/gw1/up", (dir() / "x.bin").string(), "gw1");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  auto s = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3", "-CAfile",
                (pki() / "root-ca.crt").string(), "-cert", ca_gw.string(), "-key", key_of(ca_gw), "-cert_chain",
                (pki() / "issuing-ca.crt").string(), "-servername", "localhost"},
               20s, "");
  EXPECT_EQ(wait_events("kind = 'failed_handshake' AND reason = 'ca_as_end_entity'", 2), 2) << events();
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind = 'connected'"), 0) << events();
  stop_cloud(cloud);
}

// ---- 4. The SAN's role decides what a connection may do ----

TEST_F(HardeningTest, RoleInSanMustMatchWhatTheConnectionDoes) {
  if (!have_program("mosquitto_pub") || !have_program("openssl")) GTEST_SKIP() << "mosquitto_pub/openssl missing";
  make_pki(2);
  auto got = capture(2);
  ASSERT_EQ(got.size(), 2u);
  auto it = got.begin();
  const std::string dev_a = device_id_for_kid(it->first);
  const Captured& a = it->second;
  ++it;
  const std::string dev_b = device_id_for_kid(it->first);
  const Captured& b = it->second;
  auto cloud = start_cloud();
  const std::string leaf_ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=clientAuth\n";

  // (a) A device certificate named like a gateway does not act as that gateway.
  const auto dev_gw1 = issued_by_fleet("device-gw1", leaf_ext + "subjectAltName=URI:urn:armored:device:gw1\n");
  auto file = (dir() / "a.bin").string();
  write_bytes(file, batch_of({a.announcement, a.uplinks[0]}));
  auto r = mosquitto(dev_gw1, key_of(dev_gw1), "armored/v1/gw1/up", file, "gw1");
  EXPECT_EQ(wait_events("kind = 'acl_denied' AND reason = 'role mismatch' AND peer = 'gw1'", 1), 1) << events();

  // (b) A gateway certificate named like an enrolled device is refused too.
  const auto gw_dev = issued_by_fleet("gw-dev", leaf_ext + "subjectAltName=URI:urn:armored:gateway:" + dev_a + "\n");
  r = mosquitto(gw_dev, key_of(gw_dev), "armored/v1/" + dev_a + "/up", file, dev_a);
  EXPECT_EQ(wait_events("kind = 'acl_denied' AND reason = 'role mismatch' AND peer = '" + dev_a + "'", 1), 1)
      << events();

  // (c) A genuine device may send only its own envelopes: device A
  // publishing device B's on its own topic is closed, nothing stored.
  auto fb = (dir() / "b.bin").string();
  write_bytes(fb, batch_of({b.announcement, b.uplinks[0]}));
  r = mosquitto(pki() / "device" / (dev_a + ".fullchain.pem"), pki() / "device" / (dev_a + ".key"),
                "armored/v1/" + dev_a + "/up", fb, dev_a);
  EXPECT_EQ(wait_events("kind = 'acl_denied' AND reason = 'envelope of another device' AND peer = '" + dev_a + "'", 1),
            1)
      << events();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 0);

  // (d) Its own envelopes are stored, and so are B's through a gateway.
  r = mosquitto(pki() / "device" / (dev_a + ".fullchain.pem"), pki() / "device" / (dev_a + ".key"),
                "armored/v1/" + dev_a + "/up", file, dev_a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = publish("gateway", "gw1", "armored/v1/gw1/up", batch_of({b.announcement, b.uplinks[0]}), "via-gw1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(wait_for_stored(2, 10s)) << events();
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device) FROM readings"), 2);
  stop_cloud(cloud);
}

// The other side of the same rule: a gateway configured with an id that is
// not its certificate's would be refused every PUBLISH; it says so at start
// (exit 2) rather than running "disconnected".
TEST_F(HardeningTest, GatewayWhoseIdIsNotItsCertificatesRefusesToStart) {
  make_pki(1, {"gw1", "gw2"});
  write(dir() / "gateway.toml",
        "id = \"gw2\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = 8883\n"
        "ca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.fullchain.pem\"\nkey = \"pki/gateway/gw1.key\"\n"
        "[spool]\ndir = \"spool\"\n");
  auto r = run(armored({"gateway", "--config", (dir() / "gateway.toml").string()}), 30s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("gateway id 'gw2' does not match its certificate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("urn:armored:gateway:gw1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir() / "spool")) << "refused before it creates anything";
}

// A cloud that refuses TCP: the gateway says why, once, and keeps retrying.
TEST_F(HardeningTest, GatewayNamesWhyItCannotReachTheCloud) {
  make_pki(1);
  const int port = armored::testing::free_tcp_port();  // nothing listens there
  write(dir() / "gateway.toml",
        "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"127.0.0.1\"\nport = " +
            std::to_string(port) +
            "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.fullchain.pem\"\n"
            "key = \"pki/gateway/gw1.key\"\n[spool]\ndir = \"spool\"\n[backoff]\ninitial_ms = 50\nmax_ms = 100\n"
            "[status]\ninterval_s = 0\n");
  Subprocess::Options o;
  o.cwd = dir();
  o.stdout_path = dir() / "gw.out";
  o.stderr_path = dir() / "gw.err";
  Subprocess gw(armored({"gateway", "--config", "gateway.toml"}), o);
  const std::string line = "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused";
  EXPECT_FALSE(wait_for_text(dir() / "gw.err", line, 20s).empty()) << slurp(dir() / "gw.err");
  std::this_thread::sleep_for(2s);  // some twenty more attempts
  const std::string log = slurp(dir() / "gw.err");
  EXPECT_EQ(log.find(line), log.rfind(line)) << "once per outage, not per attempt:\n" << log;
  EXPECT_EQ(gw.stop(), 0);
}

TEST_F(HardeningTest, MqttClientIdIsRecordedAndCanBeRequiredToMatch) {
  if (!have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto_pub not installed";
  make_pki(1);
  auto cloud = start_cloud();
  auto r = publish("gateway", "gw1", "armored/v1/gw1/up", ByteSpan(), "someone-else");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(wait_events("kind = 'connected' AND peer = 'gw1' AND detail LIKE "
                        "'%client_id=someone-else (not the certificate id)%'",
                        1),
            1)
      << events();
  stop_cloud(cloud);

  // client_id_policy = "match": refused with CONNACK 2 and audited.
  cloud_extra_config_ = "[mqtt]\nclient_id_policy = \"match\"\n";
  cloud = start_cloud();
  r = publish("gateway", "gw1", "armored/v1/gw1/up", ByteSpan(), "not-gw1");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(wait_events("kind = 'acl_denied' AND reason = 'client id mismatch' AND peer = 'gw1'", 1), 1) << events();
  r = publish("gateway", "gw1", "armored/v1/gw1/up", ByteSpan(), "gw1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(wait_events("kind = 'connected' AND peer = 'gw1' AND detail LIKE '%client_id=gw1'", 1), 1) << events();
  stop_cloud(cloud);
}

// ---- 5. Files holding readings or secrets are owner-only ----

TEST_F(HardeningTest, DatabaseAndStateAreOwnerOnlyAndAnExposedDatabaseIsRefused) {
  const mode_t old_umask = ::umask(022);
  make_pki(1);
  auto cloud = start_cloud();
  auto gateway = start_gateway("gw1");
  ASSERT_EQ(wait_events("kind = 'connected' AND peer = 'gw1'", 1), 1) << events();
  for (const char* f : {"cloud.db", "cloud.db-wal", "cloud.db-shm", "armored-cloud.tickets"}) {
    ASSERT_TRUE(fs::exists(dir() / f)) << f;
    EXPECT_EQ(mode_of(dir() / f), 0600u) << f;
  }
  EXPECT_EQ(mode_of(dir() / "e3" / "registry.json"), 0600u);
  EXPECT_EQ(mode_of(dir() / "pki" / "gateway" / "gw1.key"), 0600u);
  // Gateway: spool and ticket directories owner-only, every file in them 0600.
  for (const char* d : {"spool-gw1", "tickets-gw1"}) {
    ASSERT_TRUE(fs::is_directory(dir() / d)) << d;
    EXPECT_EQ(mode_of(dir() / d), 0700u) << d;
    for (const auto& e : fs::recursive_directory_iterator(dir() / d)) {
      if (e.is_regular_file()) {
        EXPECT_EQ(mode_of(e.path()) & 077, 0u) << e.path();
      }
    }
  }
  gateway->stop();
  stop_cloud(cloud);
  EXPECT_EQ(mode_of(dir() / "cloud.e3state"), 0600u);

  // An existing database that others can read: refused at start (exit 2).
  ASSERT_EQ(::chmod(db().c_str(), 0644), 0);
  auto r = run(armored({"cloud", "--config", (dir() / "cloud.toml").string()}), 20s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  // file_permissions = "warn": starts, and says so.
  storage_toml_ += "file_permissions = \"warn\"\n";
  cloud = start_cloud();
  EXPECT_GT(cloud_port_, 0);
  stop_cloud(cloud);
  EXPECT_NE(slurp(dir() / "cloud2.err").find("chmod 600"), std::string::npos);
  ::umask(old_umask);
}

// ---- 6. Standard clients with the files `armored pki` writes ----

TEST_F(HardeningTest, LeafOnlyAndFullChainClientsConnect) {
  if (!have_program("mosquitto_pub") || !have_program("openssl")) GTEST_SKIP() << "mosquitto_pub/openssl missing";
  make_pki(1);
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const Captured& c = got.begin()->second;
  auto cloud = start_cloud();
  const auto leaf = pki() / "gateway" / "gw1.crt", full = pki() / "gateway" / "gw1.fullchain.pem",
             key = pki() / "gateway" / "gw1.key";
  ASSERT_TRUE(fs::exists(full));
  EXPECT_EQ(slurp(full), slurp(leaf) + slurp(pki() / "issuing-ca.crt"));
  auto file = (dir() / "batch.bin").string();
  write_bytes(file, batch_of({c.announcement, c.uplinks[0], c.uplinks[1]}));

  auto r = mosquitto(leaf, key, "armored/v1/gw1/up", file, "gw1");
  EXPECT_EQ(r.exit_code, 0) << "mosquitto_pub, leaf only: " << r.err;
  ASSERT_TRUE(wait_for_stored(2, 10s)) << events();
  r = mosquitto(full, key, "armored/v1/gw1/up", file, "gw1");
  EXPECT_EQ(r.exit_code, 0) << "mosquitto_pub, full chain: " << r.err;
  const bool paho = fs::exists("/usr/bin/python3") &&
                    run({"/usr/bin/python3", "-c", "import paho.mqtt.client"}, 20s).exit_code == 0;
  if (paho) {
    for (const auto& cert : {leaf, full}) {
      r = run({"/usr/bin/python3", armored::testing::source_path("tests/pipeline/paho_publish.py").string(),
               "localhost", std::to_string(cloud_port_), (pki() / "root-ca.crt").string(), cert.string(),
               key.string(), "armored/v1/gw1/up", file},
              40s);
      EXPECT_EQ(r.exit_code, 0) << "paho with " << cert << ": " << r.out << r.err;
    }
  }
  // openssl s_client with only -cert <leaf>: the handshake completes.
  auto s = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3", "-CAfile",
                (pki() / "root-ca.crt").string(), "-cert", leaf.string(), "-key", key.string(), "-servername",
                "localhost"},
               20s, "");
  const std::int64_t clients = paho ? 5 : 3;
  EXPECT_EQ(wait_events("kind = 'connected' AND peer = 'gw1'", clients), clients) << events() << s.out;
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind = 'failed_handshake'"), 0) << events();

  // Still anchored at the root: a leaf of another CA is refused as before.
  const auto stranger = other_ca_server("stranger");
  r = mosquitto(stranger, key_of(stranger), "armored/v1/gw1/up", file, "gw1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(wait_events("kind = 'failed_handshake' AND reason = 'unknown_ca'", 1), 1) << events();
  stop_cloud(cloud);
}

// ---- 2. A CertificateVerify that does not verify is named as such ----

// A key file that pairs the public key of `crt` with the private scalar of a
// fresh key. Stock clients check only that a key's public half matches the
// certificate, so `openssl s_client` loads it and signs its CertificateVerify
// with a key the certificate does not vouch for: a holder of the certificate
// without its key. Written as PKCS#8 PEM.
bool write_mismatched_key(const fs::path& crt, const fs::path& out) {
  FILE* f = std::fopen(crt.c_str(), "r");
  if (f == nullptr) return false;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return false;
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  unsigned char point[133];
  std::size_t point_len = 0;
  bool ok = EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_len) == 1;
  EVP_PKEY* other = ok ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256") : nullptr;
  BIGNUM* priv = nullptr;
  ok = other != nullptr && EVP_PKEY_get_bn_param(other, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY* forged = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  ok = ok && bld != nullptr && ctx != nullptr &&
       OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
       OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len) == 1 &&
       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1 &&
       (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
       EVP_PKEY_fromdata(ctx, &forged, EVP_PKEY_KEYPAIR, params) == 1;
  if (ok) {
    FILE* o = std::fopen(out.c_str(), "w");
    ok = o != nullptr && PEM_write_PrivateKey(o, forged, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (o != nullptr) std::fclose(o);
  }
  EVP_PKEY_free(forged);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(priv);
  EVP_PKEY_free(other);
  X509_free(cert);
  return ok;
}

TEST_F(HardeningTest, CertificateVerifySignedWithAnotherKeyIsAuditedAsSuch) {
  if (!have_program("mosquitto_pub") || !have_program("openssl")) GTEST_SKIP() << "mosquitto_pub/openssl missing";
  make_pki(1);
  auto cloud = start_cloud();
  const auto full = pki() / "gateway" / "gw1.fullchain.pem", forged = dir() / "gw1-forged.key";
  ASSERT_TRUE(write_mismatched_key(full, forged));
  write(dir() / "x.bin", "x");
  // The real peers: mosquitto_pub and openssl s_client, each presenting gw1's
  // genuine chain and signing with the wrong key.
  auto r = mosquitto(full, forged, "armored/v1/gw1/up", (dir() / "x.bin").string(), "gw1");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  auto s = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3", "-CAfile",
                (pki() / "root-ca.crt").string(), "-cert", full.string(), "-key", forged.string(), "-servername",
                "localhost"},
               20s, "");
  EXPECT_EQ(wait_events("kind = 'failed_handshake' AND reason = 'bad_certificate_verify'", 2), 2)
      << events() << s.out << s.err;
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE reason = 'protocol_error'"), 0) << events();
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind = 'connected'"), 0) << events();
  // The genuine key still works: the refusal was about the signature.
  r = mosquitto(full, pki() / "gateway" / "gw1.key", "armored/v1/gw1/up", (dir() / "x.bin").string(), "gw1");
  EXPECT_EQ(wait_events("kind = 'connected' AND peer = 'gw1'", 1), 1) << events() << r.err;
  stop_cloud(cloud);
}

// ---- 7. The gateway's (and the broker source's) view of the server ----

// `openssl s_server` on 127.0.0.1 port 0 with the given certificate.
class FakeServer {
 public:
  FakeServer(const fs::path& dir, const std::string& name, const fs::path& cert, const std::string& key,
             std::vector<std::string> extra) {
    const auto fifo = dir / (name + ".in");
    EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    fifo_fd_ = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    out_ = dir / (name + ".out");
    // -cert takes the first certificate of a file: the issuing CA goes in
    // -cert_chain (harmless for a certificate of another CA).
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert.string(),
                                     "-key", key, "-cert_chain", (dir / "pki" / "issuing-ca.crt").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess::Options o;
    o.stdout_path = out_;
    o.stderr_path = dir / (name + ".err");
    o.stdin_path = fifo;
    proc_ = std::make_unique<Subprocess>(argv, o);
    static const std::regex re("ACCEPT 127\\.0\\.0\\.1:(\\d+)");
    std::string text;
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      text = armored::testing::slurp(out_);
      std::smatch m;
      if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
      else std::this_thread::sleep_for(100ms);
    }
    EXPECT_GT(port_, 0) << text;
  }
  ~FakeServer() {
    proc_.reset();
    if (fifo_fd_ >= 0) ::close(fifo_fd_);
  }
  int port() const { return port_; }

 private:
  int fifo_fd_ = -1;
  int port_ = 0;
  fs::path out_;
  std::unique_ptr<Subprocess> proc_;
};

TEST_F(HardeningTest, GatewayAndBrokerSourceRefuseBadServerCertificates) {
  if (!have_program("openssl")) GTEST_SKIP() << "openssl not installed";
  make_pki(1, {"gw1", "cloud-ingest"});
  const std::string server_ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                 "extendedKeyUsage=serverAuth\n";
  auto issue = [&](std::vector<std::string> a) {
    auto r = run(armored(std::move(a)), 60s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  issue({"pki", "issue", "cloud", "--id", "elsewhere", "--dns", "elsewhere.example", "--dir", pki().string()});
  issue({"pki", "issue", "cloud", "--id", "revoked", "--dns", "localhost", "--ip", "127.0.0.1", "--dir",
         pki().string()});
  issue({"pki", "revoke", "--id", "revoked", "--dir", pki().string()});
  const fs::path fleet_cloud = pki() / "cloud" / "cloud.fullchain.pem";
  struct Case {
    std::string name, reason, extra_tls;
    fs::path cert;
    std::string key;
  };
  const auto other = other_ca_server("other-ca-cloud");
  const auto ca_cloud = issued_by_fleet("ca-cloud", "basicConstraints=critical,CA:TRUE\n"
                                                    "keyUsage=critical,digitalSignature,keyCertSign\n"
                                                    "extendedKeyUsage=serverAuth\n"
                                                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  const std::vector<Case> cases = {
      {"other-ca", "unknown_ca", "", other, key_of(other)},
      {"wrong-name", "hostname_mismatch", "", pki() / "cloud" / "elsewhere.fullchain.pem",
       (pki() / "cloud" / "elsewhere.key").string()},
      {"revoked", "revoked", "crl = \"pki/crl.pem\"\n", pki() / "cloud" / "revoked.fullchain.pem",
       (pki() / "cloud" / "revoked.key").string()},
      {"pin", "pin_mismatch", "pin_sha256 = [\"" + std::string(64, 'a') + "\"]\n", fleet_cloud,
       (pki() / "cloud" / "cloud.key").string()},
      {"ca-cert", "ca_as_end_entity", "", ca_cloud, key_of(ca_cloud)},
  };
  // One round per bad certificate: an s_server for each client path (TLS
  // 1.3 and 1.2-only for the gateway, 1.3 for the broker source), each
  // client in its own directory, then the refusal with its reason in the log.
  for (const auto& c : cases) {
    std::vector<std::unique_ptr<FakeServer>> servers;
    std::vector<Process> procs;
    std::vector<fs::path> logs;
    for (const std::string path : {"gw13", "gw12", "broker"}) {
      const std::string tag = c.name + "-" + path;
      const bool v12 = path == "gw12";
      servers.push_back(std::make_unique<FakeServer>(
          dir(), tag, c.cert, c.key, v12 ? std::vector<std::string>{"-tls1_2"} : std::vector<std::string>{}));
      const std::string port = std::to_string(servers.back()->port());
      const fs::path sub = dir() / tag;
      fs::create_directory(sub);
      fs::create_directory_symlink(pki(), sub / "pki");
      fs::create_directory_symlink(dir() / "e3", sub / "e3");
      Subprocess::Options o;
      o.cwd = sub;
      o.stdout_path = sub / "stdout";
      o.stderr_path = sub / "log";
      logs.push_back(sub / "log");
      if (path == "broker") {
        write(sub / "cloud.toml",
              "[listen]\naddress = \"127.0.0.1\"\nport = 0\n[tls]\nca = \"pki/root-ca.crt\"\n"
              "certificate = \"pki/cloud/cloud.crt\"\nintermediates = \"pki/issuing-ca.crt\"\n"
              "key = \"pki/cloud/cloud.key\"\ncrl = \"pki/crl.pem\"\n[e3]\ndir = \"e3\"\npki_dir = \"pki\"\n"
              "[status]\ninterval_s = 0\n[broker]\nurl = \"mqtts://localhost:" + port +
                  "\"\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/cloud-ingest.crt\"\n"
                  "key = \"pki/gateway/cloud-ingest.key\"\nbackoff_max_ms = 1000\n" + c.extra_tls);
        procs.push_back(std::make_unique<Subprocess>(armored({"cloud", "--config", "cloud.toml"}), o));
        continue;
      }
      write(sub / "gateway.toml",
            "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = " + port +
                "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.fullchain.pem\"\n"
                "key = \"pki/gateway/gw1.key\"\nmin_version = \"" + (v12 ? "1.2" : "1.3") + "\"\n" + c.extra_tls +
                "[backoff]\ninitial_ms = 200\nmax_ms = 1000\n[status]\ninterval_s = 0\n");
      procs.push_back(std::make_unique<Subprocess>(armored({"gateway", "--config", "gateway.toml"}), o));
    }
    for (const auto& log : logs) {
      EXPECT_FALSE(wait_for_text(log, "failed: " + c.reason, 20s).empty()) << log << ":\n" << slurp(log);
    }
  }

  // The positive control: the genuine cloud, pinned (its issuing CA's key)
  // and checked against the CRL, is accepted over 1.3 and 1.2.
  const auto spki = run({"sh", "-c",
                         "openssl x509 -in " + (pki() / "issuing-ca.crt").string() +
                             " -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -c1-64"},
                        20s);
  ASSERT_EQ(spki.exit_code, 0);
  std::string pin = spki.out.substr(0, 64);
  cloud_extra_config_.clear();
  storage_toml_ = "[storage]\nsqlite_path = \"cloud.db\"\n";
  cloud_tls_extra_ = "min_version = \"1.2\"\n";
  auto cloud = start_cloud();
  for (const char* v : {"1.3", "1.2"}) {
    const std::string tag = std::string("good-") + v;
    write(dir() / (tag + ".toml"),
          "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = " +
              std::to_string(cloud_port_) +
              "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.fullchain.pem\"\n"
              "key = \"pki/gateway/gw1.key\"\nticket_dir = \"t-" + tag + "\"\nmin_version = \"" + v +
              "\"\ncrl = \"pki/crl.pem\"\npin_sha256 = [\"" + pin + "\"]\n[spool]\ndir = \"s-" + tag +
              "\"\n[status]\ninterval_s = 0\n");
    Subprocess::Options o;
    o.cwd = dir();
    o.stdout_path = dir() / (tag + ".stdout");
    o.stderr_path = dir() / (tag + ".log");
    Subprocess gw(armored({"gateway", "--config", tag + ".toml"}), o);
    EXPECT_GE(wait_events("kind = 'connected' AND peer = 'gw1'", v == std::string("1.3") ? 1 : 2),
              v == std::string("1.3") ? 1 : 2)
        << slurp(dir() / (tag + ".log")) << events();
  }
  stop_cloud(cloud);
}

// ---- 1 and 2. Floods: connection slots and the audit trail ----

// A TCP connection to 127.0.0.1:port from `source` (another loopback address),
// or -1.
int connect_from(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::int64_t rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// What one thread of an attacker does, bounded by `until`: open idle
// sockets (held, closed at the end) or fail handshakes (garbage, then close).
struct Flood {
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> attempts{0};
  std::vector<std::thread> threads;
  std::vector<int> held;
  std::mutex mu;

  void idle(const std::string& source, int port, int count) {
    threads.emplace_back([this, source, port, count] {
      for (int i = 0; i < count && !stop; ++i) {
        int fd = connect_from(source, port);
        ++attempts;
        if (fd < 0) continue;
        std::lock_guard lk(mu);
        held.push_back(fd);
      }
    });
  }
  void failed_handshakes(const std::string& source, int port) {
    threads.emplace_back([this, source, port] {
      static const char kGarbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      while (!stop) {
        int fd = connect_from(source, port);
        ++attempts;
        if (fd < 0) continue;
        (void)!::write(fd, kGarbage, sizeof kGarbage - 1);
        char buf[256];
        (void)!::read(fd, buf, sizeof buf);  // the alert, or EOF
        ::close(fd);
      }
    });
  }
  void finish() {
    stop = true;
    for (auto& t : threads) t.join();
    threads.clear();
    for (int fd : held) ::close(fd);
    held.clear();
  }
  ~Flood() { finish(); }
};

TEST_F(HardeningTest, AGatewayConnectsAndPublishesWhileOneAddressFloods) {
  if (!have_program("mosquitto_pub")) GTEST_SKIP() << "mosquitto_pub not installed";
  make_pki(1);
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const Captured& c = got.begin()->second;
  // A listener small enough to fill: 50 slots, 10 per address.
  cloud_listen_extra_ = "max_connections = 50\nmax_connections_per_address = 10\n";
  cloud_extra_config_ = "[audit]\ninterval_s = 2\n";
  // ASan keeps up to 256 MiB of freed memory in quarantine, which would
  // measure the sanitizer, not the cloud: keep it small for this process.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string saved = asan ? asan : "";
  ::setenv("ASAN_OPTIONS", (saved + (saved.empty() ? "" : ":") + "quarantine_size_mb=8:allocator_release_to_os_interval_ms=100").c_str(), 1);
  auto cloud = start_cloud();
  if (asan) ::setenv("ASAN_OPTIONS", saved.c_str(), 1);
  else ::unsetenv("ASAN_OPTIONS");
  // The flood lasts 3 s in CI; ARMORED_FLOOD_SECONDS=60 makes it the long
  // benchmark of docs/tls.md (the bounds below still hold).
  const char* env_secs = std::getenv("ARMORED_FLOOD_SECONDS");
  const int flood_secs = env_secs ? std::max(3, std::atoi(env_secs)) : 3;
  std::this_thread::sleep_for(500ms);
  const std::int64_t rss_before = rss_kib(cloud->pid());
  auto file = (dir() / "batch.bin").string();
  write_bytes(file, batch_of({c.announcement, c.uplinks[0], c.uplinks[1]}));

  Flood flood;
  flood.idle("127.0.0.2", cloud_port_, 500);          // idle sockets: 10 held, the rest refused
  flood.failed_handshakes("127.0.0.3", cloud_port_);  // failed handshakes as fast as one thread goes
  flood.failed_handshakes("127.0.0.3", cloud_port_);
  std::this_thread::sleep_for(1s);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = publish("gateway", "gw1", "armored/v1/gw1/up", batch_of({c.announcement, c.uplinks[0], c.uplinks[1]}),
                   "legit");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(took, 2.0) << "the gateway waited " << took << " s";
  std::int64_t rss_flood = 0;
  for (int i = 0; i < flood_secs - 1; ++i) {
    std::this_thread::sleep_for(1s);
    rss_flood = std::max(rss_flood, rss_kib(cloud->pid()));
  }
  flood.finish();
  EXPECT_TRUE(wait_for_stored(2, 10s));
  std::this_thread::sleep_for(2500ms);  // one more audit interval: the summaries
  const std::int64_t rows = sql_int("SELECT count(*) FROM security_events WHERE kind = 'failed_handshake'");
  const std::int64_t summarized =
      sql_int("SELECT count(*) FROM security_events WHERE kind = 'failed_handshake' AND detail LIKE '+%'");
  std::cout << "[ figures  ] flood: " << flood.attempts << " connection attempts in " << flood_secs << " s from 2 addresses; "
            << "legitimate gateway connected and published in " << took << " s; cloud RSS " << rss_before / 1024
            << " -> " << rss_flood / 1024 << " MiB; failed_handshake rows " << rows << " (" << summarized
            << " summaries)\n"
            << sql("SELECT reason || ' ' || peer || ': ' || count(*) FROM security_events GROUP BY reason, peer")
            << std::endl;
  EXPECT_GT(flood.attempts, 500);
  // Every reason and address has rows, a bounded number of them.
  EXPECT_GE(sql_int("SELECT count(*) FROM security_events WHERE reason LIKE 'connection limit%' AND "
                    "(peer = '127.0.0.2' OR detail LIKE '127.0.0.2:%')"),
            1);
  EXPECT_GE(summarized, 1);
  // Bounds: at most max_rows_per_interval (200) rows per 2 s interval; the
  // flood's own rows are a handful per (reason, address) plus a summary.
  EXPECT_LT(rows, 60 + 10 * flood_secs) << "audit rows per interval are bounded";
  // The ASan build's allocator grows to a plateau (+~160 MiB after 26,000
  // attempts over 30 s, measured); a release cloud stays under 128 MiB in
  // all (99 MiB after 421,685 attempts, docs/tls.md).
  EXPECT_LT(rss_flood - rss_before, 192 * 1024) << "RSS grew by more than 192 MiB";
  auto h = stop_cloud(cloud);
  EXPECT_GT(h.failed, 100);
}

TEST_F(HardeningTest, OneIdentityCannotHoldEverySlotAndIdleClientsAreClosed) {
  if (!have_program("openssl") || !have_program("mosquitto_pub")) GTEST_SKIP() << "openssl/mosquitto_pub missing";
  make_pki(1, {"gw1", "gw2"});
  cloud_listen_extra_ = "max_connections = 6\nmax_connections_per_identity = 2\nhandshake_timeout_s = 1\n";
  cloud_extra_config_ = "[mqtt]\nmax_keep_alive_s = 2\nconnect_timeout_s = 1\n";
  auto cloud = start_cloud();
  const std::string port = std::to_string(cloud_port_);
  // gw1 holds connections with MQTT keep-alive 0: CONNECT, then silence.
  const std::string connect("\x10\x0f\x00\x04MQTT\x04\x02\x00\x00\x00\x03gw1", 17);
  write(dir() / "connect.bin", connect);
  std::vector<std::unique_ptr<Subprocess>> held;
  for (int i = 0; i < 4; ++i) {
    Subprocess::Options o;
    o.cwd = dir();
    o.stdin_path = dir() / "connect.bin";
    o.stdout_path = dir() / ("held" + std::to_string(i) + ".out");
    o.stderr_path = dir() / ("held" + std::to_string(i) + ".err");
    held.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-CAfile",
                                 (pki() / "root-ca.crt").string(), "-cert",
                                 (pki() / "gateway" / "gw1.fullchain.pem").string(), "-key",
                                 (pki() / "gateway" / "gw1.key").string(), "-servername", "localhost", "-ign_eof"},
        o));
    std::this_thread::sleep_for(200ms);
  }
  // Only two of gw1's four stay: each newer one replaced the oldest.
  EXPECT_EQ(wait_events("reason = 'identity connection limit' AND peer = 'gw1'", 2), 2) << events();
  // gw2 still gets in.
  auto r = publish("gateway", "gw2", "armored/v1/gw2/up", ByteSpan(), "gw2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Keep-alive 0 was replaced by the 2 s maximum: silent for 3 s, closed and audited.
  EXPECT_GE(wait_events("reason = 'keep-alive timeout' AND peer = 'gw1'", 2), 2) << events();
  // Other traces: a handshake that never starts, one abandoned, a TLS client
  // that never sends CONNECT.
  int idle = connect_from("127.0.0.2", cloud_port_);
  int gone = connect_from("127.0.0.3", cloud_port_);
  ::close(gone);
  Subprocess::Options o;
  o.stdin_path = fs::path();
  Subprocess silent({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-CAfile",
                     (pki() / "root-ca.crt").string(), "-cert", (pki() / "gateway" / "gw2.fullchain.pem").string(),
                     "-key", (pki() / "gateway" / "gw2.key").string(), "-servername", "localhost", "-ign_eof"},
                    o);
  EXPECT_EQ(wait_events("reason = 'handshake abandoned' AND detail LIKE '127.0.0.3:%'", 1), 1) << events();
  EXPECT_EQ(wait_events("reason = 'handshake timeout' AND detail LIKE '127.0.0.2:%'", 1), 1) << events();
  EXPECT_EQ(wait_events("reason = 'mqtt connect timeout' AND peer = 'gw2'", 1), 1) << events();
  ::close(idle);
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::pipeline_test

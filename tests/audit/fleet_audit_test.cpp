// `armored audit fleet` on PKIs made with `armored pki`, flaws planted with
// the openssl CLI, and connection facts recorded by a real `armored cloud`
// that accepted a revoked gateway because its CRL was loaded before the
// revocation.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "audit/fleet_cert.h"
#include "store/store.h"
#include "cloud_peer.h"
#include "test_certs.h"

namespace armored::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Audit {
  int exit_code = -1;
  json report;
  std::string text;
  std::string err;
};

Audit audit_fleet(std::vector<std::string> args, bool as_json = true) {
  std::vector<std::string> argv = {armored_binary().string()};
  if (as_json) argv.push_back("--json");
  argv.insert(argv.end(), {"audit", "fleet"});
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, std::chrono::seconds(60));
  Audit a{r.exit_code, json(), r.out, r.err};
  if (as_json && (r.exit_code == 0 || r.exit_code == 1)) {
    a.report = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(a.report.is_discarded()) << r.out << r.err;
  }
  return a;
}

// "rule path" for every finding.
std::multiset<std::string> findings(const json& report) {
  std::multiset<std::string> out;
  for (const auto& f : report["findings"]) {
    out.insert(f["rule"].get<std::string>() + " " + f["location"]["path"].get<std::string>());
  }
  return out;
}

const json* finding(const json& report, const std::string& rule) {
  for (const auto& f : report["findings"])
    if (f["rule"] == rule) return &f;
  return nullptr;
}

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
}

// A certificate for `key` signed by the PKI's issuing CA with the openssl
// CLI, outside `armored pki` (so not in pki.json).
void sign_outside(const std::string& pki, const std::string& key, const std::string& cn, const std::string& out,
                  const std::string& digest) {
  openssl({"req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", out + ".csr"});
  openssl({"x509", "-req", "-in", out + ".csr", "-CA", pki + "/issuing-ca.crt", "-CAkey",
           pki + "/private/issuing-ca.key", "-set_serial", "0x5EED" + std::to_string(cn.size()), "-days", "100",
           "-" + digest, "-out", out});
  fs::remove(out + ".csr");
}

TEST(AuditFleet, CleanFleetWithEveryIdentityConnectedReportsNothing) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {"dev-1"});
  ASSERT_TRUE(cloud.start());
  EXPECT_TRUE(cloud.connect_as("gateway", "gw-1"));
  EXPECT_TRUE(cloud.connect_as("device", "dev-1"));
  ASSERT_EQ(cloud.connections_of("gw-1", 1).size(), 1u);
  ASSERT_EQ(cloud.connections_of("dev-1", 1).size(), 1u);
  EXPECT_EQ(cloud.stop(), 0);

  auto a = audit_fleet({"--pki", cloud.pki(), "--db", (dir / "cloud.db").string()});
  EXPECT_EQ(a.exit_code, 0) << a.text << a.err;
  EXPECT_EQ(findings(a.report), std::multiset<std::string>{}) << a.report.dump(1);
  EXPECT_EQ(a.report["details"]["connections"], 2);
  // Without a store the connection checks are skipped, not failed.
  auto b = audit_fleet({"--pki", cloud.pki()});
  EXPECT_EQ(b.exit_code, 0);
  EXPECT_EQ(findings(b.report), std::multiset<std::string>{});
  // The event names the serial the PKI issued to gw-1.
  auto events = cloud.connections_of("gw-1", 1);
  auto listed = json::parse(cloud.armored({"--json", "pki", "list", "--dir", cloud.pki()}));
  std::string serial;
  for (const auto& i : listed["identities"])
    if (i["id"] == "gw-1") serial = i["serial"];
  ASSERT_FALSE(serial.empty()) << listed.dump(1);
  EXPECT_NE(events[0].detail.find("serial=" + serial), std::string::npos) << events[0].detail;
  EXPECT_NE(events[0].detail.find("uri=urn:armored:gateway:gw-1"), std::string::npos) << events[0].detail;
}

// Connection rows spell the serial as the cloud that wrote them did (before
// one spelling, the TLS layer dropped a leading zero). The audit matches
// them with pki.json whatever the spelling: here, lower case with extra
// leading zeros, after the identity's revocation.
TEST(AuditFleet, ARowSpellingTheSerialAnotherWayStillMatchesItsCertificate) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // revocation times have whole seconds
  cloud.armored({"pki", "revoke", "--id", "gw-1", "--dir", cloud.pki()});
  auto listed = json::parse(cloud.armored({"--json", "pki", "list", "--dir", cloud.pki()}));
  std::string serial;
  for (const auto& i : listed["identities"])
    if (i["id"] == "gw-1") serial = i["serial"];
  ASSERT_FALSE(serial.empty()) << listed.dump(1);
  std::string other = "00";
  for (char c : serial) other.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  {
    auto db = store::open_sqlite(dir / "cloud.db");
    ASSERT_TRUE(db) << db.error().message;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() + 2000;
    const std::vector<store::SecurityEvent> rows{
        {now, store::EventKind::kConnected, "full handshake", "gw-1",
         "serial=" + other + " uri=urn:armored:gateway:gw-1 from=127.0.0.1:5000 TLSv1.3 TLS_AES_128_GCM_SHA256"}};
    ASSERT_TRUE((*db)->record_events(rows));
  }
  auto a = audit_fleet({"--pki", cloud.pki(), "--db", (dir / "cloud.db").string()});
  EXPECT_EQ(a.exit_code, 1) << a.text << a.err;
  EXPECT_EQ(findings(a.report), std::multiset<std::string>{"fleet-revoked-connected gateway/gw-1.crt"})
      << a.report.dump(1);
}

TEST(AuditFleet, ReportsEachPlantedFlawWithItsFinding) {
  TempDir dir;
  CloudPeer cloud(dir);
  const std::string pki = cloud.pki();
  cloud.make_pki({"gw-ok", "gw-revoked", "gw-idle"}, {"dev-a", "dev-b", "dev-c"});
  cloud.armored({"pki", "issue", "device", "--id", "dev-soon", "--days", "10", "--dir", pki});
  // Enrolled too: the cloud refuses a device identity it has no E3 key for.
  cloud.armored({"enroll", "--pki", pki, "--e3", (dir / "e3").string()});
  ASSERT_TRUE(cloud.start());  // loads crl.pem now: nothing revoked yet

  for (auto [role, id] : {std::pair{"gateway", "gw-ok"}, {"gateway", "gw-revoked"}, {"device", "dev-a"},
                          {"device", "dev-c"}, {"device", "dev-soon"}}) {
    EXPECT_TRUE(cloud.connect_as(role, id)) << id;
    EXPECT_EQ(cloud.connections_of(id, 1).size(), 1u) << id;
  }
  // Revoke gw-revoked a second later (revocation times have whole seconds),
  // then connect again: the running cloud still holds the old CRL.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  cloud.armored({"pki", "revoke", "--id", "gw-revoked", "--dir", pki});
  EXPECT_TRUE(cloud.connect_as("gateway", "gw-revoked"));
  ASSERT_EQ(cloud.connections_of("gw-revoked", 2).size(), 2u) << "the cloud refused the revoked gateway";
  EXPECT_EQ(cloud.stop(), 0);

  // dev-a's certificate and key installed as dev-b too.
  fs::copy_file(pki + "/device/dev-a.crt", pki + "/device/dev-b.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(pki + "/device/dev-a.key", pki + "/device/dev-b.key", fs::copy_options::overwrite_existing);
  // A second certificate for dev-c's key, signed by the issuing CA outside armored pki.
  sign_outside(pki, pki + "/device/dev-c.key", "dev-c-clone", pki + "/device/dev-c-clone.crt", "sha256");
  // RSA-1024 signed with ECDSA-SHA1.
  openssl({"genrsa", "-out", (dir / "weak.key").string(), "1024"});
  sign_outside(pki, (dir / "weak.key").string(), "dev-weak", pki + "/device/dev-weak.crt", "sha1");
  // Expired yesterday, signed by the issuing CA.
  CertSpec old;
  old.common_name = "dev-old";
  old.not_before_days = -60;
  old.not_after_days = -1;
  CertFiles issuing{pki + "/issuing-ca.crt", pki + "/private/issuing-ca.key"};
  auto made = make_cert(dir.path(), "dev-old", old, &issuing);
  fs::copy_file(made.cert, pki + "/device/dev-old.crt");

  auto a = audit_fleet({"--pki", pki, "--db", (dir / "cloud.db").string()});
  EXPECT_EQ(a.exit_code, 1) << a.err;
  EXPECT_EQ(findings(a.report),
            (std::multiset<std::string>{
                "fleet-shared-certificate device/dev-a.crt", "fleet-identity-mismatch device/dev-b.crt",
                "fleet-index-mismatch device/dev-b.crt", "fleet-shared-key device/dev-c-clone.crt",
                "fleet-weak-key device/dev-weak.crt", "fleet-weak-signature device/dev-weak.crt",
                "fleet-cert-expiring device/dev-soon.crt", "fleet-cert-expired device/dev-old.crt",
                "fleet-revoked-connected gateway/gw-revoked.crt", "fleet-never-connected gateway/gw-idle.crt",
                "fleet-never-connected device/dev-b.crt"}))
      << a.report.dump(1);

  const json* shared = finding(a.report, "fleet-shared-certificate");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ((*shared)["severity"], "critical");
  EXPECT_NE((*shared)["evidence"].get<std::string>().find("device/dev-a.crt, device/dev-b.crt"), std::string::npos);
  const json* key = finding(a.report, "fleet-shared-key");
  ASSERT_NE(key, nullptr);
  EXPECT_NE((*key)["evidence"].get<std::string>().find("device/dev-c.crt"), std::string::npos) << *key;
  const json* revoked = finding(a.report, "fleet-revoked-connected");
  ASSERT_NE(revoked, nullptr);
  EXPECT_EQ((*revoked)["severity"], "critical");
  EXPECT_NE((*revoked)["evidence"].get<std::string>().find("connected 1 time(s) after"), std::string::npos)
      << *revoked;
  for (auto [rule, text] : {std::pair{"fleet-weak-key", "RSA 1024 bits"}, {"fleet-weak-signature", "SHA1"},
                            {"fleet-cert-expiring", "days left"}, {"fleet-cert-expired", "notAfter"}}) {
    const json* f = finding(a.report, rule);
    ASSERT_NE(f, nullptr) << rule;
    EXPECT_NE((*f)["evidence"].get<std::string>().find(text), std::string::npos) << *f;
  }

  // The text report carries each finding's why and fix.
  auto text = audit_fleet({"--pki", pki, "--db", (dir / "cloud.db").string()}, false);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.text.find("fleet-revoked-connected"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("armored pki revoke"), std::string::npos) << text.text;

  // --fail-on moves the exit code, --expiry-days the window; SARIF lists the rules.
  EXPECT_EQ(audit_fleet({"--pki", pki, "--db", (dir / "cloud.db").string(), "--fail-on", "none"}).exit_code, 0);
  auto narrow = audit_fleet({"--pki", pki, "--expiry-days", "5", "--fail-on", "critical"});
  EXPECT_EQ(narrow.exit_code, 1);  // the shared certificate is critical
  EXPECT_EQ(findings(narrow.report).count("fleet-cert-expiring device/dev-soon.crt"), 0u);
  auto sarif = run({armored_binary().string(), "audit", "fleet", "--pki", pki, "--sarif"});
  auto sj = json::parse(sarif.out, nullptr, false);
  ASSERT_FALSE(sj.is_discarded()) << sarif.out;
  EXPECT_EQ(sj["version"], "2.1.0");
  EXPECT_EQ(sj["runs"][0]["tool"]["driver"]["rules"].size(), 18u);
}

TEST(AuditFleet, CasExpiringWithinTheWindow) {
  TempDir dir;
  const std::string pki = (dir / "pki").string();
  ASSERT_EQ(run({armored_binary().string(), "pki", "init", "--dir", pki, "--days", "20"}).exit_code, 0);
  auto a = audit_fleet({"--pki", pki});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_EQ(findings(a.report), (std::multiset<std::string>{"fleet-ca-expiring issuing-ca.crt",
                                                            "fleet-ca-expiring root-ca.crt"}))
      << a.report.dump(1);
  EXPECT_EQ(audit_fleet({"--pki", pki, "--expiry-days", "19"}).exit_code, 0);
}

TEST(AuditFleet, RefusesBadInputWithOneLine) {
  TempDir dir;
  const std::string pki = (dir / "pki").string();
  ASSERT_EQ(run({armored_binary().string(), "pki", "init", "--dir", pki}).exit_code, 0);
  auto missing = audit_fleet({"--pki", (dir / "nope").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no such directory"), std::string::npos) << missing.err;
  auto nodb = audit_fleet({"--pki", pki, "--db", (dir / "absent.db").string()});
  EXPECT_EQ(nodb.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir / "absent.db")) << "a missing store must not be created";
  EXPECT_EQ(audit_fleet({"--pki", pki, "--db", "x.db", "--postgres", "dbname=x"}).exit_code, 2);
  auto empty = audit_fleet({"--pki", dir.path().string()});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("no PKI index"), std::string::npos) << empty.err;

  for (const std::string bad : {"{", "[]", "{\"format\": 2}", "{\"format\":1,\"crl_number\":1,\"identities\":[{}]}"}) {
    std::ofstream(pki + "/pki.json", std::ios::trunc) << bad;
    auto a = audit_fleet({"--pki", pki});
    EXPECT_EQ(a.exit_code, 2) << bad;
    EXPECT_NE(a.err.find("pki.json is damaged"), std::string::npos) << bad << ": " << a.err;
    EXPECT_EQ(std::count(a.err.begin(), a.err.end(), '\n'), 1) << a.err;
  }
}

TEST(AuditFleet, DamagedForgedAndOversizedFilesAreNamed) {
  TempDir dir;
  const std::string pki = (dir / "pki").string(), other = (dir / "other").string();
  for (const auto& p : {pki, other}) ASSERT_EQ(run({armored_binary().string(), "pki", "init", "--dir", p}).exit_code, 0);
  ASSERT_EQ(run({armored_binary().string(), "pki", "issue", "gateway", "--id", "gw-1", "--dir", pki}).exit_code, 0);

  // A CRL signed by another PKI's issuing CA is forged for this one.
  fs::copy_file(other + "/crl.pem", pki + "/crl.pem", fs::copy_options::overwrite_existing);
  auto forged = audit_fleet({"--pki", pki});
  EXPECT_EQ(findings(forged.report), std::multiset<std::string>{"fleet-crl-unusable crl.pem"});
  ASSERT_NE(finding(forged.report, "fleet-crl-unusable"), nullptr) << forged.report.dump(1);
  EXPECT_NE(finding(forged.report, "fleet-crl-unusable")->at("evidence").get<std::string>().find("does not verify"),
            std::string::npos);

  // Truncated CRL, then none at all.
  std::string crl = slurp(other + "/crl.pem");
  std::ofstream(pki + "/crl.pem", std::ios::trunc) << crl.substr(0, crl.size() / 2);
  EXPECT_EQ(findings(audit_fleet({"--pki", pki}).report), std::multiset<std::string>{"fleet-crl-unusable crl.pem"});
  fs::remove(pki + "/crl.pem");
  EXPECT_EQ(findings(audit_fleet({"--pki", pki}).report), std::multiset<std::string>{"fleet-crl-unusable crl.pem"});

  // A truncated certificate and an oversized one are skipped and named, not fatal.
  std::string cert = slurp(pki + "/gateway/gw-1.crt");
  std::ofstream(pki + "/gateway/gw-cut.crt") << cert.substr(0, cert.size() - 40);
  std::ofstream(pki + "/gateway/gw-big.crt") << std::string(70 * 1024, 'A');
  auto a = audit_fleet({"--pki", pki});
  std::string skipped = a.report["details"]["skipped"].dump();
  EXPECT_NE(skipped.find("gateway/gw-cut.crt"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("gateway/gw-big.crt"), std::string::npos) << skipped;
}

// The cloud on PostgreSQL: the same audit trail, read with --postgres.
TEST(AuditFleet, ReadsConnectionsFromAPostgresqlCloud) {
  const char* env = std::getenv("ARMORED_PG_DSN");
  const std::string dsn = env && *env ? env : "dbname=armored_test";
  PGconn* probe = PQconnectdb(dsn.c_str());
  const bool up = PQstatus(probe) == CONNECTION_OK;
  PQfinish(probe);
  const char* ci = std::getenv("CI");
  if (!up && !(ci && std::string(ci) == "true")) GTEST_SKIP() << "PostgreSQL unreachable with " << dsn;
  ASSERT_TRUE(up) << "PostgreSQL unreachable with " << dsn << " (scripts/start-services.sh starts it)";
  const std::string schema = "armored_audit_" + std::to_string(::getpid());

  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1", "gw-2"}, {});
  ASSERT_TRUE(cloud.start("backend = \"postgresql\"\npostgresql_conninfo = \"" + dsn +
                          "\"\npostgresql_schema = \"" + schema + "\"\n"));
  EXPECT_TRUE(cloud.connect_as("gateway", "gw-1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the storage thread commits
  EXPECT_EQ(cloud.stop(), 0);
  auto a = audit_fleet({"--pki", cloud.pki(), "--postgres", dsn, "--postgres-schema", schema});
  EXPECT_EQ(a.exit_code, 0) << a.err;  // never-connected is low, below the default threshold
  EXPECT_EQ(findings(a.report), std::multiset<std::string>{"fleet-never-connected gateway/gw-2.crt"})
      << a.report.dump(1);
  EXPECT_EQ(a.report["details"]["connections"], 1);

  PGconn* c = PQconnectdb(dsn.c_str());
  PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE").c_str()));
  PQfinish(c);
}

TEST(FleetCertParsing, NegativeInputsAreErrorsNotCrashes) {
  EXPECT_FALSE(audit::read_certificate(""));
  EXPECT_FALSE(audit::read_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  EXPECT_FALSE(audit::read_crl("not a crl"));
  EXPECT_FALSE(audit::read_crl("-----BEGIN X509 CRL-----\n////\n-----END X509 CRL-----\n"));
}

}  // namespace
}  // namespace armored::testing

// `armored pki` end to end: the real program, checked with the real openssl
// command. Covers the acceptance list of the PKI: chains verify, EKU and SAN
// are right, revocations reach the CRL, keys are 0600 and never printed, and
// every bad input exits 2 with one line and changes no file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "pki_test_util.h"

namespace armored::pki::test {
namespace {

using armored::testing::RunResult;
using armored::testing::TempDir;
using nlohmann::json;

class PkiCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(armored::testing::armored_binary())) GTEST_SKIP() << "armored not built";
    if (!armored::testing::have_program("openssl")) GTEST_SKIP() << "openssl command not installed";
  }

  // Runs `armored args...`, keeping every byte it printed for the leak check.
  RunResult armored(std::vector<std::string> args) {
    args.insert(args.begin(), armored::testing::armored_binary().string());
    auto r = armored::testing::run(args, std::chrono::seconds(120));
    transcript_ += r.out + r.err;
    return r;
  }
  // Runs `armored args...` and requires success.
  RunResult must(std::vector<std::string> args) {
    auto r = armored(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.out << r.err;
    return r;
  }
  RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    return armored::testing::run(args);
  }
  std::string p() const { return (td_ / "p").string(); }

  TempDir td_;
  std::string transcript_;
};

std::vector<fs::path> files_with(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  return out;
}

TEST_F(PkiCli, IssuedCertificatesVerifyWithOpensslAndCarryTheRightEkuAndSan) {
  ASSERT_EQ(must({"pki", "init", "--dir", p(), "--name", "Test Fleet"}).exit_code, 0);
  auto cloud = armored({"--json", "pki", "issue", "cloud", "--id", "cloud-1", "--dns", "localhost",
                        "--ip", "127.0.0.1", "--dir", p()});
  ASSERT_EQ(cloud.exit_code, 0) << cloud.err;
  auto cloud_json = json::parse(cloud.out);
  EXPECT_EQ(cloud_json["role"], "cloud");
  EXPECT_EQ(cloud_json["dns"], json::array({"localhost"}));
  ASSERT_EQ(must({"pki", "issue", "gateway", "--id", "gw-1", "--dir", p()}).exit_code, 0);
  auto fleet = armored({"--json", "pki", "fleet", "--count", "12", "--dir", p()});
  ASSERT_EQ(fleet.exit_code, 0) << fleet.err;
  EXPECT_EQ(json::parse(fleet.out)["count"], 12);

  auto root = (td_ / "p" / "root-ca.crt").string();
  auto issuing = (td_ / "p" / "issuing-ca.crt").string();
  auto certs = files_with(td_ / "p", ".crt");
  ASSERT_EQ(certs.size(), 2u + 14u);  // two CA certificates, 14 identities
  for (const auto& crt : certs) {
    auto v = openssl({"verify", "-CAfile", root, "-untrusted", issuing, crt.string()});
    EXPECT_EQ(v.exit_code, 0) << crt << ": " << v.out << v.err;
    auto v2 = openssl({"verify", "-CAfile", (td_ / "p" / "chain.pem").string(), crt.string()});
    EXPECT_EQ(v2.exit_code, 0) << crt << ": " << v2.out << v2.err;
    if (crt.parent_path() == td_ / "p") continue;
    auto text = openssl({"x509", "-in", crt.string(), "-noout", "-text"}).out;
    std::string id = crt.stem().string();
    std::string role = crt.parent_path().filename().string();
    EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << crt;
    if (role == "cloud") {
      EXPECT_NE(text.find("TLS Web Server Authentication"), std::string::npos) << crt;
      EXPECT_EQ(text.find("TLS Web Client Authentication"), std::string::npos) << crt;
      EXPECT_NE(text.find("DNS:localhost, IP Address:127.0.0.1"), std::string::npos) << text;
    } else {
      EXPECT_NE(text.find("TLS Web Client Authentication"), std::string::npos) << crt;
      EXPECT_EQ(text.find("TLS Web Server Authentication"), std::string::npos) << crt;
      EXPECT_NE(text.find("URI:urn:armored:" + role + ":" + id), std::string::npos) << text;
    }
    auto key = crt.parent_path() / (id + ".key");
    EXPECT_EQ(file_mode(key), 0600u) << key;
    // The key on disk belongs to this certificate.
    auto pub_from_key = openssl({"pkey", "-in", key.string(), "-pubout"}).out;
    auto pub_from_cert = openssl({"x509", "-in", crt.string(), "-noout", "-pubkey"}).out;
    EXPECT_EQ(pub_from_key, pub_from_cert) << key;
  }
  for (const auto& key : files_with(td_ / "p", ".key")) EXPECT_EQ(file_mode(key), 0600u) << key;
}

TEST_F(PkiCli, RevokedIdentityIsInTheCrlAndRejected) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"pki", "fleet", "--count", "5", "--prefix", "node", "--dir", p()}).exit_code, 0);
  auto rv = armored({"pki", "revoke", "--id", "node-0003", "--dir", p()});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;

  auto list = json::parse(armored({"--json", "pki", "list", "--dir", p()}).out);
  std::string serial;
  for (const auto& row : list["identities"]) {
    EXPECT_EQ(row["revoked"], row["id"] == "node-0003") << row;
    if (row["id"] == "node-0003") serial = row["serial"];
  }
  ASSERT_FALSE(serial.empty());
  EXPECT_EQ(list["summary"]["revoked"], 1);

  auto crl = openssl({"crl", "-in", (td_ / "p" / "crl.pem").string(), "-noout", "-text"});
  ASSERT_EQ(crl.exit_code, 0) << crl.err;
  EXPECT_NE(crl.out.find("Serial Number: " + serial), std::string::npos) << crl.out;
  EXPECT_NE(crl.out.find("Next Update:"), std::string::npos);
  EXPECT_NE(crl.out.find("Issuer: CN = Armored Fleet CA Issuing CA"), std::string::npos) << crl.out;
  // The CRL is signed by the issuing CA.
  auto crl_sig = openssl({"crl", "-in", (td_ / "p" / "crl.pem").string(), "-noout", "-CAfile",
                          (td_ / "p" / "issuing-ca.crt").string()});
  EXPECT_EQ(crl_sig.exit_code, 0) << crl_sig.err;
  EXPECT_NE(crl_sig.err.find("verify OK"), std::string::npos) << crl_sig.err;

  auto revoked_crt = (td_ / "p" / "device" / "node-0003.crt").string();
  auto osv = openssl({"verify", "-crl_check", "-CRLfile", (td_ / "p" / "crl.pem").string(), "-CAfile",
                      (td_ / "p" / "root-ca.crt").string(), "-untrusted",
                      (td_ / "p" / "issuing-ca.crt").string(), revoked_crt});
  EXPECT_NE(osv.exit_code, 0);
  EXPECT_NE((osv.out + osv.err).find("certificate revoked"), std::string::npos);

  auto refreshed = armored({"pki", "crl", "--dir", p()});
  EXPECT_EQ(refreshed.exit_code, 0) << refreshed.err;
  auto crl2 = openssl({"crl", "-in", (td_ / "p" / "crl.pem").string(), "-noout", "-text"});
  EXPECT_NE(crl2.out.find("Serial Number: " + serial), std::string::npos) << crl2.out;
  EXPECT_NE(crl2.out.find("X509v3 CRL Number: \n                3"), std::string::npos) << crl2.out;

  auto bad = armored({"pki", "verify", revoked_crt, "--dir", p()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("NOT acceptable"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("revoked on"), std::string::npos) << bad.out;
  auto bad_json = armored({"--json", "pki", "verify", revoked_crt, "--dir", p()});
  EXPECT_EQ(bad_json.exit_code, 1);
  auto j = json::parse(bad_json.out);
  EXPECT_EQ(j["acceptable"], false);
  EXPECT_EQ(j["serial"], serial);

  auto good = armored({"--json", "pki", "verify", (td_ / "p" / "device" / "node-0001.crt").string(), "--dir", p()});
  EXPECT_EQ(good.exit_code, 0) << good.out;
  EXPECT_EQ(json::parse(good.out)["acceptable"], true);
  EXPECT_EQ(json::parse(good.out)["role"], "device");
}

TEST_F(PkiCli, VerifyReportsExpiredNotYetValidAndWrongCa) {
  auto t = now();
  {
    auto pki = make_pki(td_ / "p", validity_for_days(t, 365));
    ASSERT_TRUE(pki.issue(request(Role::device, "old", valid_between(t - Days(40), t - Days(3))), t));
    ASSERT_TRUE(pki.issue(request(Role::device, "later", valid_between(t + Days(3), t + Days(40))), t));
    auto other = make_pki(td_ / "other", validity_for_days(t, 365), "Elsewhere CA");
    ASSERT_TRUE(other.issue(request(Role::gateway, "gw-x", validity_for_days(t, 30)), t));
  }
  auto expect_reason = [&](const fs::path& crt, const std::string& reason) {
    auto r = armored({"pki", "verify", crt.string(), "--dir", p()});
    EXPECT_EQ(r.exit_code, 1) << crt;
    EXPECT_NE(r.out.find(reason), std::string::npos) << r.out;
  };
  expect_reason(td_ / "p" / "device" / "old.crt", "certificate expired on " + format_time(t - Days(3)));
  expect_reason(td_ / "p" / "device" / "later.crt", "not valid until " + format_time(t + Days(3)));
  expect_reason(td_ / "other" / "gateway" / "gw-x.crt", "wrong CA: not issued by this PKI (issuer CN = Elsewhere CA Issuing CA)");
}

TEST_F(PkiCli, ListFlagsAndSummarises) {
  auto t = now();
  {
    auto pki = make_pki(td_ / "p", validity_for_days(t, 365));
    ASSERT_TRUE(pki.issue(request(Role::device, "soon", validity_for_days(t, 5)), t));
    ASSERT_TRUE(pki.issue(request(Role::cloud, "api", validity_for_days(t, 90)), t));
  }
  ASSERT_EQ(must({"pki", "revoke", "--id", "api", "--dir", p()}).exit_code, 0);
  auto r = armored({"pki", "list", "--dir", p()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, soon, api, summary;
  std::getline(lines, header);
  std::getline(lines, soon);
  std::getline(lines, api);
  std::getline(lines, summary);
  EXPECT_NE(header.find("SERIAL"), std::string::npos);
  EXPECT_NE(soon.find("expiring-soon"), std::string::npos) << soon;
  EXPECT_NE(api.find("revoked"), std::string::npos) << api;
  EXPECT_EQ(summary, "2 identities (1 cloud, 0 gateway, 1 device): 1 revoked, 1 expiring within 30 days, 0 expired");
}

TEST_F(PkiCli, DefaultValidityIsTenYearsForTheCaAndOneYearForIdentities) {
  auto t = now();
  auto init = json::parse(must({"--json", "pki", "init", "--dir", p()}).out);
  auto issued = json::parse(must({"--json", "pki", "issue", "gateway", "--id", "g", "--dir", p()}).out);
  auto days_from_now = [&](const json& when) {
    auto tp = parse_time(when.get<std::string>());
    EXPECT_TRUE(tp);
    return std::chrono::duration_cast<Days>(*tp - t + 1h).count();
  };
  EXPECT_EQ(days_from_now(init["not_after"]), 3650);
  EXPECT_EQ(days_from_now(issued["not_after"]), 365);
  auto root = read_cert(td_ / "p" / "root-ca.crt");
  ASSERT_TRUE(root);
  EXPECT_EQ(format_time(*parse_time(init["not_after"].get<std::string>())), init["not_after"]);
}

TEST_F(PkiCli, FleetReportsProgressOnStderr) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  auto r = armored({"pki", "fleet", "--count", "60", "--dir", p()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("issuing device identities: 60/60 (100%)\n"), std::string::npos) << r.err;
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 11);
  EXPECT_NE(r.out.find("Issued 60 device identities wearable-0001 .. wearable-0060"), std::string::npos) << r.out;
  EXPECT_EQ(files_with(td_ / "p" / "device", ".key").size(), 60u);
}

TEST_F(PkiCli, ASecondWriterIsRefusedWhileAFleetRuns) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  armored::testing::Subprocess::Options opts;
  opts.stderr_path = td_ / "fleet.err";
  armored::testing::Subprocess fleet({armored::testing::armored_binary().string(), "pki", "fleet",
                                      "--count", "1000", "--dir", p()},
                                     opts);
  // Wait until the run has started issuing (and so holds the lock); 1000
  // devices then keep it busy for seconds, far longer than one issue takes.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (armored::testing::slurp(td_ / "fleet.err").find("issuing device identities") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto second = armored({"pki", "issue", "gateway", "--id", "gw", "--dir", p()});
  auto status = fleet.wait(std::chrono::seconds(120));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("another armored pki command is changing"), std::string::npos) << second.err;
  EXPECT_EQ(must({"pki", "issue", "gateway", "--id", "gw", "--dir", p()}).exit_code, 0);
}

TEST_F(PkiCli, RepeatedSanFlagsTakeOneValueEach) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  auto r = must({"--json", "pki", "issue", "--dns", "localhost", "cloud", "--id", "c", "--ip", "127.0.0.1",
                 "--dns", "api.example.net", "--ip", "::1", "--dir", p()});
  auto j = json::parse(r.out);
  EXPECT_EQ(j["dns"], json::array({"localhost", "api.example.net"}));
  EXPECT_EQ(j["ip"], json::array({"127.0.0.1", "::1"}));
  auto text = openssl({"x509", "-in", (td_ / "p" / "cloud" / "c.crt").string(), "-noout", "-ext", "subjectAltName"}).out;
  EXPECT_NE(text.find("DNS:localhost, DNS:api.example.net, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            std::string::npos)
      << text;
}

TEST_F(PkiCli, HelpExplainsEverySubcommand) {
  for (const char* sub : {"init", "issue", "fleet", "revoke", "crl", "list", "verify"}) {
    auto r = armored({"pki", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--dir"), std::string::npos) << sub << r.out;
  }
  auto top = armored({"pki", "--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("fleet"), std::string::npos);
}

// The one-line, exit-2, nothing-changed contract for bad input.
class PkiCliBadInput : public PkiCli {
 protected:
  void expect_rejected(const std::vector<std::string>& args, const std::string& needle) {
    auto before = snapshot(td_.path());
    auto r = armored(args);
    std::string cmd;
    for (const auto& a : args) cmd += a.substr(0, 40) + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("armored: ", 0), 0u) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << cmd << "\nwanted: " << needle << "\ngot: " << r.err;
    EXPECT_TRUE(r.out.empty()) << cmd << "\n" << r.out;
    EXPECT_EQ(snapshot(td_.path()), before) << cmd << " changed files";
  }
};

TEST_F(PkiCliBadInput, EachGivesExitTwoOneLineAndChangesNothing) {
  ASSERT_EQ(must({"pki", "init", "--dir", p(), "--days", "100"}).exit_code, 0);
  ASSERT_EQ(armored({"pki", "issue", "device", "--id", "wearable-0002", "--dir", p()}).exit_code, 2)
      << "365 days must not fit into a 100-day CA";
  ASSERT_EQ(must({"pki", "issue", "device", "--id", "wearable-0002", "--days", "30", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"pki", "issue", "device", "--id", "gone", "--days", "30", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"pki", "revoke", "--id", "gone", "--dir", p()}).exit_code, 0);
  fs::create_directories(td_ / "busy");
  { std::ofstream(td_ / "busy" / "notes.txt") << "mine"; }
  auto big = td_ / "big.crt";
  { std::ofstream(big) << std::string(70000, 'A'); }
  auto junk = td_ / "junk.crt";
  { std::ofstream(junk) << "hello\n"; }
  std::string P = p();

  expect_rejected({"pki", "issue", "printer", "--id", "x", "--dir", P}, "printer");
  expect_rejected({"pki", "issue", "device", "--id", "a/b", "--dir", P}, "'/' at position 2");
  expect_rejected({"pki", "issue", "device", "--id", "a b", "--dir", P}, "0x20");
  expect_rejected({"pki", "issue", "device", "--id", ".hidden", "--dir", P}, "must not start with '.'");
  expect_rejected({"pki", "issue", "device", "--id", std::string(65, 'x'), "--dir", P}, "at most 64");
  expect_rejected({"pki", "issue", "device", "--id", "", "--dir", P}, "empty");
  expect_rejected({"pki", "issue", "device", "--id", "wearable-0002", "--days", "30", "--dir", P}, "already exists");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--days", "abc", "--dir", P}, "--days");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--days", "0", "--dir", P}, "--days");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--days", "-5", "--dir", P}, "--days");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--days", "1.5", "--dir", P}, "--days");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--days", "200", "--dir", P}, "after the issuing CA");
  expect_rejected({"pki", "issue", "cloud", "--id", "c", "--days", "30", "--dir", P}, "at least one --dns or --ip");
  expect_rejected({"pki", "issue", "cloud", "--id", "c", "--ip", "1.2.3.999", "--days", "30", "--dir", P}, "1.2.3.999");
  expect_rejected({"pki", "issue", "cloud", "--id", "c", "--dns", "a..b", "--days", "30", "--dir", P}, "a..b");
  expect_rejected({"pki", "issue", "device", "--id", "x", "--dns", "h", "--days", "30", "--dir", P}, "cloud identities only");
  expect_rejected({"pki", "issue", "device", "--id", "x"}, "--dir");
  expect_rejected({"pki", "init", "--dir", P}, "already holds a PKI");
  expect_rejected({"pki", "init", "--dir", (td_ / "busy").string()}, "not an empty directory");
  expect_rejected({"pki", "init", "--dir", (td_ / "new").string(), "--days", "abc"}, "--days");
  expect_rejected({"pki", "init", "--dir", (td_ / "new").string(), "--name", ""}, "--name");
  expect_rejected({"pki", "fleet", "--count", "0", "--dir", P}, "--count");
  expect_rejected({"pki", "fleet", "--count", "-3", "--dir", P}, "--count");
  expect_rejected({"pki", "fleet", "--count", "abc", "--dir", P}, "--count");
  expect_rejected({"pki", "fleet", "--count", "100001", "--dir", P}, "--count");
  expect_rejected({"pki", "fleet", "--count", "3", "--days", "30", "--dir", P}, "wearable-0002 already exists");
  expect_rejected({"pki", "fleet", "--count", "3", "--prefix", "a/b", "--days", "30", "--dir", P}, "--prefix");
  expect_rejected({"pki", "revoke", "--id", "nobody", "--dir", P}, "no identity nobody");
  expect_rejected({"pki", "revoke", "--id", "gone", "--dir", P}, "already revoked");
  expect_rejected({"pki", "list", "--dir", (td_ / "nothing").string()}, "no PKI in");
  expect_rejected({"pki", "verify", (td_ / "missing.crt").string(), "--dir", P}, "missing.crt");
  expect_rejected({"pki", "verify", big.string(), "--dir", P}, "larger than 65536 bytes");
  expect_rejected({"pki", "verify", junk.string(), "--dir", P}, "not a PEM certificate");
  expect_rejected({"pki"}, "'armored pki' needs a command: init, issue");
  expect_rejected({"pki", "bogus", "--dir", P}, "unknown command 'bogus' for 'armored pki'");
}

TEST_F(PkiCliBadInput, UnreadableCaKeyIsRejected) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  auto key = td_ / "p" / "private" / "issuing-ca.key";
  { std::ofstream(key, std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"; }
  expect_rejected({"pki", "issue", "device", "--id", "d", "--dir", p()}, "issuing-ca.key is not a PEM private key");
  expect_rejected({"pki", "fleet", "--count", "2", "--dir", p()}, "issuing-ca.key is not a PEM private key");
  expect_rejected({"pki", "revoke", "--id", "d", "--dir", p()}, "no identity d");
  fs::remove(key);
  expect_rejected({"pki", "issue", "device", "--id", "d", "--dir", p()}, "issuing CA key: cannot open");
  if (::geteuid() != 0) {  // root reads any file regardless of mode
    fs::copy_file(td_ / "p" / "private" / "root-ca.key", key);
    fs::permissions(key, fs::perms::none);
    expect_rejected({"pki", "issue", "device", "--id", "d", "--dir", p()}, "Permission denied");
  }
}

TEST_F(PkiCliBadInput, ExpiredCaMakesIssueFailNamingTheExpiry) {
  auto t = now();
  { make_pki(td_ / "p", valid_between(t - Days(800), t - Days(5))); }
  std::string when = format_time(t - Days(5));
  expect_rejected({"pki", "issue", "device", "--id", "d", "--dir", p()}, "certificate expired on " + when);
  expect_rejected({"pki", "fleet", "--count", "10", "--dir", p()}, "expired on " + when);
}

// Runs last in this file: every byte printed by any command above must be free of key material.
TEST_F(PkiCli, NoKeyMaterialInAnyOutput) {
  ASSERT_EQ(must({"pki", "init", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"--log-level", "trace", "pki", "issue", "device", "--id", "d1", "--dir", p()}).exit_code, 0);
  auto c1 = armored({"--log-level", "trace", "--json", "pki", "issue", "cloud", "--id", "c1", "--dns",
                     "localhost", "--dir", p()});
  ASSERT_EQ(c1.exit_code, 0) << c1.err;
  ASSERT_EQ(must({"--json", "pki", "fleet", "--count", "8", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"pki", "fleet", "--count", "8", "--prefix", "x", "--dir", p()}).exit_code, 0);
  ASSERT_EQ(must({"pki", "revoke", "--id", "d1", "--dir", p()}).exit_code, 0);
  armored({"pki", "list", "--dir", p()});
  armored({"--json", "pki", "list", "--dir", p()});
  armored({"pki", "verify", (td_ / "p" / "device" / "d1.crt").string(), "--dir", p()});
  armored({"pki", "verify", (td_ / "p" / "private" / "issuing-ca.key").string(), "--dir", p()});
  armored({"pki", "verify", (td_ / "p" / "device" / "d1.key").string(), "--dir", p()});
  armored({"pki", "issue", "device", "--id", "d1", "--dir", p()});

  ASSERT_FALSE(transcript_.empty());
  EXPECT_EQ(transcript_.find("PRIVATE KEY"), std::string::npos) << transcript_;
  auto keys = files_with(td_ / "p", ".key");
  ASSERT_GE(keys.size(), 20u);
  for (const auto& key : keys) {
    std::istringstream lines(armored::testing::slurp(key));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("-----", 0) == 0 || line.size() < 16) continue;
      EXPECT_EQ(transcript_.find(line), std::string::npos) << key << " leaked";
      EXPECT_EQ(transcript_.find(line.substr(0, 16)), std::string::npos) << key << " leaked";
    }
  }
}

}  // namespace
}  // namespace armored::pki::test

// The rules of `audit fleet` on crafted facts: each rule fires on exactly
// the situation it names and stays quiet on its look-alikes.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "audit/fleet_checks.h"

namespace armored::audit {
namespace {

using std::chrono::days;
using std::chrono::hours;

const SysSeconds kNow{std::chrono::seconds(1'800'000'000)};

CertFacts p256(const std::string& n) {
  CertFacts f;
  f.subject = "CN=" + n;
  f.serial = "AA" + n;
  f.fingerprint = "FP" + n;
  f.spki_sha256 = "KEY" + n;
  f.key_type = "EC";
  f.curve = "prime256v1";
  f.key_bits = 256;
  f.signature = "ecdsa-with-SHA256";
  f.not_before = kNow - days(10);
  f.not_after = kNow + days(300);
  return f;
}

FleetCert leaf(const std::string& id, const std::string& role = "device") {
  FleetCert c;
  c.identity = id;
  c.role = role;
  c.path = role + "/" + id + ".crt";
  c.indexed = true;
  c.facts = p256(id);
  c.facts.uri_identity = role == "cloud" ? "" : id;
  c.index_serial = c.facts.serial;
  return c;
}

FleetCert ca(const std::string& name) {
  FleetCert c = leaf(name, "ca");
  c.path = name + ".crt";
  c.facts.is_ca = true;
  c.facts.uri_identity.clear();
  c.facts.not_after = kNow + days(3000);
  return c;
}

FleetInventory clean_fleet() {
  FleetInventory inv;
  inv.cas = {ca("root"), ca("issuing")};
  inv.leaves = {leaf("cloud-1", "cloud"), leaf("gw-1", "gateway"), leaf("dev-1"), leaf("dev-2")};
  CrlFacts crl;
  crl.number = 1;
  crl.last_update = kNow - days(1);
  crl.next_update = kNow + days(29);
  inv.crl = crl;
  return inv;
}

ConnectionFacts all_connected() {
  ConnectionFacts c;
  c.source = "test";
  for (const char* id : {"gw-1", "dev-1", "dev-2"}) c.connections.push_back({kNow - hours(1), id, "AA" + std::string(id), "127.0.0.1:1"});
  return c;
}

std::vector<std::string> rules(const std::vector<Finding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.rule_id + " " + x.where.path);
  std::sort(out.begin(), out.end());
  return out;
}

FleetCheckOptions opts() { return {kNow, 30, 7}; }

TEST(FleetChecks, CleanFleetReportsNothing) {
  auto conns = all_connected();
  EXPECT_EQ(rules(check_fleet(clean_fleet(), &conns, opts())), std::vector<std::string>{});
  EXPECT_EQ(rules(check_fleet(clean_fleet(), nullptr, opts())), std::vector<std::string>{});
}

TEST(FleetChecks, SameCertificateUnderTwoIdentitiesIsOneSharedCertificateFinding) {
  auto inv = clean_fleet();
  inv.leaves[3].facts = inv.leaves[2].facts;  // dev-1's certificate copied to dev-2.crt
  auto got = rules(check_fleet(inv, nullptr, opts()));
  EXPECT_EQ(got, (std::vector<std::string>{"fleet-identity-mismatch device/dev-2.crt",
                                           "fleet-index-mismatch device/dev-2.crt",
                                           "fleet-shared-certificate device/dev-1.crt"}));
  auto f = check_fleet(inv, nullptr, opts());
  auto it = std::find_if(f.begin(), f.end(), [](const Finding& x) { return x.rule_id == "fleet-shared-certificate"; });
  ASSERT_NE(it, f.end());
  EXPECT_EQ(it->severity, Severity::kCritical);
  EXPECT_NE(it->evidence.find("device/dev-1.crt, device/dev-2.crt"), std::string::npos) << it->evidence;
}

TEST(FleetChecks, SameKeyInTwoCertificatesIsASharedKey) {
  auto inv = clean_fleet();
  inv.leaves[3].facts.spki_sha256 = inv.leaves[2].facts.spki_sha256;
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-shared-key device/dev-1.crt"});
  // A leaf reusing the issuing CA's key is the same finding.
  inv = clean_fleet();
  inv.leaves[1].facts.spki_sha256 = inv.cas[1].facts.spki_sha256;
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-shared-key issuing.crt"});
}

TEST(FleetChecks, ExpiryOfLeavesAndCasWithinAndOutsideTheWindow) {
  auto inv = clean_fleet();
  inv.leaves[2].facts.not_after = kNow + days(29);
  inv.leaves[3].facts.not_after = kNow - hours(1);
  inv.cas[0].facts.not_after = kNow + days(10);
  inv.cas[1].facts.not_after = kNow - days(1);
  inv.leaves[1].facts.not_after = kNow + days(31);  // outside the window
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())),
            (std::vector<std::string>{"fleet-ca-expired issuing.crt", "fleet-ca-expiring root.crt",
                                      "fleet-cert-expired device/dev-2.crt", "fleet-cert-expiring device/dev-1.crt"}));
  FleetCheckOptions wide = opts();
  wide.expiry_days = 60;
  auto wide_rules = rules(check_fleet(inv, nullptr, wide));
  EXPECT_EQ(std::count_if(wide_rules.begin(), wide_rules.end(),
                          [](const std::string& r) { return r.rfind("fleet-cert-expiring", 0) == 0; }),
            2);
}

TEST(FleetChecks, RevokedCertificatesAreNotReportedAsExpiring) {
  auto inv = clean_fleet();
  inv.leaves[2].facts.not_after = kNow + days(3);
  inv.leaves[2].revoked_at = kNow - days(1);
  inv.crl->revoked[inv.leaves[2].facts.serial] = kNow - days(1);
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{});
}

TEST(FleetChecks, WeakKeysAndSignatures) {
  auto inv = clean_fleet();
  inv.leaves[1].facts.key_type = "RSA";
  inv.leaves[1].facts.curve.clear();
  inv.leaves[1].facts.key_bits = 1024;
  inv.leaves[2].facts.curve = "secp224r1";
  inv.leaves[2].facts.key_bits = 224;
  inv.leaves[3].facts.curve = "secp384r1";
  inv.leaves[3].facts.key_bits = 384;
  inv.cas[1].facts.weak_signature = true;
  inv.cas[1].facts.signature = "sha1WithRSAEncryption";  // armored-audit:allow reviewed: algorithm name
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())),
            (std::vector<std::string>{"fleet-key-not-p256 device/dev-2.crt", "fleet-weak-key device/dev-1.crt",
                                      "fleet-weak-key gateway/gw-1.crt", "fleet-weak-signature issuing.crt"}));
  inv = clean_fleet();
  inv.leaves[1].facts.key_type = "RSA";
  inv.leaves[1].facts.curve.clear();
  inv.leaves[1].facts.key_bits = 2048;  // strong, but no P-256 for E3
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-key-not-p256 gateway/gw-1.crt"});
}

TEST(FleetChecks, RevokedIdentityThatConnectedAfterRevocation) {
  auto inv = clean_fleet();
  inv.leaves[1].revoked_at = kNow - hours(2);
  inv.crl->revoked[inv.leaves[1].facts.serial] = kNow - hours(2);
  auto conns = all_connected();  // gw-1 connected an hour ago: after the revocation
  auto f = check_fleet(inv, &conns, opts());
  ASSERT_EQ(rules(f), std::vector<std::string>{"fleet-revoked-connected gateway/gw-1.crt"});
  EXPECT_EQ(f[0].severity, Severity::kCritical);
  EXPECT_NE(f[0].evidence.find("connected 1 time(s) after"), std::string::npos) << f[0].evidence;
  EXPECT_NE(f[0].evidence.find("from 127.0.0.1:1"), std::string::npos) << f[0].evidence;

  // Connections before the revocation, or with another certificate's serial, are not.
  conns.connections[0].at = kNow - hours(3);
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())), std::vector<std::string>{});
  conns.connections[0].at = kNow - hours(1);
  conns.connections[0].serial = "BEEF";
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())), std::vector<std::string>{});
  // The event names the serial the index records: it counts even when the
  // certificate file was replaced since.
  conns.connections[0].serial = inv.leaves[1].index_serial;
  inv.leaves[1].facts.serial = "C0FFEE";
  auto replaced = rules(check_fleet(inv, &conns, opts()));
  EXPECT_EQ(std::count(replaced.begin(), replaced.end(), "fleet-revoked-connected gateway/gw-1.crt"), 1);
  inv.leaves[1].facts.serial = inv.leaves[1].index_serial;
  // An event without a serial counts (the identity connected).
  conns.connections[0].serial.clear();
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())), std::vector<std::string>{"fleet-revoked-connected gateway/gw-1.crt"});
}

TEST(FleetChecks, RevocationKnownOnlyToTheCrlStillCounts) {
  auto inv = clean_fleet();
  inv.crl->revoked[inv.leaves[2].facts.serial] = kNow - hours(2);
  auto conns = all_connected();
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())), std::vector<std::string>{"fleet-revoked-connected device/dev-1.crt"});
}

TEST(FleetChecks, NeverConnectedSkipsCloudRevokedExpiredAndDevicesWithReadings) {
  auto inv = clean_fleet();
  ConnectionFacts conns;
  conns.source = "test";
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())),
            (std::vector<std::string>{"fleet-never-connected device/dev-1.crt", "fleet-never-connected device/dev-2.crt",
                                      "fleet-never-connected gateway/gw-1.crt"}));
  conns.seen.insert("dev-1");  // its readings came through a gateway
  inv.leaves[3].revoked_at = kNow - days(1);
  inv.crl->revoked[inv.leaves[3].facts.serial] = kNow - days(1);
  inv.leaves[1].facts.not_after = kNow - days(1);
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())), std::vector<std::string>{"fleet-cert-expired gateway/gw-1.crt"});
}

TEST(FleetChecks, CrlProblems) {
  auto inv = clean_fleet();
  inv.crl->next_update = kNow - hours(1);
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-crl-expired crl.pem"});
  inv.crl->next_update = kNow + days(6);
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-crl-expiring crl.pem"});
  inv = clean_fleet();
  inv.leaves[2].revoked_at = kNow - days(1);  // revoked in pki.json, CRL not re-signed
  EXPECT_EQ(rules(check_fleet(inv, nullptr, opts())), std::vector<std::string>{"fleet-revoked-not-in-crl device/dev-1.crt"});
  inv.crl.reset();
  inv.crl_problem = "the CRL signature does not verify";
  auto f = check_fleet(inv, nullptr, opts());
  ASSERT_EQ(rules(f), std::vector<std::string>{"fleet-crl-unusable crl.pem"});
  EXPECT_EQ(f[0].evidence, "the CRL signature does not verify");
}

TEST(FleetChecks, UnindexedCertificateFilesCountForSharingButNotForConnections) {
  auto inv = clean_fleet();
  FleetCert extra = leaf("dev-copy");
  extra.indexed = false;
  extra.index_serial.clear();
  extra.facts.spki_sha256 = inv.leaves[2].facts.spki_sha256;
  extra.facts.uri_identity = "dev-1";
  inv.leaves.push_back(extra);
  auto conns = all_connected();
  EXPECT_EQ(rules(check_fleet(inv, &conns, opts())),
            (std::vector<std::string>{"fleet-identity-mismatch device/dev-copy.crt", "fleet-shared-key device/dev-1.crt"}));
}

TEST(FleetChecks, EventFieldFindsWholeKeysOnly) {
  EXPECT_EQ(event_field("serial=0A1B uri=urn:armored:gateway:gw from=127.0.0.1:4 TLSv1.3", "serial"), "0A1B");
  EXPECT_EQ(event_field("serial=0A1B uri=x from=127.0.0.1:4", "from"), "127.0.0.1:4");
  EXPECT_EQ(event_field("serials=1 xserial=2", "serial"), "");
  EXPECT_EQ(event_field("", "serial"), "");
  EXPECT_EQ(event_field("serial=", "serial"), "");
  EXPECT_EQ(event_field("  serial=7  ", "serial"), "7");
}

// The account of every reading: a gap in a device's stored sequence numbers
// is a finding that names the device, the epoch and the missing numbers.
TEST(FleetChecks, ReadingGapsAreReportedPerDevice) {
  auto conns = all_connected();
  conns.gaps.push_back({"dev-7", 3, 40, 42, SysSeconds(std::chrono::seconds(1'700'000'000))});
  conns.gaps.push_back({"dev-9", 1, 0, 0, SysSeconds(std::chrono::seconds(1'700'000'100))});
  auto f = check_fleet(clean_fleet(), &conns, opts());
  std::vector<Finding> missing;
  for (const auto& x : f) {
    if (x.rule_id == "fleet-readings-missing") missing.push_back(x);
  }
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].where.path, "device/dev-7.crt");
  EXPECT_NE(missing[0].evidence.find("epoch 3 seq 40..42"), std::string::npos) << missing[0].evidence;
  EXPECT_NE(missing[0].message.find("3 readings never stored"), std::string::npos) << missing[0].message;
  EXPECT_NE(missing[1].message.find("1 reading never stored"), std::string::npos) << missing[1].message;
  EXPECT_EQ(missing[0].severity, Severity::kHigh);
}

TEST(FleetChecks, EveryRuleHasTextAndAUniqueId) {
  std::set<std::string_view> ids;
  for (const auto& r : fleet_rules()) {
    EXPECT_FALSE(r.title.empty() || r.why.empty() || r.fix.empty()) << r.id;
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
  }
  EXPECT_EQ(ids.size(), 18u);
}

}  // namespace
}  // namespace armored::audit

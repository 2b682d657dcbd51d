// Library-level tests of armored_pki: IDs, CA creation rules, the contents of
// issued certificates (read back with the OpenSSL API), CA expiry, fleet,
// revocation and list flags.

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include <fstream>
#include <set>

#include "pki_test_util.h"

namespace armored::pki::test {
namespace {

using armored::testing::TempDir;

TEST(PkiId, AcceptsTheDocumentedAlphabet) {
  EXPECT_TRUE(validate_id("dev-0001"));
  EXPECT_TRUE(validate_id("Gateway_7.site-B"));
  EXPECT_TRUE(validate_id(std::string(64, 'a')));
  EXPECT_TRUE(validate_id("a"));
}

TEST(PkiId, RejectsWithAClearReason) {
  auto check = [](std::string_view id, std::string_view needle) {
    auto r = validate_id(id);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error().code, ErrorCode::bad_input);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  check("", "empty");
  check(std::string(65, 'a'), "65 characters");
  check("a/b", "'/' at position 2");
  check("a b", "0x20");
  check(".hidden", "start with '.'");
  check("caf\xC3\xA9", "0xC3");
  check("x:y", "':'");
}

TEST(PkiRoles, RoundTrip) {
  for (Role r : {Role::cloud, Role::gateway, Role::device}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_FALSE(parse_role("printer"));
}

TEST(PkiTime, FormatAndParse) {
  TimePoint t{std::chrono::seconds{1'700'000'000}};
  EXPECT_EQ(format_time(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(parse_time("2023-11-14T22:13:20Z"), t);
  EXPECT_FALSE(parse_time("2023-11-14 22:13:20"));
}

TEST(PkiCreate, RefusesAnExistingPkiAndANonEmptyDirectory) {
  TempDir td;
  make_pki(td / "p", validity_for_days(now(), 30));
  InitOptions o;
  o.validity = validity_for_days(now(), 30);
  auto again = Authority::create(td / "p", o, now());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);

  fs::create_directories(td / "busy");
  { std::ofstream(td / "busy" / "notes.txt") << "keep me"; }
  auto busy = Authority::create(td / "busy", o, now());
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::conflict);
  EXPECT_EQ(armored::testing::slurp(td / "busy" / "notes.txt"), "keep me");
}

TEST(PkiCreate, UsesAnEmptyDirectoryAndLeavesNoStagingBehind) {
  TempDir td;
  fs::create_directories(td / "empty");
  make_pki(td / "empty", validity_for_days(now(), 30));
  EXPECT_TRUE(fs::exists(Authority::index_path(td / "empty")));
  for (const auto& e : fs::directory_iterator(td.path()))
    EXPECT_EQ(e.path().filename(), "empty") << "left behind: " << e.path();
  EXPECT_EQ(file_mode(td / "empty" / "private" / "root-ca.key"), 0600u);
  EXPECT_EQ(file_mode(td / "empty" / "private" / "issuing-ca.key"), 0600u);
  EXPECT_EQ(file_mode(td / "empty" / "private"), 0700u);
  EXPECT_EQ(file_mode(Authority::root_cert_path(td / "empty")), 0644u);
}

TEST(PkiCreate, RejectsBadNameAndBackwardsValidity) {
  TempDir td;
  InitOptions o;
  o.validity = validity_for_days(now(), 30);
  o.name = "";
  EXPECT_EQ(Authority::create(td / "a", o, now()).error().code, ErrorCode::bad_input);
  o.name = "line\nbreak";
  EXPECT_EQ(Authority::create(td / "a", o, now()).error().code, ErrorCode::bad_input);
  o.name = "ok";
  o.validity = {now(), now() - 1h};
  EXPECT_EQ(Authority::create(td / "a", o, now()).error().code, ErrorCode::bad_input);
  EXPECT_FALSE(fs::exists(td / "a"));
}

// Reads the extensions of an issued leaf with the OpenSSL API.
struct LeafFacts {
  bool ca = true;
  std::uint32_t ku = 0, eku = 0;
  std::vector<std::string> uris, dns, ips;
  std::string ski, aki;
  int serial_bits = 0;
  bool serial_negative = true;
};

std::string hex(const ASN1_OCTET_STRING* s) {
  std::string out;
  char buf[3];
  for (int i = 0; s && i < ASN1_STRING_length(s); ++i) {
    std::snprintf(buf, sizeof buf, "%02X", ASN1_STRING_get0_data(s)[i]);
    out += buf;
  }
  return out;
}

LeafFacts facts(X509* x) {
  LeafFacts f;
  f.ca = X509_check_ca(x) != 0;
  f.ku = X509_get_key_usage(x);
  f.eku = X509_get_extended_key_usage(x);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_URI)
      f.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)));
    if (gn->type == GEN_DNS) f.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)));
    if (gn->type == GEN_IPADD) f.ips.push_back(std::to_string(ASN1_STRING_length(gn->d.iPAddress)) + " bytes");
  }
  GENERAL_NAMES_free(names);
  f.ski = hex(X509_get0_subject_key_id(x));
  f.aki = hex(X509_get0_authority_key_id(x));
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  f.serial_bits = BN_num_bits(bn);
  f.serial_negative = BN_is_negative(bn);
  BN_free(bn);
  return f;
}

TEST(PkiIssue, DeviceCertificateCarriesClientAuthAndUriSan) {
  TempDir td;
  auto pki = make_pki(td / "p", validity_for_days(now(), 365));
  auto files = pki.issue(request(Role::device, "dev-42", validity_for_days(now(), 30)), now());
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ(files->key, td / "p" / "device" / "dev-42.key");
  EXPECT_EQ(file_mode(files->key), 0600u);
  EXPECT_EQ(file_mode(files->cert), 0644u);
  auto cert = read_cert(files->cert);
  ASSERT_TRUE(cert);
  auto f = facts(cert.get());
  EXPECT_FALSE(f.ca);
  EXPECT_TRUE(f.ku & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(f.ku & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(f.eku & XKU_SSL_CLIENT);
  EXPECT_FALSE(f.eku & XKU_SSL_SERVER);
  EXPECT_EQ(f.uris, std::vector<std::string>{"urn:armored:device:dev-42"});
  EXPECT_TRUE(f.dns.empty());
  // Leaves carry no SKI (RFC 5280 4.2.1.2 makes it a CA matter) and a
  // CN-only subject: both bytes every TLS handshake and ticket carry.
  EXPECT_TRUE(f.ski.empty());
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 1);
  auto issuing = read_cert(Authority::issuing_cert_path(td / "p"));
  EXPECT_FALSE(hex(X509_get0_subject_key_id(issuing.get())).empty());  // CAs keep their SKI
  EXPECT_EQ(f.aki, hex(X509_get0_subject_key_id(issuing.get())));
  EXPECT_FALSE(f.serial_negative);
  EXPECT_GT(f.serial_bits, 100);
  EXPECT_LE(f.serial_bits, 128);
  EXPECT_EQ(files->identity.serial.size() % 2, 0u);
}

TEST(PkiIssue, CloudCertificateCarriesServerAuthAndDnsIpSans) {
  TempDir td;
  auto pki = make_pki(td / "p", validity_for_days(now(), 365));
  auto req = request(Role::cloud, "cloud-1", validity_for_days(now(), 30));
  req.dns = {"localhost", "cloud.example.net"};
  req.ips = {"127.0.0.1", "::1"};
  auto files = pki.issue(req, now());
  ASSERT_TRUE(files) << files.error().message;
  auto f = facts(read_cert(files->cert).get());
  EXPECT_TRUE(f.eku & XKU_SSL_SERVER);
  EXPECT_FALSE(f.eku & XKU_SSL_CLIENT);
  EXPECT_EQ(f.dns, (std::vector<std::string>{"localhost", "cloud.example.net"}));
  EXPECT_EQ(f.ips, (std::vector<std::string>{"4 bytes", "16 bytes"}));
  EXPECT_TRUE(f.uris.empty());
}

TEST(PkiIssue, RejectsBadRequestsBeforeWriting) {
  TempDir td;
  auto pki = make_pki(td / "p", validity_for_days(now(), 365));
  auto before = snapshot(td / "p");
  auto v = validity_for_days(now(), 30);
  auto expect = [&](IssueRequest r, ErrorCode code, std::string_view needle) {
    auto res = pki.issue(r, now());
    ASSERT_FALSE(res) << r.id;
    EXPECT_EQ(res.error().code, code);
    EXPECT_NE(res.error().message.find(needle), std::string::npos) << res.error().message;
  };
  expect(request(Role::device, "a/b", v), ErrorCode::bad_input, "'/'");
  auto cloud = request(Role::cloud, "c", v);
  cloud.dns.clear();
  cloud.ips.clear();
  expect(cloud, ErrorCode::bad_input, "at least one --dns or --ip");
  cloud.dns = {"bad..name"};
  expect(cloud, ErrorCode::bad_input, "--dns 'bad..name'");
  cloud.dns = {"x,IP:1.2.3.4"};
  expect(cloud, ErrorCode::bad_input, "--dns");
  cloud.dns.clear();
  cloud.ips = {"999.1.1.1"};
  expect(cloud, ErrorCode::bad_input, "--ip '999.1.1.1'");
  auto dev = request(Role::device, "d", v);
  dev.dns = {"localhost"};
  expect(dev, ErrorCode::bad_input, "cloud identities only");
  expect(request(Role::device, "d", {now(), now() - 1h}), ErrorCode::bad_input, "ends before it starts");
  expect(request(Role::device, "d", validity_for_days(now(), 400)), ErrorCode::bad_input,
         "after the issuing CA");
  EXPECT_EQ(snapshot(td / "p"), before);

  ASSERT_TRUE(pki.issue(request(Role::gateway, "gw", v), now()));
  expect(request(Role::device, "gw", v), ErrorCode::conflict, "already exists");
}

TEST(PkiIssue, ExpiredCaRefusesToIssueNamingTheExpiry) {
  TempDir td;
  auto t = now();
  auto pki = make_pki(td / "p", valid_between(t - Days(400), t - Days(10)));
  auto before = snapshot(td / "p");
  auto r = pki.issue(request(Role::device, "d1", validity_for_days(t, 1)), t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ca_unusable);
  EXPECT_TRUE(is_input_error(r.error()));
  EXPECT_NE(r.error().message.find("expired on " + format_time(t - Days(10))), std::string::npos)
      << r.error().message;
  EXPECT_EQ(snapshot(td / "p"), before);
  auto revoke = pki.revoke("d1", t);
  EXPECT_FALSE(revoke);
}

TEST(PkiIssue, CaNotYetValidRefusesToIssue) {
  TempDir td;
  auto t = now();
  auto pki = make_pki(td / "p", valid_between(t + Days(1), t + Days(100)));
  auto r = pki.issue(request(Role::device, "d1", valid_between(t + Days(2), t + Days(3))), t);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not valid before"), std::string::npos) << r.error().message;
}

TEST(PkiIssue, DamagedOrMismatchedCaKeyIsReported) {
  TempDir td;
  std::optional<Authority> pki(make_pki(td / "p", validity_for_days(now(), 365)));
  auto key = td / "p" / "private" / "issuing-ca.key";
  { std::ofstream(key, std::ios::trunc) << "not a key\n"; }
  auto r = pki->issue(request(Role::device, "d1", validity_for_days(now(), 1)), now());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ca_unusable);
  EXPECT_NE(r.error().message.find("issuing-ca.key is not a PEM private key"), std::string::npos)
      << r.error().message;

  // The root key is a valid key, but not the issuing CA's.
  fs::copy_file(td / "p" / "private" / "root-ca.key", key, fs::copy_options::overwrite_existing);
  pki.reset();  // releases the directory lock
  auto reopened = Authority::open(td / "p", Authority::Access::read_write);
  ASSERT_TRUE(reopened);
  r = reopened->issue(request(Role::device, "d1", validity_for_days(now(), 1)), now());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos) << r.error().message;
}

TEST(PkiIssue, ReadOnlyHandleAndConcurrentWriterAreRefused) {
  TempDir td;
  auto writer = make_pki(td / "p", validity_for_days(now(), 365));
  auto second = Authority::open(td / "p", Authority::Access::read_write);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::busy);
  auto reader = Authority::open(td / "p", Authority::Access::read_only);
  ASSERT_TRUE(reader);
  EXPECT_FALSE(reader->issue(request(Role::device, "d", validity_for_days(now(), 1)), now()));
}

TEST(PkiFleet, EveryDeviceHasItsOwnKeyAndSerial) {
  TempDir td;
  auto pki = make_pki(td / "p", validity_for_days(now(), 365));
  fs::remove(td / "p" / "device");  // recreated 0700 by the run
  FleetRequest req;
  req.prefix = "unit";
  req.count = 40;
  req.validity = validity_for_days(now(), 30);
  std::vector<std::size_t> progress;
  auto out = pki.issue_fleet(req, now(), [&](std::size_t d, std::size_t total) {
    EXPECT_EQ(total, 40u);
    progress.push_back(d);
  });
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 40u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 40u);
  EXPECT_EQ(out->front().identity.id, "unit-0001");
  EXPECT_EQ(out->back().identity.id, "unit-0040");
  std::set<std::string> keys, serials, pubkeys;
  for (const auto& f : *out) {
    EXPECT_EQ(file_mode(f.key), 0600u);
    keys.insert(armored::testing::slurp(f.key));
    serials.insert(f.identity.serial);
    auto cert = read_cert(f.cert);
    ASSERT_TRUE(cert);
    auto fx = facts(cert.get());
    EXPECT_EQ(fx.uris, std::vector<std::string>{"urn:armored:device:" + f.identity.id});
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
    pubkeys.insert(std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(n)));
    OPENSSL_free(der);
  }
  EXPECT_EQ(file_mode(td / "p" / "device"), 0700u);
  EXPECT_EQ(keys.size(), 40u);
  EXPECT_EQ(serials.size(), 40u);
  EXPECT_EQ(pubkeys.size(), 40u);
  // No temporary file survives the batch.
  for (const auto& e : fs::directory_iterator(td / "p" / "device"))
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
  // The index on disk names them all.
  auto reopened = Authority::open(td / "p", Authority::Access::read_only);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->list(now()).size(), 40u);
}

TEST(PkiFleet, RejectsBadCountPrefixAndConflictsBeforeWriting) {
  TempDir td;
  auto pki = make_pki(td / "p", validity_for_days(now(), 365));
  FleetRequest req;
  req.count = 3;
  req.validity = validity_for_days(now(), 30);
  ASSERT_TRUE(pki.issue(request(Role::device, "wearable-0002", req.validity), now()));
  auto before = snapshot(td / "p");
  auto r = pki.issue_fleet(req, now());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::conflict);
  EXPECT_NE(r.error().message.find("wearable-0002"), std::string::npos);
  req.count = 0;
  EXPECT_EQ(pki.issue_fleet(req, now()).error().code, ErrorCode::bad_input);
  req.count = kMaxFleet + 1;
  EXPECT_EQ(pki.issue_fleet(req, now()).error().code, ErrorCode::bad_input);
  req.count = 2;
  req.prefix = "bad/prefix";
  EXPECT_EQ(pki.issue_fleet(req, now()).error().code, ErrorCode::bad_input);
  req.prefix = std::string(60, 'p');  // 60 + "-0002" > 64
  auto longp = pki.issue_fleet(req, now());
  ASSERT_FALSE(longp);
  EXPECT_NE(longp.error().message.find("gives IDs like"), std::string::npos);
  EXPECT_EQ(snapshot(td / "p"), before);
}

TEST(PkiRevoke, RevokesOnceAndListsFlags) {
  TempDir td;
  auto t = now();
  auto pki = make_pki(td / "p", validity_for_days(t, 365));
  ASSERT_TRUE(pki.issue(request(Role::device, "keep", validity_for_days(t, 200)), t));
  ASSERT_TRUE(pki.issue(request(Role::device, "soon", validity_for_days(t, 10)), t));
  ASSERT_TRUE(pki.issue(request(Role::device, "gone", validity_for_days(t, 200)), t));
  ASSERT_TRUE(pki.issue(request(Role::device, "old", valid_between(t - Days(20), t - Days(1))), t));
  ASSERT_TRUE(pki.revoke("gone", t));
  auto twice = pki.revoke("gone", t);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::conflict);
  EXPECT_NE(twice.error().message.find("already revoked"), std::string::npos);
  auto unknown = pki.revoke("nobody", t);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);

  std::map<std::string, ListEntry> by_id;
  for (auto& e : pki.list(t)) by_id[e.identity.id] = e;
  EXPECT_FALSE(by_id["keep"].revoked || by_id["keep"].expiring_soon || by_id["keep"].expired);
  EXPECT_TRUE(by_id["soon"].expiring_soon);
  EXPECT_TRUE(by_id["gone"].revoked);
  EXPECT_TRUE(by_id["old"].expired);
  EXPECT_FALSE(by_id["old"].expiring_soon);
}

TEST(PkiRevoke, RefreshCrlKeepsRevocationsAndExtendsNextUpdate) {
  TempDir td;
  auto t = now();
  auto pki = make_pki(td / "p", validity_for_days(t, 365));
  auto f = pki.issue(request(Role::device, "d", validity_for_days(t, 200)), t);
  ASSERT_TRUE(f);
  ASSERT_TRUE(pki.revoke("d", t));
  auto later = t + Days(25);
  ASSERT_TRUE(pki.refresh_crl(later));
  // 40 days after the revocation the first CRL would have expired; the refreshed one has not.
  auto r = pki.verify_file(f->cert, t + Days(40));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reasons, std::vector<std::string>{"revoked on " + format_time(t)});
  auto reader = Authority::open(td / "p", Authority::Access::read_only);
  ASSERT_TRUE(reader);
  EXPECT_FALSE(reader->refresh_crl(later));
}

TEST(PkiIndex, DamagedIndexIsReported) {
  TempDir td;
  { make_pki(td / "p", validity_for_days(now(), 30)); }
  { std::ofstream(Authority::index_path(td / "p"), std::ios::trunc) << "{\"format\": 1"; }
  auto r = Authority::open(td / "p", Authority::Access::read_only);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::ca_unusable);
  EXPECT_NE(r.error().message.find("damaged"), std::string::npos);
  auto none = Authority::open(td / "nothing", Authority::Access::read_only);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace armored::pki::test

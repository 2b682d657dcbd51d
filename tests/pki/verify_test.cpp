// Authority::verify_*: each kind of unacceptable certificate is reported with
// its reason. Certificates the PKI would never issue (wrong EKU, a CA used as
// a leaf) are made with the openssl command and the PKI's own issuing key.

#include <gtest/gtest.h>

#include <fstream>

#include "pki_test_util.h"

namespace armored::pki::test {
namespace {

using armored::testing::TempDir;
using armored::testing::run;

bool mentions(const VerifyReport& r, std::string_view needle) {
  for (const auto& reason : r.reasons)
    if (reason.find(needle) != std::string::npos) return true;
  return false;
}

std::string all(const VerifyReport& r) {
  std::string s;
  for (const auto& reason : r.reasons) s += reason + "; ";
  return s;
}

class PkiVerify : public ::testing::Test {
 protected:
  void SetUp() override { pki_ = std::make_unique<Authority>(make_pki(td_ / "p", validity_for_days(t_, 365))); }

  VerifyReport verify(const fs::path& cert, TimePoint at) {
    auto r = pki_->verify_file(cert, at);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : VerifyReport{};
  }

  fs::path issue(Role role, const std::string& id, Validity v) {
    auto f = pki_->issue(request(role, id, v), t_);
    EXPECT_TRUE(f) << f.error().message;
    return f ? f->cert : fs::path();
  }

  TempDir td_;
  TimePoint t_ = now();
  std::unique_ptr<Authority> pki_;
};

TEST_F(PkiVerify, AcceptsFreshIdentitiesOfEveryRole) {
  for (Role role : {Role::cloud, Role::gateway, Role::device}) {
    auto cert = issue(role, std::string(role_name(role)) + "-1", validity_for_days(t_, 30));
    auto r = verify(cert, t_);
    EXPECT_TRUE(r.acceptable) << all(r);
    EXPECT_EQ(r.role, role);
  }
}

TEST_F(PkiVerify, ReportsExpired) {
  auto cert = issue(Role::device, "old", valid_between(t_ - Days(30), t_ - Days(2)));
  auto r = verify(cert, t_);
  EXPECT_FALSE(r.acceptable);
  EXPECT_TRUE(mentions(r, "certificate expired on " + format_time(t_ - Days(2)))) << all(r);
}

TEST_F(PkiVerify, ReportsNotYetValid) {
  auto cert = issue(Role::device, "future", valid_between(t_ + Days(2), t_ + Days(30)));
  auto r = verify(cert, t_);
  EXPECT_FALSE(r.acceptable);
  EXPECT_TRUE(mentions(r, "not valid until " + format_time(t_ + Days(2)))) << all(r);
  // The same certificate is fine once its time has come.
  EXPECT_TRUE(verify(cert, t_ + Days(3)).acceptable);
}

TEST_F(PkiVerify, ReportsWrongCaWithADifferentOrTheSameName) {
  for (const char* name : {"Some Other CA", "Test Fleet CA"}) {
    TempDir other_dir;
    auto other = make_pki(other_dir / "p", validity_for_days(t_, 365), name);
    auto f = other.issue(request(Role::device, "stranger", validity_for_days(t_, 30)), t_);
    ASSERT_TRUE(f);
    auto r = verify(f->cert, t_);
    EXPECT_FALSE(r.acceptable);
    EXPECT_TRUE(mentions(r, "wrong CA")) << name << ": " << all(r);
    EXPECT_TRUE(mentions(r, "not in this PKI's index")) << all(r);
  }
}

TEST(PkiVerifyCa, ReportsAnExpiredIssuingCaAsWellAsTheLeaf) {
  TempDir td;
  auto t = now();
  auto pki = make_pki(td / "p", valid_between(t - Days(1), t + Days(10)));
  auto f = pki.issue(request(Role::device, "d", validity_for_days(t, 5)), t);
  ASSERT_TRUE(f) << f.error().message;
  auto r = pki.verify_file(f->cert, t + Days(20));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->acceptable);
  EXPECT_TRUE(mentions(*r, "CA certificate CN = Test Fleet CA Issuing CA expired on " + format_time(t + Days(10))))
      << all(*r);
  EXPECT_TRUE(mentions(*r, "certificate expired on")) << all(*r);
}

TEST_F(PkiVerify, ReportsRevoked) {
  auto cert = issue(Role::gateway, "gw-lost", validity_for_days(t_, 30));
  ASSERT_TRUE(pki_->revoke("gw-lost", t_));
  auto r = verify(cert, t_ + 1h);
  EXPECT_FALSE(r.acceptable);
  EXPECT_TRUE(mentions(r, "revoked on " + format_time(t_))) << all(r);
}

TEST_F(PkiVerify, ReportsAnExpiredCrl) {
  auto cert = issue(Role::device, "d", validity_for_days(t_, 300));
  auto r = verify(cert, t_ + Days(31));
  EXPECT_FALSE(r.acceptable);
  EXPECT_TRUE(mentions(r, "the CRL expired on")) << all(r);
}

class PkiVerifyForged : public PkiVerify {
 protected:
  // Signs a certificate with the PKI's issuing key using the openssl command,
  // with extensions the PKI itself would never write.
  fs::path forge(const std::string& name, const std::string& extensions) {
    if (!armored::testing::have_program("openssl")) return {};
    auto key = td_ / (name + ".key");
    auto csr = td_ / (name + ".csr");
    auto crt = td_ / (name + ".crt");
    auto ext = td_ / (name + ".ext");
    { std::ofstream(ext) << "[v3]\n" << extensions; }
    auto req = run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key.string(), "-subj", "/CN=" + name, "-out", csr.string()});
    EXPECT_EQ(req.exit_code, 0) << req.err;
    auto sign = run({"openssl", "x509", "-req", "-in", csr.string(), "-CA",
                     Authority::issuing_cert_path(td_ / "p").string(), "-CAkey",
                     (td_ / "p" / "private" / "issuing-ca.key").string(), "-set_serial", "0x1234ABCD",
                     "-days", "30", "-sha256", "-extfile", ext.string(), "-extensions", "v3", "-out",
                     crt.string()});
    EXPECT_EQ(sign.exit_code, 0) << sign.err;
    return crt;
  }
};

TEST_F(PkiVerifyForged, ReportsWrongEkuForADevice) {
  auto crt = forge("dev-x", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth\nsubjectAltName=URI:urn:armored:device:dev-x\n");
  if (crt.empty()) GTEST_SKIP() << "openssl command not installed";
  auto r = verify(crt, t_);
  EXPECT_FALSE(r.acceptable);
  EXPECT_EQ(r.role, Role::device);
  EXPECT_TRUE(mentions(r, "wrong EKU: extendedKeyUsage lacks clientAuth")) << all(r);
  EXPECT_TRUE(mentions(r, "serial 1234ABCD is not in this PKI's index")) << all(r);
  EXPECT_FALSE(mentions(r, "wrong CA")) << all(r);
}

TEST_F(PkiVerifyForged, ReportsMissingEkuAndMissingRole) {
  auto no_eku = forge("gw-x", "basicConstraints=critical,CA:FALSE\nsubjectAltName=URI:urn:armored:gateway:gw-x\n");
  if (no_eku.empty()) GTEST_SKIP() << "openssl command not installed";
  EXPECT_TRUE(mentions(verify(no_eku, t_), "wrong EKU: no extendedKeyUsage; a gateway certificate needs clientAuth"));
  auto no_role = forge("who", "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n");
  EXPECT_TRUE(mentions(verify(no_role, t_), "no Armored role"));
}

TEST_F(PkiVerify, ReportsACaCertificateUsedAsAnIdentity) {
  auto r = verify(Authority::issuing_cert_path(td_ / "p"), t_);
  EXPECT_FALSE(r.acceptable);
  EXPECT_TRUE(mentions(r, "is a CA certificate")) << all(r);
}

TEST_F(PkiVerify, RefusesOversizedAndNonPemInput) {
  auto big = td_ / "big.crt";
  { std::ofstream(big) << std::string(kMaxPemBytes + 1, 'A'); }
  auto r = pki_->verify_file(big, t_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_input);
  EXPECT_NE(r.error().message.find("larger than 65536"), std::string::npos) << r.error().message;
  EXPECT_FALSE(pki_->verify_pem(std::string(kMaxPemBytes + 1, 'A'), t_));

  auto junk = td_ / "junk.crt";
  { std::ofstream(junk) << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"; }
  r = pki_->verify_file(junk, t_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a PEM certificate"), std::string::npos) << r.error().message;
  EXPECT_FALSE(pki_->verify_file(td_ / "missing.crt", t_));
  EXPECT_FALSE(pki_->verify_pem("", t_));
}

}  // namespace
}  // namespace armored::pki::test

namespace armored::pki::test {
namespace {

// What the dashboard's certificate view reads from a server's own files.
TEST_F(PkiVerify, InspectReadsExpiryAndRevocationsFromTheFiles) {
  const auto cert = issue(Role::cloud, "cloud-1", valid_between(t_ - Days(1), t_ + Days(42)));
  auto c = inspect_certificate(cert);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_NE(c->subject.find("cloud-1"), std::string::npos) << c->subject;
  EXPECT_EQ(std::chrono::time_point_cast<std::chrono::seconds>(c->not_after),
            std::chrono::time_point_cast<std::chrono::seconds>(t_ + Days(42)));

  issue(Role::device, "d1", validity_for_days(t_, 30));
  issue(Role::device, "d2", validity_for_days(t_, 30));
  ASSERT_TRUE(pki_->revoke("d1", t_));
  ASSERT_TRUE(pki_->revoke("d2", t_ + 10s));
  auto crl = inspect_crl(Authority::crl_path(td_ / "p"));
  ASSERT_TRUE(crl) << crl.error().message;
  EXPECT_EQ(crl->revoked, 2u);
  EXPECT_EQ(std::chrono::time_point_cast<std::chrono::seconds>(crl->last_update),
            std::chrono::time_point_cast<std::chrono::seconds>(t_ + 10s));
  ASSERT_TRUE(crl->next_update.has_value());
  EXPECT_GT(*crl->next_update, crl->last_update);

  std::ofstream(td_ / "junk.pem") << "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n";
  auto junk = inspect_crl(td_ / "junk.pem");
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("no CRL"), std::string::npos) << junk.error().message;
  EXPECT_FALSE(inspect_certificate(td_ / "missing.crt"));
  EXPECT_FALSE(inspect_certificate(Authority::crl_path(td_ / "p")));
}

}  // namespace
}  // namespace armored::pki::test

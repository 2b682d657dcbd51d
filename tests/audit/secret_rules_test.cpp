// Line rules of `audit secrets`: each rule, placeholders, and markers.

#include <gtest/gtest.h>

#include "audit/secret_rules.h"
#include "audit/secrets_scan.h"

namespace armored::audit {
namespace {

std::vector<SecretHit> scan(TextKind kind, std::initializer_list<std::string> lines) {
  SecretLineScanner s(kind);
  std::vector<SecretHit> hits;
  std::uint64_t n = 0;
  for (const auto& l : lines) s.feed(l, ++n, hits);
  return hits;
}

std::vector<std::string> rules(const std::vector<SecretHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.emplace_back(h.rule->id);
  return out;
}

const std::string kPw = std::string("Zq8") + "vLm2Tx9Rk";

TEST(AuditSecretRules, AssignmentsInEachLanguage) {
  using V = std::vector<std::string>;
  V one = {"hardcoded-password"};
  EXPECT_EQ(rules(scan(TextKind::kCode, {"const char *db_passwd = \"" + kPw + "\";"})), one);
  EXPECT_EQ(rules(scan(TextKind::kCode, {"#define MQTT_PASS \"" + kPw + "\""})), one);
  EXPECT_EQ(rules(scan(TextKind::kCode, {"password := \"" + kPw + "\""})), one);         // Go
  EXPECT_EQ(rules(scan(TextKind::kCode, {"  Password: `" + kPw + "`,"})), one);           // Go raw
  EXPECT_EQ(rules(scan(TextKind::kCode, {"  apiKey: '" + kPw + "',"})), one);             // JS
  EXPECT_EQ(rules(scan(TextKind::kCode, {"  \"client_secret\": \"" + kPw + "\""})), one);  // JSON
  EXPECT_EQ(rules(scan(TextKind::kCode, {"connect(password=\"" + kPw + "\")"})), one);    // kwargs
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"auth_token: " + kPw})), one);                 // YAML
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"export MQTT_PASSWORD=" + kPw})), one);        // .env
  // Bare values count only in configuration formats.
  EXPECT_TRUE(scan(TextKind::kCode, {"password = " + kPw}).empty());
}

TEST(AuditSecretRules, PlaceholdersAndNonCredentialNamesAreNotReported) {
  for (std::string v : {"changeme", "<password>", "${MQTT_PASS}", "xxxxxxxx", "", "your_password_here",
                        "{{ secret }}", "$PASS", "********", "example-token"}) {
    EXPECT_TRUE(is_placeholder(v)) << v;
    EXPECT_TRUE(scan(TextKind::kCode, {"password = \"" + v + "\""}).empty()) << v;
  }
  EXPECT_FALSE(is_placeholder(kPw));
  EXPECT_TRUE(scan(TextKind::kCode, {"password_hash_algo = \"" + kPw + "\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"bypass = \"" + kPw + "\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"token_type = \"" + kPw + "\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"password = os.environ[\"DB_PASSWORD\"]"}).empty());
  EXPECT_TRUE(scan(TextKind::kConfig, {"password: !vault |"}).empty());
}

TEST(AuditSecretRules, TestVectorMarkerAndInlineAllowSuppress) {
  EXPECT_TRUE(scan(TextKind::kCode, {"# RFC 8032 test vector 1", "secret_key = \"" + kPw + "\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"password = \"" + kPw + "\"  # armored-audit:allow fixture"}).empty());
  // The marker covers only the next lines.
  EXPECT_EQ(scan(TextKind::kCode, {"# test vector", "", "", "", "password = \"" + kPw + "\""}).size(), 1u);
}

TEST(AuditSecretRules, PemKeyNeedsItsBody) {
  std::string begin = "-----BEGIN RSA PRIVATE" " KEY-----";
  std::string body(64, 'Q');
  auto hits = scan(TextKind::kCode, {begin, body, body});
  ASSERT_EQ(rules(hits), std::vector<std::string>{"private-key-pem"});
  EXPECT_EQ(hits[0].position, 1u);
  EXPECT_EQ(hits[0].evidence.find(body.substr(0, 20)), std::string::npos);
  EXPECT_TRUE(scan(TextKind::kCode, {begin, "...", "", "", "", body}).empty());
  // Body in the same C string line.
  EXPECT_EQ(scan(TextKind::kCode, {"\"" + begin + "\\n" + body + "\\n\""}).size(), 1u);
  // Code that assembles a PEM string is not a key: its lines are not body.
  EXPECT_TRUE(scan(TextKind::kCode, {"  std::string pem = \"" + begin + "\\n\";",
                                     "  unsigned char line[65];",
                                     "  for (std::size_t off = 0; off < sizeof der; off += 48) {",
                                     "    int n = EVP_EncodeBlock(line, der + off, static_cast<int>(len));"})
                  .empty());
  // A JSON value keeps its body after \n escapes.
  EXPECT_EQ(scan(TextKind::kCode, {"\"private_key\": \"" + begin + "\\n" + body + "\\n" + body + "\\n\","}).size(), 1u);
  SecretLineScanner s(TextKind::kCode);
  std::vector<SecretHit> h;
  s.feed("-----BEGIN CERTIFICATE-----", 1, h);
  EXPECT_TRUE(s.saw_certificate());
  EXPECT_FALSE(s.saw_private_key());
}

TEST(AuditSecretRules, CloudShapesUrlsAndEntropy) {
  std::string id = std::string("AK") + "IA" + "QWERTY234567ZXCV";
  EXPECT_EQ(rules(scan(TextKind::kCode, {"id = \"" + id + "\""})), std::vector<std::string>{"aws-access-key-id"});
  EXPECT_TRUE(scan(TextKind::kCode, {"id = \"AKIAIOSFODNN7" "EXAMPLE\""}).empty());
  EXPECT_EQ(rules(scan(TextKind::kCode, {"u = \"https://bob:" + kPw + "@api.example.com/x\""})),
            std::vector<std::string>{"credentials-in-url"});
  EXPECT_TRUE(scan(TextKind::kCode, {"u = \"https://bob:${PASS}@api.example.com/x\""}).empty());
  EXPECT_EQ(rules(scan(TextKind::kCode, {"hmac_seed = \"q8ZP3xV0kLm2Tx9RkWb7Yc4N\""})),
            std::vector<std::string>{"high-entropy-secret"});
  EXPECT_TRUE(scan(TextKind::kCode, {"hmac_seed = \"aaaaaaaaaaaaaaaaaaaaaaaa\""}).empty());
  EXPECT_NEAR(shannon_entropy("abcd"), 2.0, 1e-9);
  EXPECT_EQ(shannon_entropy(""), 0.0);
}

TEST(AuditSecretRules, LockFilesOnlyGetKeyShapes) {
  EXPECT_EQ(text_kind_for("web/package-lock.json"), TextKind::kLockFile);
  EXPECT_EQ(text_kind_for("Cargo.lock"), TextKind::kLockFile);
  EXPECT_EQ(text_kind_for("go.sum"), TextKind::kLockFile);
  EXPECT_EQ(text_kind_for("prod.env"), TextKind::kConfig);
  EXPECT_EQ(text_kind_for("a.cpp"), TextKind::kCode);
  EXPECT_TRUE(scan(TextKind::kLockFile, {"  \"auth_token\": \"" + kPw + "\""}).empty());
}

TEST(AuditSecretRules, VeryLongLinesAreScannedInBoundedWindows) {
  std::string line(5000, 'x');
  line += " password = \"" + kPw + "\"";
  line += std::string(5000, 'y');
  auto hits = scan(TextKind::kCode, {line});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].column, 5000u + 13u);
}

}  // namespace
}  // namespace armored::audit

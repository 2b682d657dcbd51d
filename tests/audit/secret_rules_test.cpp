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

// The three lines of the report that started this work: the unquoted value
// with a '#' inside was cut at the '#' and then looked like a placeholder.
const std::string kHashPw = std::string("Zx8#") + "Lm3!Qw9Ty";

TEST(AuditSecretRules, UnquotedValueWithHashIsFoundInDotenvAndYaml) {
  using V = std::vector<std::string>;
  V one = {"hardcoded-password"};
  auto dotenv = scan(TextKind::kConfig, {"DB_PASSWORD=" + kHashPw});
  EXPECT_EQ(rules(dotenv), one);
  ASSERT_EQ(dotenv.size(), 1u);
  EXPECT_EQ(dotenv[0].column, 12u);
  EXPECT_EQ(dotenv[0].evidence.find(kHashPw), std::string::npos) << dotenv[0].evidence;
  EXPECT_EQ(dotenv[0].evidence.find("Lm3"), std::string::npos) << dotenv[0].evidence;
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"db_password: " + kHashPw})), one);
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"DB_PASSWORD=\"" + kHashPw + "\""})), one);
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"MQTT_PASS=Hq7$Vd2@Lp9Ks"})), one);
  // Whitespace before '#' makes it a comment: the value is what precedes it.
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"DB_PASSWORD=" + kPw + "  # rotated in May"})), one);
  EXPECT_EQ(text_kind_for(".env"), TextKind::kConfig);
  EXPECT_EQ(text_kind_for("deploy/gateway.env"), TextKind::kConfig);
  EXPECT_EQ(text_kind_for("deploy/values.yaml"), TextKind::kConfig);
}

TEST(AuditSecretRules, UnquotedValuesInEachConfigFormat) {
  using V = std::vector<std::string>;
  V one = {"hardcoded-password"};
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"[mqtt]", "password = " + kHashPw})), one);              // INI
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"spring.datasource.password=" + kHashPw})), one);         // properties
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"export MQTT_PASSWORD=" + kHashPw})), one);              // shell
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"uploader --api-token=" + kPw + " --host a"})), one);    // flags
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"ENV DB_USER=app DB_PASSWORD=" + kHashPw})), one);      // Dockerfile
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"ENV DB_PASSWORD " + kPw})), one);                       // legacy ENV
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"Environment=\"MQTT_PASS=" + kHashPw + "\""})), one);    // systemd
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"Environment=MQTT_PASS=" + kPw})), one);
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"    environment:", "      - DB_PASSWORD=" + kHashPw})), one);  // compose
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"      - \"DB_PASSWORD=" + kHashPw + "\""})), one);
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"        env:", "        - name: DB_PASSWORD",              // Kubernetes
                                           "          value: " + kHashPw})), one);
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"stringData:", "  mqtt-password: " + kHashPw})), one);
  EXPECT_EQ(rules(scan(TextKind::kCode, {R"(  {"name": "DB_PASSWORD", "value": ")" + kPw + "\"},"})), one);  // ECS
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"MQTT_PASS ?= " + kPw})), one);                          // Makefile
  // Binary strings carry the same dotenv lines.
  EXPECT_EQ(rules(scan(TextKind::kBinaryString, {"DB_PASSWORD=" + kHashPw})), one);
}

TEST(AuditSecretRules, ConfigFileNamesSelectUnquotedValues) {
  for (const char* n : {"Dockerfile", "Dockerfile.gateway", "gw.dockerfile", "Containerfile",
                        "docker-compose.yml", "compose.yaml", "armored-gateway.service", "gw.socket",
                        "deploy.sh", ".bashrc", ".profile", ".envrc", ".pypirc", "Makefile", "rules.mk", "my.cnf",
                        "app.properties", "broker.ini", "settings.cfg", "k8s/deployment.yaml"}) {
    EXPECT_EQ(text_kind_for(n), TextKind::kConfig) << n;
  }
  for (const char* n : {"main.c", "app.py", "index.js", "config.json", "pnpm-lock.yaml"}) {
    EXPECT_NE(text_kind_for(n), TextKind::kConfig) << n;
  }
}

TEST(AuditSecretRules, UnquotedReferencesAndPlaceholdersAreNotSecrets) {
  for (std::string line : {
           "DB_PASSWORD=${DB_PASSWORD}", "DB_PASSWORD=${DB_PASSWORD:-}", "DB_PASSWORD=$DB_PASSWORD",
           "DB_PASSWORD=$(cat /run/secrets/db)", "db_password: \"{{ vault_db_password }}\"",
           "password = %(DB_PASSWORD)s", "DB_PASSWORD=%DB_PASSWORD%", "DB_PASSWORD=changeme",
           "DB_PASSWORD=", "DB_PASSWORD=<your-password>", "DB_PASSWORD=xxxxxxxx", "db_password: ~",
           "db_password: null", "password: !vault |", "password: *default_password", "password: >-",
           "DB_PASSWORD=/run/secrets/db_password", "DB_PASSWORD_FILE=/run/secrets/db_password",
           "api_token: op://fleet/mqtt/token", "db.password=ENC(Zq8vLm2Tx9RkWb7Y)",
           "password: ENC[AES256_GCM,data:Zq8vLm2Tx9Rk,iv:Wb7Y,tag:c4N=,type:str]",
           "MQTT_TOKEN=@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/mqtt/)",
           "PASSWORD_MIN_LENGTH=12", "token_ttl: 3600", "password_hash: $2b$12$Zq8vLm2Tx9RkWb7Yc4NaO",
           "require_password: true", "password: must be at least 12 characters",
           "uploader --password \"$MQTT_PASS\"", "Environment=MQTT_PASS=${MQTT_PASS}"}) {
    EXPECT_TRUE(scan(TextKind::kConfig, {line}).empty()) << line;
  }
  // Labels and constant names: OpenSSL's OID and cipher-suite names.
  EXPECT_TRUE(scan(TextKind::kCode, {"#define LN_userPassword \"userPassword\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"#define SN_kx_psk \"KxPSK\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"#define TLS1_TXT_PSK_WITH_AES_256_GCM_SHA384 \"PSK-AES256-GCM-SHA384\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"#define TLS1_RFC_PSK_WITH_CHACHA20_POLY1305 \"TLS_PSK_WITH_CHACHA20_POLY1305_SHA256\""}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"credentials = '{0}:{1}'.format(user, passwd).encode()"}).empty());
  EXPECT_TRUE(scan(TextKind::kBinaryString, {"Error: --psk argument given but no key specified."}).empty());
  EXPECT_TRUE(scan(TextKind::kBinaryString, {"Error: --psk-identity required if --psk given."}).empty());
  // A run-together name is still a credential name; a random key keeps its
  // finding although it contains separators.
  EXPECT_EQ(rules(scan(TextKind::kConfig, {"PGPASSWORD=" + kPw + " pg_dump -h db telemetry"})),
            std::vector<std::string>{"hardcoded-password"});
  EXPECT_EQ(rules(scan(TextKind::kCode, {"hmac_seed = \"q8ZP3x-V0kLm2T_x9RkWb7Yc4N\""})),
            std::vector<std::string>{"high-entropy-secret"});
  // Kubernetes: a secretKeyRef is a reference; a value two entries down
  // belongs to another name.
  EXPECT_TRUE(scan(TextKind::kConfig, {"- name: DB_PASSWORD", "  valueFrom:", "    secretKeyRef:",
                                       "      name: db", "      key: password"}).empty());
  EXPECT_TRUE(scan(TextKind::kConfig, {"- name: DB_PASSWORD", "  valueFrom: {}", "- name: LOG_LEVEL",
                                       "  value: " + kPw}).empty());
  // A marked test fixture covers its next lines.
  EXPECT_TRUE(scan(TextKind::kConfig, {"# test fixture: not a deployed credential", "DB_PASSWORD=" + kHashPw})
                  .empty());
  // Unquoted values are configuration syntax only, never code.
  EXPECT_TRUE(scan(TextKind::kCode, {"DB_PASSWORD=" + kHashPw}).empty());
  EXPECT_TRUE(scan(TextKind::kLockFile, {"DB_PASSWORD=" + kHashPw}).empty());
}

// Vendor formats are found wherever they are pasted, whatever the name;
// documentation fill in the same format is not a token.
TEST(AuditSecretRules, VendorTokenFormatsWithoutACredentialName) {
  const std::string gl = std::string("glp") + "at-" + "q8ZP3xV0kLm2Tx9RkWb7";
  const std::string hf = std::string("hf") + "_" + "qZPxVkLmTxRkWbYcNaOpQrStUvWxYzAbCd";
  const std::string np = std::string("np") + "m_" + "q8ZP3xV0kLm2Tx9RkWb7Yc4NaO1pQ2rS3tU4";
  const std::string dk = std::string("dckr") + "_pat_" + "q8ZP3xV0kLm2Tx9RkWb7Yc4NaO1";
  for (const auto& line : {"The mirror authenticates with `" + gl + "`.", "login(\"" + hf + "\")",
                           "//registry.npmjs.org/:_authToken=" + np, "docker login -u ci -p " + dk}) {
    auto hits = scan(TextKind::kCode, {line});
    ASSERT_EQ(hits.size(), 1u) << line;
    EXPECT_TRUE(hits[0].rule->id == "service-token" || hits[0].rule->id == "npm-token") << line;
    EXPECT_EQ(hits[0].evidence.find(line.substr(line.size() / 2, 8)), std::string::npos) << hits[0].evidence;
  }
  EXPECT_TRUE(scan(TextKind::kCode, {"token looks like `glpat-xxxxxxxxxxxxxxxxxxxx`"}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {std::string("export GITHUB_TOKEN=gh") + "p_" + std::string(36, 'x')}).empty());
  EXPECT_TRUE(scan(TextKind::kCode, {"TOKENIZER = \"hf_internal_testing_tokenizer_config\""}).empty());
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

// `armored audit secrets` against a corpus generated here: planted secrets in
// C, C++, Python, JSON, YAML, TOML, INI, .env and a small ELF compiled by the
// test, plus look-alikes that must not be reported. Recall and precision are
// computed and printed. Secret-shaped strings are assembled from fragments at
// run time so this file itself scans clean.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace armored::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Gen {
 public:
  std::string pick(std::string_view alphabet, std::size_t n) {
    std::string s;
    std::uniform_int_distribution<std::size_t> d(0, alphabet.size() - 1);
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[d(rng_)]);
    return s;
  }
  std::string alnum(std::size_t n) { return pick("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", n); }
  std::string b64(std::size_t n) { return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", n); }
  std::string hex(std::size_t n) { return pick("0123456789abcdef", n); }
  std::string upper32(std::size_t n) { return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n); }
  std::string digits(std::size_t n) { return pick("0123456789", n); }
  // A password with letters and digits in both cases.
  std::string password() { return "Pw" + alnum(10) + digits(2); }

 private:
  std::mt19937 rng_{20260226};
};

struct Planted {
  std::string file;   // relative to corpus root
  std::string rule;
  std::size_t line;   // 0: anywhere in the file (binaries)
  std::string value;  // must never appear in the output
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Joins lines and records planted secrets by marker: a line whose text holds
// "@@rule" is planted for that rule (marker removed).
struct FileBuilder {
  std::string name;
  std::vector<std::string> lines;
  std::vector<Planted>* planted;
  void ok(const std::string& l) { lines.push_back(l); }
  void secret(const std::string& rule, const std::string& l, const std::string& value) {
    lines.push_back(l);
    planted->push_back({name, rule, lines.size(), value});
  }
  std::string text() const {
    std::string t;
    for (const auto& l : lines) t += l + "\n";
    return t;
  }
};

std::string pem(const std::string& label, Gen& g, const std::string& nl) {
  std::string dashes = "-----";
  return dashes + "BEGIN " + label + dashes + nl + g.b64(64) + nl + g.b64(64) + nl + g.b64(20) + "==" +
         nl + dashes + "END " + label + dashes + nl;
}

struct Corpus {
  fs::path root;
  std::vector<Planted> planted;
  std::size_t lookalikes = 0;
};

Corpus build_corpus(const fs::path& root) {
  Corpus c;
  c.root = root;
  Gen g;
  auto& P = c.planted;
  const std::string pk = std::string("PRIVATE") + " KEY";

  {  // C firmware source.
    FileBuilder f{"device/main.c", {}, &P};
    std::string pw = g.password(), api = g.alnum(24), aws = "AK" "IA" + g.upper32(16);
    f.ok("#include <stdio.h>");
    f.secret("hardcoded-password", "static const char *mqtt_password = \"" + pw + "\";", pw);
    f.secret("hardcoded-password", "#define API_KEY \"" + api + "\"", api);
    f.secret("aws-access-key-id", "const char aws_id[] = \"" + aws + "\";", aws);
    std::string key = pem("EC " + pk, g, "\\n");
    f.secret("private-key-pem", "static const char device_key_pem[] = \"" + key + "\";", key.substr(40, 30));
    // Look-alikes.
    f.ok("static const char *wifi_password = \"changeme\";");
    f.ok("static const char *mqtt_pass = \"\";");
    f.ok("#define TOKEN_PLACEHOLDER \"<token>\"");
    f.ok("const char *password_prompt = \"Enter password: \";");
    f.ok("int token_count = 42;");
    f.ok("const char *aws_doc_id = \"AK\" \"IAIOSFODNN7EXAMPLE\";");
    f.ok("const char *aws_example = \"AKIAIOSFODNN7" "EXAMPLE\";");
    c.lookalikes += 6;
    write(root / f.name, f.text());
  }
  {  // C++ gateway source.
    FileBuilder f{"gateway/uplink.cpp", {}, &P};
    std::string tok = g.alnum(32), upw = g.password(), b64 = g.b64(44), gh = "gh" "p_" + g.alnum(36);
    f.secret("hardcoded-password", "  std::string token{\"" + tok + "\"};", tok);
    f.secret("credentials-in-url", "  auto url = \"mqtts://gw:" + upw + "@broker.example.net:8883\";", upw);
    f.secret("high-entropy-secret", "  const char device_key_b64[] = \"" + b64 + "\";", b64);
    f.secret("github-token", "  const char* ci = \"" + gh + "\";", gh);
    f.ok("  std::string token = read_token_from(\"/etc/armored/token\");");
    f.ok("  const char* commit = \"" + g.hex(40) + "\";  // build id");
    f.ok("  const char* docs = \"mqtt://user:password@localhost:1883\";");
    f.ok("  auto password = std::getenv(\"GW_PASSWORD\");");
    // Random-looking but public or metadata: not secrets.
    f.ok("  const char* server_public_key = \"" + g.b64(44) + "\";");
    f.ok("  const char* signing_key_id = \"" + g.hex(40) + "\";");
    f.ok("  const char* cert_fingerprint = \"" + g.hex(64) + "\";");
    f.ok("  const char* session_key_hash = \"" + g.hex(64) + "\";");
    f.ok("  const char* icon = \"data:image/png;base64," + g.b64(120) + "\";");
    f.ok("  const char* client_id = \"3f0c2a9e-8b1d-4c6f-9a7e-" + g.hex(12) + "\";");
    c.lookalikes += 10;
    write(root / f.name, f.text());
  }
  {  // Python client.
    FileBuilder f{"client/app.py", {}, &P};
    std::string p1 = g.password(), p2 = g.password(), slack = "xo" "xb-" + g.digits(12) + "-" + g.alnum(24);
    std::string stripe = "sk" "_live_" + g.alnum(24);
    f.ok("import os, paho.mqtt.client as mqtt");
    f.secret("hardcoded-password", "MQTT_PASS = \"" + p1 + "\"", p1);
    f.secret("hardcoded-password", "client.username_pw_set(\"sensor01\", \"" + p2 + "\")", p2);
    f.secret("slack-token", "SLACK = \"" + slack + "\"", slack);
    f.secret("stripe-live-key", "stripe.api_key = \"" + stripe + "\"", stripe);
    f.ok("password = os.environ[\"MQTT_PASSWORD\"]");
    f.ok("api_key = os.getenv(\"API_KEY\", \"\")");
    f.ok("token = \"${API_TOKEN}\"");
    f.ok("secret = \"xxxxxxxxxxxx\"");
    f.ok("# test vector from RFC 8032, section 7.1");
    f.ok("secret_key = \"" + g.hex(64) + "\"");
    f.ok("password = \"<password>\"");
    c.lookalikes += 6;
    write(root / f.name, f.text());
  }
  {  // JSON config with a service-account key file.
    FileBuilder f{"config/service-account.json", {}, &P};
    std::string keyid = g.hex(40), pw = g.password();
    std::string key = pem(pk, g, "\\n");
    f.ok("{");
    f.ok("  \"type\": \"service_account\",");
    f.secret("gcp-service-account-key", "  \"private_key_id\": \"" + keyid + "\",", keyid);
    f.secret("private-key-pem", "  \"private_key\": \"" + key + "\",", key.substr(40, 30));
    f.secret("hardcoded-password", "  \"password\": \"" + pw + "\",", pw);
    f.ok("  \"api_key\": \"your_api_key_here\",");
    f.ok("  \"token\": null");
    f.ok("}");
    c.lookalikes += 2;
    write(root / f.name, f.text());
  }
  {  // YAML deployment.
    FileBuilder f{"deploy/values.yaml", {}, &P};
    std::string pw = g.password(), acct = g.b64(86) + "==";
    f.ok("database:");
    f.secret("hardcoded-password", "  db_password: " + pw, pw);
    f.secret("azure-storage-key",
             "  storage: \"DefaultEndpointsProtocol=https;AccountName=telemetry;Account" "Key=" + acct +
                 ";EndpointSuffix=core.windows.net\"",
             acct);
    f.ok("  password: ${DB_PASSWORD}");
    f.ok("  token: \"{{ .Values.token }}\"");
    f.ok("  secret_name: armored-db");
    c.lookalikes += 3;
    write(root / f.name, f.text());
  }
  {  // TOML settings.
    FileBuilder f{"deploy/settings.toml", {}, &P};
    std::string tok = g.alnum(28), pw = g.password();
    f.secret("hardcoded-password", "api_token = \"" + tok + "\"", tok);
    f.secret("credentials-in-url", "broker_url = \"mqtt://admin:" + pw + "@10.1.2.3:1883\"", pw);
    f.ok("password_file = \"/etc/mosquitto/passwd\"");
    f.ok("api_token = \"changeme\"");
    c.lookalikes += 2;
    write(root / f.name, f.text());
  }
  {  // INI.
    FileBuilder f{"deploy/broker.ini", {}, &P};
    std::string pw = g.password();
    f.ok("[broker]");
    f.secret("hardcoded-password", "password = " + pw, pw);
    f.ok("password =");
    f.ok("token = xxxx");
    c.lookalikes += 2;
    write(root / f.name, f.text());
  }
  {  // .env
    FileBuilder f{"deploy/.env", {}, &P};
    std::string aws_secret = g.b64(40), pw = g.password(), gkey = "AI" "za" + g.alnum(35);
    f.secret("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY=" + aws_secret, aws_secret);
    f.secret("hardcoded-password", "MQTT_PASSWORD=" + pw, pw);
    f.secret("google-api-key", "GOOGLE_API_KEY=" + gkey, gkey);
    f.ok("MQTT_PASS=${MQTT_PASS}");
    f.ok("DB_PASSWORD=");
    c.lookalikes += 2;
    write(root / f.name, f.text());
  }
  {  // Lock files: hashes, never secrets.
    write(root / "web/package-lock.json",
          "{\n  \"packages\": {\n    \"node_modules/mqtt\": {\n      \"integrity\": \"sha512-" + g.b64(86) +
              "==\",\n      \"resolved\": \"https://registry.npmjs.org/mqtt/-/mqtt-5.0.0.tgz\"\n    }\n  }\n}\n");
    write(root / "fw/Cargo.lock", "[[package]]\nname = \"ring\"\nchecksum = \"" + g.hex(64) + "\"\n");
    write(root / "gw/go.sum", "golang.org/x/crypto v0.17.0 h1:" + g.b64(43) + "=\n");
    c.lookalikes += 3;
  }
  {  // A PEM header in documentation, without a key.
    write(root / "docs/keys.md", "Keys look like `-----BEGIN " + pk + "-----` followed by base64 ...\n");
    c.lookalikes += 1;
  }
  {  // Certificate and key shipped side by side (made with the openssl CLI).
    fs::create_directories(root / "certs");
    auto r = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", (root / "certs/device.key").string(), "-out",
                  (root / "certs/device.crt").string(), "-days", "30", "-subj", "/CN=device-0001"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    P.push_back({"certs/device.key", "private-key-pem", 1, ""});
    P.push_back({"certs/device.key", "cert-key-pair", 0, ""});
  }
  return c;
}

// Compiles a small firmware image with secrets in string literals and a DER key.
void build_elf(Corpus& c, const fs::path& work) {
  Gen g;
  g.alnum(7);  // a different stream from the text corpus
  std::string url_pw = g.password(), aws = "AS" "IA" + g.upper32(16), api = g.alnum(26);
  auto der = run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-outform", "DER", "-out", (work / "k.der").string()});
  ASSERT_EQ(der.exit_code, 0) << der.err;
  std::string bytes = slurp(work / "k.der");
  std::string arr;
  for (unsigned char b : bytes) arr += std::to_string(b) + ",";
  std::string dashes = "-----";
  std::string src =
      "#include <stdio.h>\n"
      "const char *broker = \"mqtt://fw:" + url_pw + "@broker.example.com:1883\";\n"
      "const char *cloud_id = \"" + aws + "\";\n"
      "const char *cfg = \"api_key=" + api + "\";\n"
      "const char *rsa = \"" + dashes + "BEGIN RSA PRIVATE" " KEY" + dashes + "\\n" + g.b64(64) + "\\n" +
      g.b64(64) + "\\n" + dashes + "END RSA PRIVATE" " KEY" + dashes + "\\n\";\n"
      "const unsigned char der_key[] = {" + arr + "};\n"
      "const char *banner = \"armored demo firmware v1.2\";\n"
      "int main(void) { puts(broker); puts(cloud_id); puts(cfg); puts(rsa); printf(\"%d %s\\n\", der_key[3], banner); return 0; }\n";
  write(work / "fw.c", src);
  fs::create_directories(c.root / "firmware");
  auto cc = run({"cc", "-O0", "-o", (c.root / "firmware/fw.elf").string(), (work / "fw.c").string()});
  ASSERT_EQ(cc.exit_code, 0) << cc.err;
  c.planted.push_back({"firmware/fw.elf", "credentials-in-url", 0, url_pw});
  c.planted.push_back({"firmware/fw.elf", "aws-access-key-id", 0, aws});
  c.planted.push_back({"firmware/fw.elf", "hardcoded-password", 0, api});
  c.planted.push_back({"firmware/fw.elf", "private-key-pem", 0, ""});
  c.planted.push_back({"firmware/fw.elf", "private-key-der", 0, ""});
}

json run_json(const std::vector<std::string>& args, int expect_exit) {
  std::vector<std::string> argv = {armored_binary().string(), "--json", "audit", "secrets"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, expect_exit) << r.err;
  return json::parse(r.out);
}

TEST(AuditSecretsCorpus, FindsEveryPlantedSecretAndFewLookalikes) {
  TempDir work;
  Corpus c = build_corpus(work / "corpus");
  build_elf(c, work.path());
  ASSERT_FALSE(HasFailure());
  auto r = run({armored_binary().string(), "--json", "audit", "secrets", (work / "corpus").string()},
               std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 1) << r.err;
  auto report = json::parse(r.out);
  std::vector<bool> matched(c.planted.size(), false);
  std::size_t tp = 0, fp = 0;
  std::string root = (work / "corpus").string() + "/";
  for (const auto& f : report["findings"]) {
    std::string path = f["location"]["path"].get<std::string>();
    std::string rel = path.rfind(root, 0) == 0 ? path.substr(root.size()) : path;
    std::size_t line = f["location"].value("line", std::size_t{0});
    bool hit = false;
    for (std::size_t i = 0; i < c.planted.size(); ++i) {
      const auto& p = c.planted[i];
      if (matched[i] || p.file != rel || p.rule != f["rule"]) continue;
      if (p.line != 0 && p.line != line) continue;
      matched[i] = hit = true;
      break;
    }
    if (hit) {
      ++tp;
    } else {
      ++fp;
      ADD_FAILURE() << "false positive: " << f.dump();
    }
  }
  for (std::size_t i = 0; i < c.planted.size(); ++i) {
    EXPECT_TRUE(matched[i]) << "missed " << c.planted[i].rule << " in " << c.planted[i].file << ":"
                            << c.planted[i].line;
  }
  double recall = static_cast<double>(tp) / static_cast<double>(c.planted.size());
  double precision = tp + fp == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
  std::printf("audit secrets corpus: %zu planted, %zu look-alikes, %zu true positives, %zu false positives\n"
              "audit secrets corpus: recall %.1f%%, precision %.1f%%\n",
              c.planted.size(), c.lookalikes, tp, fp, recall * 100, precision * 100);
  EXPECT_EQ(recall, 1.0);
  EXPECT_GE(precision, 0.95);

  // Never the full secret, in any output format.
  auto text = run({armored_binary().string(), "audit", "secrets", (work / "corpus").string()});
  auto sarif = run({armored_binary().string(), "audit", "secrets", "--sarif", (work / "corpus").string()});
  for (const auto& p : c.planted) {
    if (p.value.size() < 8) continue;
    EXPECT_EQ(r.out.find(p.value), std::string::npos) << p.rule;
    EXPECT_EQ(text.out.find(p.value), std::string::npos) << p.rule;
    EXPECT_EQ(sarif.out.find(p.value), std::string::npos) << p.rule;
  }
  // The text report names evidence, why and fix for each finding.
  EXPECT_NE(text.out.find("why:"), std::string::npos);
  EXPECT_NE(text.out.find("fix:"), std::string::npos);
}

// The report that started the unquoted-value work, through the CLI: the
// value with '#' inside in .env, *.env and YAML is found, its look-alikes
// are not, and no output format prints it.
TEST(AuditSecretsCorpus, UnquotedValuesWithHashInDotenvAndYamlAreFoundAndRedacted) {
  TempDir work;
  const std::string pw = std::string("Zx8#") + "Lm3!Qw9Ty";
  write(work / "t/.env", "DB_PASSWORD=" + pw + "\nDB_USER=${DB_USER}\n");
  write(work / "t/gateway.env", "DB_PASSWORD=" + pw + "  # rotated in May\nDB_PASSWORD_FILE=/run/secrets/db\n");
  write(work / "t/values.yaml", "db:\n  db_password: " + pw + "\n  token: ${TOKEN}\n");
  write(work / "t/q.env", "DB_PASSWORD=\"" + pw + "\"\n");
  auto j = run_json({(work / "t").string()}, 1);
  std::set<std::string> files;
  for (const auto& f : j["findings"]) {
    EXPECT_EQ(f["rule"], "hardcoded-password") << f.dump();
    files.insert(fs::path(f["location"]["path"].get<std::string>()).filename().string());
  }
  EXPECT_EQ(files, (std::set<std::string>{".env", "gateway.env", "values.yaml", "q.env"}));
  EXPECT_EQ(j["findings"].size(), 4u) << j.dump();
  auto text = run({armored_binary().string(), "audit", "secrets", (work / "t").string()});
  auto sarif = run({armored_binary().string(), "audit", "secrets", "--sarif", (work / "t").string()});
  for (const auto* out : {&text.out, &sarif.out}) {
    EXPECT_EQ(out->find("Lm3!Qw9"), std::string::npos);
  }
  EXPECT_EQ(j.dump().find("Lm3!Qw9"), std::string::npos);
}

TEST(AuditSecretsCorpus, SarifIsStructurallyValid) {
  TempDir work;
  Corpus c = build_corpus(work / "corpus");
  auto r = run({armored_binary().string(), "audit", "secrets", "--sarif", (work / "corpus").string()});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  auto s = json::parse(r.out);
  EXPECT_EQ(s["version"], "2.1.0");
  ASSERT_TRUE(s["runs"].is_array());
  ASSERT_EQ(s["runs"].size(), 1u);
  const auto& driver = s["runs"][0]["tool"]["driver"];
  EXPECT_TRUE(driver["name"].is_string());
  ASSERT_TRUE(driver["rules"].is_array());
  ASSERT_FALSE(driver["rules"].empty());
  std::set<std::string> ids;
  for (const auto& rule : driver["rules"]) {
    ASSERT_TRUE(rule["id"].is_string());
    EXPECT_TRUE(rule["shortDescription"]["text"].is_string());
    ids.insert(rule["id"].get<std::string>());
  }
  const auto& results = s["runs"][0]["results"];
  ASSERT_TRUE(results.is_array());
  EXPECT_GE(results.size(), c.planted.size());
  for (const auto& res : results) {
    ASSERT_TRUE(res["ruleId"].is_string());
    EXPECT_TRUE(ids.count(res["ruleId"].get<std::string>())) << res["ruleId"];
    EXPECT_EQ(driver["rules"][res["ruleIndex"].get<std::size_t>()]["id"], res["ruleId"]);
    EXPECT_TRUE(res["message"]["text"].is_string());
    EXPECT_TRUE(res["level"] == "error" || res["level"] == "warning" || res["level"] == "note");
    ASSERT_TRUE(res["locations"].is_array());
    ASSERT_FALSE(res["locations"].empty());
    const auto& phys = res["locations"][0]["physicalLocation"];
    ASSERT_TRUE(phys.contains("artifactLocation"));
    EXPECT_TRUE(phys["artifactLocation"]["uri"].is_string());
    // File-level findings (a key next to its certificate) carry no region.
    if (phys.contains("region")) {
      EXPECT_TRUE(phys["region"].contains("startLine") || phys["region"].contains("byteOffset"));
    }
  }
}

TEST(AuditSecretsCorpus, ProjectTreeScansClean) {
  std::vector<std::string> args = {armored_binary().string(), "audit", "secrets", "--fail-on", "info"};
  for (const char* d : {"src", "docs", "scripts", "config"}) {
    if (fs::exists(source_path(d))) args.push_back(source_path(d).string());
  }
  auto r = run(args, std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 findings"), std::string::npos) << r.out;
}

TEST(AuditSecretsCorpus, WholeRepositoryScansCleanWithItsReviewedAllowlist) {
  std::vector<std::string> args = {armored_binary().string(), "audit", "secrets", "--fail-on", "info",
                                   "--allowlist", source_path("config/audit-allowlist.txt").string()};
  for (const char* d : {"src", "docs", "scripts", "config", "tests", "fuzz", "bench", "cmake"}) {
    if (fs::exists(source_path(d))) args.push_back(source_path(d).string());
  }
  auto r = run(args, std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(AuditSecretsCorpus, AllowlistAndInlineMarkerSuppress) {
  TempDir work;
  std::string pw = Gen().password();
  write(work / "src/a.py", "db_password = \"" + pw + "\"\nother_password = \"" + pw +
                               "\"  # armored-audit:allow reviewed: test fixture\n");
  write(work / "allow.txt", "# reviewed\nhardcoded-password  */src/a.py  1\n");
  auto before = run_json({(work / "src").string()}, 1);
  EXPECT_EQ(before["findings"].size(), 1u);  // the inline marker already hides line 2
  auto after = run_json({"--allowlist", (work / "allow.txt").string(), (work / "src").string()}, 0);
  EXPECT_EQ(after["findings"].size(), 0u);
  EXPECT_EQ(after["suppressed"], 1);
  write(work / "bad.txt", "only-one-field\n");
  auto bad = run({armored_binary().string(), "audit", "secrets", "--allowlist", (work / "bad.txt").string(),
                  (work / "src").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("allowlist line 1"), std::string::npos) << bad.err;
}

TEST(AuditSecretsCorpus, FailOnThresholdAndUsageErrors) {
  TempDir work;
  Gen g;
  std::string b64 = g.b64(44);
  write(work / "a.c", "const char device_key_b64[] = \"" + b64 + "\";\n");  // medium finding
  EXPECT_EQ(run({armored_binary().string(), "audit", "secrets", "--fail-on", "high", work.path().string()}).exit_code, 0);
  EXPECT_EQ(run({armored_binary().string(), "audit", "secrets", "--fail-on", "medium", work.path().string()}).exit_code, 1);
  EXPECT_EQ(run({armored_binary().string(), "audit", "secrets", "--fail-on", "none", work.path().string()}).exit_code, 0);
  EXPECT_EQ(run({armored_binary().string(), "audit", "secrets", "--fail-on", "bogus", work.path().string()}).exit_code, 2);
  EXPECT_EQ(run({armored_binary().string(), "audit", "secrets", (work / "missing").string()}).exit_code, 2);
}

TEST(AuditSecretsCorpus, Utf16StringsInBinariesAreFoundWithTheirOffset) {
  TempDir work;
  std::string pw = Gen().password();
  std::string url = "mqtt://hub:" + pw + "@broker.example.com";
  std::string blob(100, '\0');
  blob[0] = '\x7f';  // binary: NUL bytes in the first 8 KiB
  for (char c : url) {
    blob.push_back(c);
    blob.push_back('\0');
  }
  blob.append(50, '\0');
  write(work / "fw.bin", blob);
  auto j = run_json({work.path().string()}, 1);
  ASSERT_EQ(j["findings"].size(), 1u) << j.dump();
  EXPECT_EQ(j["findings"][0]["rule"], "credentials-in-url");
  // The byte offset of the password's first UTF-16 code unit.
  EXPECT_EQ(j["findings"][0]["location"]["offset"], 100 + 2 * 11);
  EXPECT_EQ(j.dump().find(pw), std::string::npos);
}

TEST(AuditSecretsCorpus, SizeLimitSymlinksAndVcsDirectories) {
  TempDir work;
  TempDir outside;
  Gen g;
  std::string pw = g.password();
  // A secret after the first MiB of a large file is beyond --max-file-mib 1.
  {
    std::ofstream big(work / "tree/big.log", std::ios::binary);
  }
  fs::create_directories(work / "tree/.git");
  {
    std::ofstream big(work / "tree/big.log", std::ios::binary);
    std::string filler(4096, 'a');
    filler.back() = '\n';
    for (int i = 0; i < 300; ++i) big << filler;
    big << "password = \"" << pw << "\"\n";
  }
  write(work / "tree/.git/config", "password = \"" + pw + "\"\n");
  write(outside / "secret.env", "MQTT_PASSWORD=" + pw + "\n");
  fs::create_symlink(outside / "secret.env", work / "tree/link.env");
  auto limited = run_json({"--max-file-mib", "1", (work / "tree").string()}, 0);
  EXPECT_EQ(limited["findings"].size(), 0u) << limited.dump();
  EXPECT_EQ(limited["details"]["truncated_files"], 1);
  EXPECT_EQ(limited["details"]["skipped_symlinks"], 1);
  auto full = run_json({(work / "tree").string()}, 1);
  EXPECT_EQ(full["findings"].size(), 1u) << full.dump();
}

}  // namespace
}  // namespace armored::testing

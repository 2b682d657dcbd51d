// `armored audit code` against a corpus generated here: each pitfall in its
// language, and safe look-alikes (comments explaining why not to, the
// verifying settings, local test URLs) that must not be reported. Insecure
// spellings are assembled from fragments so this file does not carry them.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace armored::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Case {
  std::string file;
  std::string line;  // exact line text
  std::string rule;  // expected rule, or "" for a look-alike
};

std::vector<Case> corpus() {
  const std::string vn = std::string("VERIFY_") + "NONE";
  const std::string off = "False";
  std::vector<Case> c = {
      // C / C++: OpenSSL, mbedTLS, wolfSSL, Paho C, libcurl.
      {"dev/tls.c", "  SSL_CTX_set_verify(ctx, SSL_" + vn + ", NULL);", "tls-verify-disabled"},
      {"dev/tls.c", "  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_" + vn + ");", "tls-verify-disabled"},
      {"dev/tls.c", "  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_" "OPTIONAL);", "tls-verify-disabled"},
      {"dev/tls.c", "  wolfSSL_CTX_set_verify(ctx, WOLFSSL_" + vn + ", 0);", "tls-verify-disabled"},
      {"dev/tls.c", "  ssl_opts.enableServerCertAuth = " "0;", "tls-verify-disabled"},
      {"dev/tls.c", "  ssl_opts.verify = " "0;", "tls-verify-disabled"},
      {"dev/tls.c", "  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, " "0L);", "tls-verify-disabled"},
      {"dev/tls.c", "  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, " "0L);", "tls-hostname-check-disabled"},
      {"dev/tls.c", "  SSL_CTX_set_min_proto_version(ctx, TLS1_" "VERSION);", "tls-min-version-weak"},
      {"dev/tls.c", "  mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_" "1);", "tls-min-version-weak"},
      {"dev/tls.c", "  ctx = wolfSSL_CTX_new(wolfTLSv1_" "client_method());", "tls-min-version-weak"},
      {"dev/tls.c", "  curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_" "0);", "tls-min-version-weak"},
      {"dev/mqtt.c", "  MQTTClient_create(&c, \"tcp://" "broker.example.com:1883\", id, 0, NULL);", "mqtt-plaintext"},
      {"dev/mqtt.c", "#define BROKER_PORT " "1883", "mqtt-plaintext"},
      {"dev/mqtt.c", "  FILE *p = po" "pen(msg->payload, \"r\");", "exec-on-message"},
      {"dev/mqtt.c", "  sys" "tem(payload);", "exec-on-message"},
      {"gw/upload.cpp", "  cli.Post(\"http://" "ingest.example.com/v1/data\", body);", "http-plaintext"},
      // Python.
      {"py/client.py", "ctx.verify_mode = ssl.CERT_" "NONE", "tls-verify-disabled"},
      {"py/client.py", "ctx.check_hostname = " + off, "tls-hostname-check-disabled"},
      {"py/client.py", "r = requests.post(url, json=data, verify=" + off + ")", "tls-verify-disabled"},
      {"py/client.py", "client.tls_insecure_set(" "True)", "tls-verify-disabled"},
      {"py/client.py", "ctx = ssl._create_unverified_" "context()", "tls-verify-disabled"},
      {"py/client.py", "client.tls_set(ca_certs=\"ca.crt\", tls_version=ssl.PROTOCOL_TLSv" "1)", "tls-min-version-weak"},
      {"py/client.py", "ctx.minimum_version = ssl.TLSVersion.TLSv1_" "1", "tls-min-version-weak"},
      {"py/client.py", "client.connect(\"broker.example.com\", " "1883)", "mqtt-plaintext"},
      {"py/client.py", "    ex" "ec(msg.payload.decode())", "exec-on-message"},
      {"py/client.py", "    ev" "al(message['expr'])", "exec-on-message"},
      {"py/client.py", "    os.sys" "tem(msg.payload.decode())", "exec-on-message"},
      {"py/client.py", "    subprocess.run(cmd, shell=" "True)", "exec-on-message"},
      {"py/client.py", "requests.post(\"http://" "api.example.com/data\", data=sensor_data)", "http-plaintext"},
      // Go.
      {"go/main.go", "\tcfg := &tls.Config{InsecureSkipVerify: " "true}", "tls-verify-disabled"},
      {"go/main.go", "\tcfg.MinVersion = tls.VersionTLS" "10", "tls-min-version-weak"},
      {"go/main.go", "\topts.AddBroker(\"tcp://" "10.0.0.5:1883\")", "mqtt-plaintext"},
      // Node.js.
      {"js/app.js", "const c = mqtt.connect('mqtt://" "broker.example.com', { rejectUnauthorized: " "false });", "mqtt-plaintext"},
      {"js/app.js", "const agent = new https.Agent({ rejectUnauthorized: " "false });", "tls-verify-disabled"},
      {"js/app.js", "const o = { minVersion: 'TLSv1" "' };", "tls-min-version-weak"},
      {"js/app.js", "  child_process.exec(message.toString());", "exec-on-message"},
      // Shell.
      {"ops/push.sh", "curl -sS" "k -u dev:x https://gw.example.com/upload", "tls-verify-disabled"},
      {"ops/push.sh", "curl --insecure" " https://gw.example.com/upload", "tls-verify-disabled"},
      {"ops/push.sh", "mosquitto_pub -h broker.example.com -p " "1883 -t t -m m", "mqtt-plaintext"},

      // Look-alikes: nothing to report.
      {"dev/tls.c", "  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);", ""},
      {"dev/tls.c", "  // never use SSL_" + vn + " here: it accepts any certificate", ""},
      {"dev/tls.c", "  /* MBEDTLS_SSL_" + vn + " would disable verification */", ""},
      {"dev/tls.c", "  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);", ""},
      {"dev/tls.c", "  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);", ""},
      {"dev/tls.c", "  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);", ""},
      {"dev/mqtt.c", "  MQTTClient_create(&c, \"ssl://broker.example.com:8883\", id, 0, NULL);", ""},
      {"dev/mqtt.c", "  MQTTClient_create(&c, \"tcp://localhost:1883\", id, 0, NULL);", ""},
      {"dev/mqtt.c", "  int n = snprintf(buf, sizeof buf, \"%d\", 18830);", ""},
      {"dev/mqtt.c", "  handle_command(msg->payload, msg->payloadlen);", ""},
      {"dev/mqtt.c", "  if (port == 1883) {", ""},
      {"dev/mqtt.c", "    return fail(\"broker.port 1883 is the plaintext MQTT port; use 8883\");", ""},
      {"py/client.py", "ctx.verify_mode = ssl.CERT_REQUIRED", ""},
      {"py/client.py", "ctx.check_hostname = True", ""},
      {"py/client.py", "# WRONG: ctx.check_hostname = " + off + " lets anyone impersonate the broker", ""},
      {"py/client.py", "client.connect(\"localhost\", 1883)", ""},
      {"py/client.py", "client.connect(\"127.0.0.1\", 1883)", ""},
      {"py/client.py", "client.connect(\"broker.example.com\", 8883)", ""},
      {"py/client.py", "requests.post(\"https://api.example.com/data\", data=sensor_data)", ""},
      {"py/client.py", "requests.get(\"http://127.0.0.1:8080/health\")", ""},
      {"py/client.py", "\"\"\"Never call exec(msg.payload): received data is untrusted.\"\"\"", ""},
      {"py/client.py", "    subprocess.run([\"/usr/bin/systemctl\", \"restart\", \"agent\"])", ""},
      {"py/client.py", "    m = pattern.exec(payload)", ""},
      {"go/main.go", "\tcfg := &tls.Config{MinVersion: tls.VersionTLS13}", ""},
      {"go/main.go", "\t// InsecureSkipVerify: true is only for the lab", ""},
      {"go/main.go", "\topts.AddBroker(\"tcp://127.0.0.1:1883\")", ""},
      {"js/app.js", "const agent = new https.Agent({ rejectUnauthorized: true });", ""},
      {"js/app.js", "const ns = 'http://www.w3.org/2000/svg';", ""},
      {"js/app.js", "const m = /cmd=(\\w+)/.exec(message);", ""},
      {"ops/push.sh", "curl -sS https://gw.example.com/upload", ""},
      {"ops/push.sh", "# do not add -k or --insecure to curl here", ""},
  };
  return c;
}

TEST(AuditCodeCorpus, FindsEveryPatternAndNoLookalike) {
  TempDir work;
  auto cases = corpus();
  std::map<std::string, std::vector<std::string>> files;
  for (const auto& c : cases) files[c.file].push_back(c.line);
  for (const auto& [name, lines] : files) {
    fs::create_directories((work / name).parent_path());
    std::ofstream out(work / name);
    for (const auto& l : lines) out << l << "\n";
  }
  auto r = run({armored_binary().string(), "--json", "audit", "code", work.path().string()},
               std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 1) << r.err;
  auto report = json::parse(r.out);
  // Index findings by file and line.
  std::map<std::pair<std::string, std::size_t>, std::set<std::string>> found;
  std::string root = work.path().string() + "/";
  for (const auto& f : report["findings"]) {
    std::string path = f["location"]["path"];
    found[{path.substr(root.size()), f["location"]["line"]}].insert(f["rule"].get<std::string>());
  }
  std::map<std::string, std::size_t> next_line;
  std::size_t patterns = 0, caught = 0, lookalikes = 0, reported_lookalikes = 0;
  for (const auto& c : cases) {
    std::size_t line = ++next_line[c.file];
    const auto& rules = found[{c.file, line}];
    if (c.rule.empty()) {
      ++lookalikes;
      if (!rules.empty()) ++reported_lookalikes;
      EXPECT_TRUE(rules.empty()) << "look-alike reported: " << c.file << ":" << line << " " << c.line;
    } else {
      ++patterns;
      if (rules.count(c.rule)) ++caught;
      EXPECT_TRUE(rules.count(c.rule)) << "missed " << c.rule << " at " << c.file << ":" << line << " " << c.line;
    }
  }
  std::printf("audit code corpus: %zu/%zu patterns found, %zu/%zu look-alikes reported\n", caught, patterns,
              reported_lookalikes, lookalikes);
  // The evidence never carries URL credentials.
  EXPECT_EQ(r.out.find("dev:x@"), std::string::npos);
}

TEST(AuditCodeCorpus, SarifAndAllowlistForReviewedLines) {
  TempDir work;
  {
    std::ofstream out(work / "a.go");
    out << "\tcfg := &tls.Config{InsecureSkipVerify: " "true}\n";
    out << "\tlab := &tls.Config{InsecureSkipVerify: " "true} // armored-audit:allow lab only\n";
  }
  auto sarif = run({armored_binary().string(), "audit", "code", "--sarif", work.path().string()});
  ASSERT_EQ(sarif.exit_code, 1);
  auto s = json::parse(sarif.out);
  EXPECT_EQ(s["version"], "2.1.0");
  ASSERT_EQ(s["runs"][0]["results"].size(), 1u);
  EXPECT_EQ(s["runs"][0]["results"][0]["ruleId"], "tls-verify-disabled");
  EXPECT_EQ(s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
  {
    std::ofstream(work / "allow") << "tls-verify-disabled */a.go 1\n";
  }
  auto allowed = run({armored_binary().string(), "audit", "code", "--allowlist", (work / "allow").string(),
                      (work / "a.go").string()});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
}

TEST(AuditCodeCorpus, ProjectTreeScansCleanWithItsReviewedAllowlist) {
  std::vector<std::string> args = {armored_binary().string(), "audit", "code", "--fail-on", "info", "--allowlist",
                                   source_path("config/audit-allowlist.txt").string()};
  for (const char* d : {"src", "scripts"}) args.push_back(source_path(d).string());
  auto r = run(args, std::chrono::seconds(300));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 findings"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace armored::testing

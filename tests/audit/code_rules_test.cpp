// Comment stripping and single-line rules of `audit code`.

#include <gtest/gtest.h>

#include "audit/code_lexer.h"
#include "audit/code_rules.h"

namespace armored::audit {
namespace {

TEST(AuditCodeLexer, BlanksCommentsButKeepsStringsAndColumns) {
  CommentStripper c(CommentStyle::kCStyle);
  EXPECT_EQ(c.strip("a = \"http://x\"; // note"), "a = \"http://x\";        ");
  EXPECT_EQ(c.strip("x /* start"), "x         ");
  EXPECT_EQ(c.strip("still comment */ y"), "                 y");
  EXPECT_EQ(c.strip("s = \"/* not a comment */\";"), "s = \"/* not a comment */\";");
  CommentStripper py(CommentStyle::kPython);
  EXPECT_EQ(py.strip("x = '#'  # c"), "x = '#'     ");
  EXPECT_EQ(py.strip("\"\"\"doc"), "      ");
  EXPECT_EQ(py.strip("more doc\"\"\" + y"), "            + y");
  CommentStripper sh(CommentStyle::kHash);
  EXPECT_EQ(sh.strip("echo 'a#b' # c"), "echo 'a#b'    ");
}

TEST(AuditCodeLexer, LanguagesByFileName) {
  EXPECT_EQ(comment_style_for("a/b.go"), CommentStyle::kCStyle);
  EXPECT_EQ(comment_style_for("x.py"), CommentStyle::kPython);
  EXPECT_EQ(comment_style_for("Dockerfile"), CommentStyle::kHash);
  EXPECT_EQ(comment_style_for("c.json"), CommentStyle::kNone);
  EXPECT_FALSE(comment_style_for("README.md"));
  EXPECT_FALSE(comment_style_for("fw.bin"));
}

std::vector<std::string> code_rule_ids(std::string_view line) {
  std::vector<std::string> out;
  for (const auto& h : scan_code_line(line)) out.emplace_back(h.rule->id);
  return out;
}

// The Python TLS cases bandit has checks for (B323, B501-B504), and what is not one.
TEST(AuditCodeRules, PythonTlsSettingsBanditAlsoChecks) {
  using V = std::vector<std::string>;
  V off = {"tls-verify-disabled"};
  EXPECT_EQ(code_rule_ids("s = ssl.wrap_socket(sock)"), off);  // default cert_reqs is CERT_NONE
  EXPECT_EQ(code_rule_ids("ctx = SSL.Context(SSL.TLSv1_METHOD)"), V{"tls-min-version-weak"});
  EXPECT_EQ(code_rule_ids("ctx = ssl._create_unverified_context()"), off);
  EXPECT_EQ(code_rule_ids("http = urllib3.PoolManager(cert_reqs=\"CERT_NONE\")"), off);
  EXPECT_EQ(code_rule_ids("def connect(host, proto=ssl.PROTOCOL_TLSv1_1):"), V{"tls-min-version-weak"});
  EXPECT_TRUE(code_rule_ids("s = ssl.wrap_socket(sock, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA)").empty());
  // A call that goes on to the next line does not show its arguments.
  EXPECT_TRUE(code_rule_ids("s = ssl.wrap_socket(sock,").empty());
  EXPECT_TRUE(code_rule_ids("ctx = SSL.Context(SSL.TLS_METHOD)").empty());
}

TEST(AuditCodeRules, SettingsInMessagesOrComparisonsAreNotFindings) {
  EXPECT_TRUE(code_rule_ids("log.error(\"refusing to run with verify=False\")").empty());
  EXPECT_TRUE(code_rule_ids("log.error('CERT_NONE is not allowed here')").empty());
  EXPECT_TRUE(code_rule_ids("will_verify = context.verify_mode != ssl.CERT_NONE").empty());
  EXPECT_TRUE(code_rule_ids("if ctx.verify_mode == ssl.CERT_NONE:").empty());
  // A command line inside a string is still the command it runs.
  EXPECT_EQ(code_rule_ids("os.system(\"curl -k https://ota.fleet.internal/fw.bin\")"),
            std::vector<std::string>{"tls-verify-disabled"});
  EXPECT_EQ(code_rule_ids("ctx.verify_mode = ssl.CERT_NONE"), std::vector<std::string>{"tls-verify-disabled"});
}

TEST(AuditCodeRules, LocalHosts) {
  for (auto h : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "0.0.0.0", "*", "api.localhost"}) {
    EXPECT_TRUE(is_local_host(h)) << h;
  }
  for (auto h : {"10.0.0.1", "broker.example.com", "localhost.example.com", "128.0.0.1"}) {
    EXPECT_FALSE(is_local_host(h)) << h;
  }
}

TEST(AuditCodeRules, EmptyAndHugeLinesAreHandled) {
  EXPECT_TRUE(scan_code_line("").empty());
  EXPECT_TRUE(scan_code_line("        ").empty());
  std::string huge(100000, 'a');
  EXPECT_TRUE(scan_code_line(huge).empty());
}

TEST(AuditCodeRules, CurlFlagsAreReadAsFlags) {
  EXPECT_EQ(scan_code_line("curl -fsSk https://x.example.com").size(), 1u);
  EXPECT_TRUE(scan_code_line("curl -o k.txt https://x.example.com").empty());
  EXPECT_TRUE(scan_code_line("curl https://x.example.com | grep -k").empty());
}

}  // namespace
}  // namespace armored::audit

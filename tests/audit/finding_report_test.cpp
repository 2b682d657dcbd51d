// Finding model, redaction, renderers and allowlist parsing.

#include <gtest/gtest.h>

#include "audit/allowlist.h"
#include "audit/finding.h"
#include "audit/report.h"

namespace armored::audit {
namespace {

TEST(AuditFinding, RedactKeepsAtMostTwoCharactersAndTheLength) {
  EXPECT_EQ(redact("abcdefghijklmnop"), "ab…(16 chars)");
  EXPECT_EQ(redact("short"), "…(5 chars)");  // short secrets reveal nothing
  auto s = redact_span("  password = \"hunter2hunter2\";", 14, 14);
  EXPECT_EQ(s.find("hunter2hunter2"), std::string::npos);
  EXPECT_NE(s.find("password = "), std::string::npos);
  EXPECT_EQ(printable(std::string("a\0b\x7f", 4)), "a.b.");
}

TEST(AuditFinding, SeverityNamesRoundTripAndUnknownIsRejected) {
  for (auto s : {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    EXPECT_EQ(parse_severity(severity_name(s)), s);
  }
  EXPECT_EQ(parse_severity("HIGH"), Severity::kHigh);
  EXPECT_FALSE(parse_severity("severe"));
  std::vector<Finding> f(1);
  f[0].severity = Severity::kMedium;
  EXPECT_TRUE(any_at_or_above(f, Severity::kMedium));
  EXPECT_FALSE(any_at_or_above(f, Severity::kHigh));
}

Report sample() {
  static constexpr RuleInfo kRule{"demo-rule", Severity::kHigh, "Demo", "because", "do this"};
  Report r;
  r.command = "secrets";
  r.rules = {kRule};
  Location a;
  a.path = "dir/a b.c";
  a.line = 3;
  a.column = 7;
  Location b;
  b.path = "fw.bin";
  b.offset = 4096;
  r.findings.push_back(make_finding(kRule, a, "x = [ab…(12 chars)]"));
  r.findings.push_back(make_finding(kRule, b, "", "custom message"));
  return r;
}

TEST(AuditReport, TextJsonAndSarifCarryTheSameFindings) {
  Report r = sample();
  auto text = render_text(r);
  EXPECT_NE(text.find("2 findings (2 high)"), std::string::npos) << text;
  EXPECT_NE(text.find("dir/a b.c:3:7"), std::string::npos);
  EXPECT_NE(text.find("fw.bin @offset 4096"), std::string::npos);
  EXPECT_NE(text.find("why:      because"), std::string::npos);
  auto j = render_json(r);
  ASSERT_EQ(j["findings"].size(), 2u);
  EXPECT_EQ(j["findings"][1]["location"]["offset"], 4096);
  EXPECT_EQ(j["findings"][1]["message"], "custom message");
  auto s = render_sarif(r);
  EXPECT_EQ(s["version"], "2.1.0");
  const auto& res = s["runs"][0]["results"];
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0]["ruleIndex"], 0);
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "dir/a%20b.c");
  EXPECT_EQ(res[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
  EXPECT_EQ(res[1]["locations"][0]["physicalLocation"]["region"]["byteOffset"], 4096);
  EXPECT_EQ(res[0]["level"], "error");
}

TEST(AuditAllowlist, ParsesEntriesAndRejectsBadLines) {
  auto ok = Allowlist::parse("# reviewed\n\nhardcoded-password  src/*.py  12  # fixture\n*  vendor/*\n");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->entries().size(), 2u);
  Finding f;
  f.rule_id = "hardcoded-password";
  f.where.path = "src/x.py";
  f.where.line = 12;
  EXPECT_TRUE(ok->allows(f));
  f.where.line = 13;
  EXPECT_FALSE(ok->allows(f));
  f.where.path = "vendor/lib/y.c";
  EXPECT_TRUE(ok->allows(f));
  Finding ep;
  ep.rule_id = "tls-no-client-auth";
  ep.where.endpoint = "10.0.0.1:8883";
  EXPECT_FALSE(ok->allows(ep));
  EXPECT_TRUE(Allowlist::parse("tls-no-client-auth 10.0.0.*:8883")->allows(ep));

  EXPECT_FALSE(Allowlist::parse("only-rule\n"));
  EXPECT_FALSE(Allowlist::parse("a b c d\n"));
  EXPECT_FALSE(Allowlist::parse("a b zero\n"));
  EXPECT_FALSE(Allowlist::parse("a b 0\n"));
  EXPECT_NE(Allowlist::parse("ok x\nbad\n").error().message.find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace armored::audit

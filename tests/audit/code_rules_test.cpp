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

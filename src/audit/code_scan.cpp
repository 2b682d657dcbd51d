#include "audit/code_scan.h"

#include "audit/allowlist.h"
#include "audit/code_lexer.h"
#include "audit/code_rules.h"
#include "audit/internal/file_walk.h"

#include <regex>

namespace armored::audit {

namespace {

// The offending line, trimmed, with any user:password@ in URLs masked:
// the code report shows code, never a credential.
std::string evidence_line(std::string_view line) {
  static const std::regex kUrlCredentials(R"re((://[^\s/:@"'`]+:)[^\s@/"'`]+@)re");
  auto first = line.find_first_not_of(" \t");
  std::string text(first == std::string_view::npos ? "" : line.substr(first, 400));
  text = std::regex_replace(text, kUrlCredentials, "$1****@");
  return printable(text, 160);
}

}  // namespace

Report scan_code(const std::vector<std::filesystem::path>& roots, const CodeOptions& options) {
  Report report;
  report.command = "code";
  for (const auto& r : roots) report.targets.push_back(r.string());
  report.rules.assign(code_rules().begin(), code_rules().end());
  WalkStats walk;
  std::size_t source_files = 0;
  walk_files(
      roots,
      [&](const WalkedFile& f) {
        auto style = comment_style_for(f.path);
        if (!style || looks_binary(f.path)) return;
        source_files++;
        CommentStripper stripper(*style);
        for_each_line(f.path, options.max_line_bytes, options.max_file_bytes,
                      [&](std::string_view line, std::size_t number) {
                        std::string code = stripper.strip(line);
                        if (line.find(kInlineAllowMarker) != std::string_view::npos) return;
                        for (auto& h : scan_code_line(code)) {
                          Location where;
                          where.path = f.display;
                          where.line = number;
                          where.column = h.column + 1;
                          std::string evidence = evidence_line(line);
                          report.findings.push_back(
                              make_finding(*h.rule, std::move(where), std::move(evidence), h.message));
                        }
                      });
      },
      walk);
  report.summary.push_back(std::to_string(source_files) + " source files scanned of " +
                           std::to_string(walk.files) + " files");
  if (walk.skipped_symlinks) {
    report.summary.push_back(std::to_string(walk.skipped_symlinks) +
                             " symbolic links leaving the tree not followed");
  }
  report.details = {{"files", walk.files}, {"source_files", source_files},
                    {"skipped_symlinks", walk.skipped_symlinks}};
  sort_findings(report);
  return report;
}

}  // namespace armored::audit

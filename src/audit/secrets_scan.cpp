#include "audit/secrets_scan.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "audit/binary_strings.h"
#include "audit/internal/file_walk.h"

namespace armored::audit {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Paths under a directory named like "testvectors" hold published vectors.
bool in_test_vector_dir(const fs::path& p) {
  for (const auto& part : p) {
    auto s = lower(part.string());
    if (s == "testvectors" || s == "test_vectors" || s == "test-vectors") return true;
  }
  return false;
}

struct FileFacts {
  std::string display;
  std::string dir;
  bool has_key = false;
  bool has_cert = false;
};

struct Counters {
  std::size_t text_files = 0;
  std::size_t binary_files = 0;
  std::size_t truncated = 0;
  std::size_t test_vector_files = 0;
  std::uint64_t bytes = 0;
};

void add_hits(const std::string& display, bool binary, std::vector<SecretHit>& hits,
              std::vector<Finding>& out) {
  for (auto& h : hits) {
    Location where;
    where.path = display;
    if (binary) {
      where.offset = h.position + h.column;
    } else {
      where.line = static_cast<std::size_t>(h.position);
      where.column = h.column + 1;
    }
    out.push_back(make_finding(*h.rule, std::move(where), std::move(h.evidence), std::move(h.message)));
  }
  hits.clear();
}

void scan_text(const WalkedFile& f, const SecretsOptions& opt, FileFacts& facts,
               std::vector<Finding>& out) {
  SecretLineScanner scanner(text_kind_for(f.path));
  std::vector<SecretHit> hits;
  for_each_line(f.path, opt.max_line_bytes, opt.max_file_bytes,
                [&](std::string_view line, std::size_t number) { scanner.feed(line, number, hits); });
  add_hits(f.display, false, hits, out);
  facts.has_key = scanner.saw_private_key();
  facts.has_cert = scanner.saw_certificate();
}

void scan_binary(const WalkedFile& f, const SecretsOptions& opt, FileFacts& facts,
                 std::vector<Finding>& out) {
  int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  StringsExtractor strings;
  DerKeyFinder der;
  SecretLineScanner scanner(TextKind::kBinaryString);
  std::vector<ExtractedString> found;
  std::vector<DerKeyMatch> keys;
  std::vector<SecretHit> hits;
  std::array<std::uint8_t, 65536> buf{};
  std::uint64_t total = 0;
  auto drain = [&] {
    for (const auto& s : found) {
      std::size_t before = hits.size();
      scanner.feed(s.text, s.offset, hits);
      // A UTF-16LE character takes two bytes: turn the column into bytes.
      if (s.utf16) {
        for (std::size_t i = before; i < hits.size(); ++i) hits[i].column *= 2;
      }
    }
    found.clear();
  };
  while (total < opt.max_file_bytes) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), opt.max_file_bytes - total));
    ssize_t n = ::read(fd, buf.data(), want);
    if (n <= 0) break;
    ByteSpan chunk(buf.data(), static_cast<std::size_t>(n));
    total += chunk.size();
    strings.feed(chunk, found);
    der.feed(chunk, keys);
    drain();
  }
  ::close(fd);
  strings.finish(found);
  der.finish(keys);
  drain();
  add_hits(f.display, true, hits, out);
  for (const auto& k : keys) {
    Location where;
    where.path = f.display;
    where.offset = k.offset;
    out.push_back(make_finding(secret_rule("private-key-der"), std::move(where),
                               std::string(der_key_kind_name(k.kind)) + " [body redacted]",
                               "Private key (" + std::string(der_key_kind_name(k.kind)) +
                                   ") in DER form"));
  }
  facts.has_key = scanner.saw_private_key() || !keys.empty();
  facts.has_cert = scanner.saw_certificate();
}

}  // namespace

TextKind text_kind_for(const fs::path& path) {
  static const std::set<std::string> kLockFiles = {
      "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "cargo.lock",
      "go.sum", "poetry.lock", "pipfile.lock", "composer.lock", "gemfile.lock", "flake.lock",
      "packages.lock.json", "uv.lock"};
  static const std::set<std::string> kConfigExt = {
      ".env", ".ini", ".cfg", ".conf", ".cnf", ".toml", ".yaml", ".yml", ".properties", ".txt",
      ".sh", ".bash", ".zsh", ".ksh", ".mk", ".dockerfile",
      ".service", ".socket", ".timer", ".mount", ".path"};
  // Dotfiles have no extension (".envrc" is all stem); Dockerfiles and
  // Makefiles are named, not suffixed.
  static const std::set<std::string> kConfigNames = {
      ".profile", ".bashrc", ".bash_profile", ".zshrc", ".zprofile", ".envrc", ".npmrc", ".pypirc",
      ".netrc", "dockerfile", "containerfile", "makefile", "gnumakefile", "environment"};
  auto name = lower(path.filename().string());
  if (kLockFiles.count(name)) return TextKind::kLockFile;
  if (name == ".env" || name.starts_with(".env.") || name.ends_with(".env")) return TextKind::kConfig;
  if (kConfigNames.count(name) || name.starts_with("dockerfile.") || name.starts_with("containerfile."))
    return TextKind::kConfig;
  if (kConfigExt.count(lower(path.extension().string()))) return TextKind::kConfig;
  return TextKind::kCode;
}

Report scan_secrets(const std::vector<fs::path>& roots, const SecretsOptions& options) {
  Report report;
  report.command = "secrets";
  for (const auto& r : roots) report.targets.push_back(r.string());
  report.rules.assign(secret_rules().begin(), secret_rules().end());
  WalkStats walk;
  Counters c;
  std::vector<FileFacts> facts;
  walk_files(
      roots,
      [&](const WalkedFile& f) {
        if (in_test_vector_dir(f.path)) {
          c.test_vector_files++;
          return;
        }
        FileFacts ff{f.display, f.path.parent_path().string(), false, false};
        if (f.size > options.max_file_bytes) c.truncated++;
        c.bytes += std::min<std::uint64_t>(f.size, options.max_file_bytes);
        if (looks_binary(f.path)) {
          c.binary_files++;
          scan_binary(f, options, ff, report.findings);
        } else {
          c.text_files++;
          scan_text(f, options, ff, report.findings);
        }
        auto ext = lower(f.path.extension().string());
        if (ext == ".crt" || ext == ".cer") ff.has_cert = true;
        facts.push_back(std::move(ff));
      },
      walk);

  // Certificate plus key: in one file, or side by side in one directory.
  std::map<std::string, std::string> cert_in_dir;
  for (const auto& f : facts) {
    if (f.has_cert && !cert_in_dir.count(f.dir)) cert_in_dir[f.dir] = f.display;
  }
  for (const auto& f : facts) {
    if (!f.has_key) continue;
    std::string msg;
    if (f.has_cert) {
      msg = "Certificate and private key in the same file";
    } else if (auto it = cert_in_dir.find(f.dir); it != cert_in_dir.end()) {
      msg = "Private key shipped next to certificate " + it->second;
    } else {
      continue;
    }
    Location where;
    where.path = f.display;
    report.findings.push_back(make_finding(secret_rule("cert-key-pair"), where, "", msg));
  }

  report.summary.push_back(std::to_string(walk.files) + " files scanned (" +
                           std::to_string(c.text_files) + " text, " +
                           std::to_string(c.binary_files) + " binary), " +
                           std::to_string(c.bytes) + " bytes");
  if (c.truncated) {
    report.summary.push_back(std::to_string(c.truncated) + " files larger than " +
                             std::to_string(options.max_file_bytes) + " bytes scanned only up to it");
  }
  if (walk.skipped_symlinks) {
    report.summary.push_back(std::to_string(walk.skipped_symlinks) +
                             " symbolic links leaving the tree not followed");
  }
  if (c.test_vector_files) {
    report.summary.push_back(std::to_string(c.test_vector_files) +
                             " files under test-vector directories skipped");
  }
  report.details = {{"files", walk.files},
                    {"text_files", c.text_files},
                    {"binary_files", c.binary_files},
                    {"bytes", c.bytes},
                    {"truncated_files", c.truncated},
                    {"skipped_symlinks", walk.skipped_symlinks},
                    {"skipped_unreadable", walk.skipped_unreadable},
                    {"test_vector_files", c.test_vector_files}};
  sort_findings(report);
  return report;
}

}  // namespace armored::audit

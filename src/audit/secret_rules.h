#pragma once
// Line rules of `audit secrets`, without I/O: the caller feeds text lines (or
// strings extracted from a binary) and collects hits. The scanner keeps a
// little state across lines: a PEM header is confirmed by the base64 body on
// the following lines, and a "test vector" marker covers the next lines.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/allowlist.h"
#include "audit/config_assignments.h"
#include "audit/finding.h"

namespace armored::audit {

// What kind of text a line comes from; decides which value forms count.
enum class TextKind : std::uint8_t {
  kCode,          // quoted literals only: C, C++, Python, JS, Go, Rust, Java...
  kConfig,        // also unquoted values: .env, YAML, INI, properties, Dockerfile, systemd, shell
  kBinaryString,  // a string extracted from a binary image
  kLockFile,      // dependency lock files: only key material shapes apply
};

struct SecretHit {
  const RuleInfo* rule = nullptr;
  std::uint64_t position = 0;  // what the caller passed: line number or offset
  std::size_t column = 0;      // 0-based start of the secret within that line
  std::string evidence;        // redacted snippet
  std::string message;
};

// Every rule `audit secrets` can report (for SARIF and documentation).
std::span<const RuleInfo> secret_rules();
const RuleInfo& secret_rule(std::string_view id);

// Shannon entropy of the byte distribution, in bits per character.
double shannon_entropy(std::string_view s);

// True for values that stand in for a secret: empty, "changeme", "<password>",
// "${VAR}", "xxxx", "your_token", "example"...
bool is_placeholder(std::string_view value);

class SecretLineScanner {
 public:
  explicit SecretLineScanner(TextKind kind) : kind_(kind) {}

  // Scans one line; `position` is echoed in the hits (line number or offset).
  // Lines longer than kMaxLine are scanned in overlapping windows.
  void feed(std::string_view line, std::uint64_t position, std::vector<SecretHit>& out);

  bool saw_certificate() const { return saw_certificate_; }
  bool saw_private_key() const { return saw_private_key_; }

  static constexpr std::size_t kMaxLine = 1024;

 private:
  void scan_window(std::string_view line, std::uint64_t position, std::vector<SecretHit>& out);
  void check_pem(std::string_view line, std::uint64_t position, bool suppressed,
                 std::vector<SecretHit>& out);

  TextKind kind_;
  bool saw_certificate_ = false;
  bool saw_private_key_ = false;
  int test_vector_lines_ = 0;  // lines still covered by a "test vector" marker
  EnvEntryTracker env_entries_;  // "- name: X" waiting for its "value:" line
  // A PEM private-key header waiting for its body.
  struct PendingPem {
    std::uint64_t position = 0;
    std::size_t column = 0;
    std::string label;
    int lines_left = 0;
    std::size_t base64_seen = 0;
    bool suppressed = false;  // under a test-vector or inline-allow marker
  };
  std::vector<PendingPem> pending_;
};

}  // namespace armored::audit

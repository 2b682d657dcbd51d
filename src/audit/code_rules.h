#pragma once
// Rules of `audit code`: disabled TLS verification, weak minimum versions,
// plaintext MQTT/HTTP to remote hosts and shell/eval on received messages.
// Applied to lines whose comments CommentStripper has already blanked out.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/finding.h"

namespace armored::audit {

struct CodeHit {
  const RuleInfo* rule = nullptr;
  std::size_t column = 0;  // 0-based
  std::size_t length = 0;
  std::string message;
};

std::span<const RuleInfo> code_rules();
const RuleInfo& code_rule(std::string_view id);

// True for hosts that never leave the machine: localhost, 127.0.0.0/8, ::1,
// 0.0.0.0 and '*' (bind-all wildcards), *.localhost.
bool is_local_host(std::string_view host);

// Scans one comment-free line.
std::vector<CodeHit> scan_code_line(std::string_view code);

}  // namespace armored::audit

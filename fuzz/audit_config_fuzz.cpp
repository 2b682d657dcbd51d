// Fuzzes the unquoted-assignment reader of `audit secrets` (dotenv, YAML,
// INI, shell, Dockerfile, systemd, compose and Kubernetes env forms): every
// input line through config_assignments, the one-line name/value entry and
// the two-line env tracker, then through the line rules as configuration.
// Each reported value must lie inside its line at the column given.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "audit/config_assignments.h"
#include "audit/secret_rules.h"

namespace {

void check(std::string_view line, const armored::audit::ConfigAssignment& a) {
  if (a.name.empty()) return;
  if (a.value_column > line.size() || a.value.size() > line.size() - a.value_column) __builtin_trap();
  if (line.substr(a.value_column, a.value.size()) != a.value) __builtin_trap();
  if (a.value.data() != line.data() + a.value_column) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored::audit;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  EnvEntryTracker env;
  SecretLineScanner scanner(TextKind::kConfig);
  std::vector<SecretHit> hits;
  std::uint64_t number = 0;
  while (!input.empty()) {
    auto nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    for (const auto& a : config_assignments(line, true)) check(line, a);
    for (const auto& a : config_assignments(line, false)) check(line, a);
    check(line, name_value_entry(line));
    check(line, env.feed(line));
    scanner.feed(line, ++number, hits);
  }
  for (const auto& h : hits) {
    if (h.rule == nullptr) __builtin_trap();
  }
  return 0;
}

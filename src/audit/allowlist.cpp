#include "audit/allowlist.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "common/file_io.h"

namespace armored::audit {

Expected<Allowlist> Allowlist::parse(std::string_view text) {
  Allowlist list;
  std::istringstream in{std::string(text)};
  std::string raw;
  std::size_t number = 0;
  while (std::getline(in, raw)) {
    ++number;
    if (auto hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
    std::istringstream fields(raw);
    std::vector<std::string> parts;
    for (std::string p; fields >> p;) parts.push_back(p);
    if (parts.empty()) continue;
    if (parts.size() < 2 || parts.size() > 3) {
      return fail("allowlist line " + std::to_string(number) +
                  ": expected RULE PATTERN [LINE]");
    }
    Entry e{parts[0], parts[1], 0};
    if (parts.size() == 3) {
      auto [ptr, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), e.line);
      if (ec != std::errc{} || ptr != parts[2].data() + parts[2].size() || e.line == 0) {
        return fail("allowlist line " + std::to_string(number) + ": LINE must be a positive number");
      }
    }
    list.entries_.push_back(std::move(e));
  }
  return list;
}

Expected<Allowlist> Allowlist::load(const std::filesystem::path& path) {
  auto text = read_text_file(path, 1u << 20);
  if (!text) return fail("allowlist " + path.string(), text.error());
  auto parsed = parse(*text);
  if (!parsed) return fail(path.string(), parsed.error());
  return parsed;
}

bool Allowlist::allows(const Finding& f) const {
  const std::string& subject = f.where.endpoint.empty() ? f.where.path : f.where.endpoint;
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (e.rule != "*" && e.rule != f.rule_id) return false;
    if (e.line != 0 && e.line != f.where.line) return false;
    return fnmatch(e.pattern.c_str(), subject.c_str(), 0) == 0;
  });
}

std::size_t Allowlist::filter(std::vector<Finding>& findings) const {
  auto before = findings.size();
  std::erase_if(findings, [&](const Finding& f) { return allows(f); });
  return before - findings.size();
}

}  // namespace armored::audit

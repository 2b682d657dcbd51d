#include "cloud/audit_limiter.h"

#include <fmt/format.h>

#include <algorithm>

namespace armored::cloud {

namespace {
constexpr std::string_view kOtherSources = "(other sources)";
constexpr std::size_t kMaxDetail = 200;
}  // namespace

AuditLimiter::AuditLimiter(AuditLimits limits, std::int64_t now_ms) : limits_(limits), interval_start_ms_(now_ms) {}

bool AuditLimiter::admit(const store::SecurityEvent& ev, std::string_view source) {
  ++stats_.events;
  Key key{ev.kind, ev.reason, std::string(source)};
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    // Keep one slot for the shared key of sources beyond max_keys.
    if (keys_.size() + 1 >= limits_.max_keys) std::get<2>(key) = kOtherSources;
    it = keys_.try_emplace(std::move(key)).first;
  }
  Tally& t = it->second;
  if (t.written < limits_.rows_per_key && rows_this_interval_ < limits_.max_rows_per_interval) {
    ++t.written;
    ++rows_this_interval_;
    ++stats_.written;
    return true;
  }
  ++t.suppressed;
  ++stats_.summarized;
  t.last_detail.assign(ev.detail, 0, std::min(ev.detail.size(), kMaxDetail));
  return false;
}

std::vector<store::SecurityEvent> AuditLimiter::flush(std::int64_t now_ms) {
  std::vector<store::SecurityEvent> out;
  const double secs = static_cast<double>(now_ms - interval_start_ms_) / 1000.0;
  // Summary rows count against the next interval's cap: a flood that goes
  // on cannot push the row rate above max_rows_per_interval.
  std::size_t rows = 0;
  std::uint64_t over = 0;
  for (auto& [key, t] : keys_) {
    if (t.suppressed == 0) continue;
    const auto& [kind, reason, source] = key;
    if (rows >= limits_.max_rows_per_interval / 2) {
      over += t.suppressed;
      continue;
    }
    ++rows;
    // A summary of 'connected' rows is not itself a connection (`armored
    // audit fleet` reads those): it is an 'other' row.
    const bool connected = kind == store::EventKind::kConnected;
    out.push_back({now_ms, connected ? store::EventKind::kOther : kind,
                   connected ? "connections: " + reason : reason, source,
                   fmt::format("+{} more from {} in the last {:.0f} s (last: {})", t.suppressed, source, secs,
                               t.last_detail)});
  }
  if (over > 0) {
    out.push_back({now_ms, store::EventKind::kOther, "audit rows capped", "",
                   fmt::format("{} more events in the last {:.0f} s beyond max_rows_per_interval", over, secs)});
  }
  stats_.summary_rows += out.size();
  keys_.clear();
  rows_this_interval_ = out.size();
  interval_start_ms_ = now_ms;
  return out;
}

}  // namespace armored::cloud

#pragma once
// Aggregation of the audit trail, so that a flood of refusals cannot flood
// the database (or the disk readings need) with one row per refusal.
// Sans-I/O: the caller passes `now` and writes what comes out.
//
// Events are keyed by (kind, reason, source); the source is the peer's IP
// address before authentication, its identity after. Per key and interval
// the first `rows_per_key` events are written as they are; the rest are
// counted, and when the interval ends one summary row per key says how
// many more there were ("+N more ..."). Rows written as they come stop at
// `max_rows_per_interval` per interval (later ones are counted in their
// key's summary); summary rows stop at half that, past which one overflow
// row counts the rest. Keys tracked per interval stop at
// `max_keys`; further sources share one "(other sources)" key. So memory
// and rows per interval are bounded whatever the flood, and every refusal
// is still counted in some row.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "store/types.h"

namespace armored::cloud {

struct AuditLimits {
  std::chrono::milliseconds interval{10000};
  std::size_t rows_per_key = 5;
  std::size_t max_keys = 1024;
  std::size_t max_rows_per_interval = 200;
};

struct AuditLimiterStats {
  std::uint64_t events = 0;      // offered to admit()
  std::uint64_t written = 0;     // admitted as they were
  std::uint64_t summarized = 0;  // counted into a summary or overflow row instead
  std::uint64_t summary_rows = 0;
};

class AuditLimiter {
 public:
  AuditLimiter(AuditLimits limits, std::int64_t now_ms);

  // True: write `ev` now. False: it was counted into this interval's summary.
  bool admit(const store::SecurityEvent& ev, std::string_view source);
  // Once now_ms >= next_flush_ms(): the summary rows of the interval that
  // ended (timestamped now_ms), and a new interval begins.
  std::vector<store::SecurityEvent> flush(std::int64_t now_ms);
  std::int64_t next_flush_ms() const { return interval_start_ms_ + limits_.interval.count(); }

  const AuditLimiterStats& stats() const { return stats_; }
  std::size_t tracked_keys() const { return keys_.size(); }

 private:
  struct Tally {
    std::size_t written = 0;
    std::uint64_t suppressed = 0;
    std::string last_detail;
  };
  using Key = std::tuple<store::EventKind, std::string, std::string>;  // kind, reason, source

  AuditLimits limits_;
  std::int64_t interval_start_ms_;
  std::map<Key, Tally> keys_;
  std::size_t rows_this_interval_ = 0;
  AuditLimiterStats stats_;
};

}  // namespace armored::cloud

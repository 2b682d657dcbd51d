#pragma once
// The account of every reading in SQL (internal): the holes between the
// stored runs of stored_ranges, per device and epoch. A command reply takes
// a sequence number of its own: each is a run of one (command_replies), so
// a reply between two runs leaves no hole and is not counted missing. One text for both
// backends; only the ordering of device names differs (PostgreSQL sorts by
// byte with COLLATE "C", as SQLite does by default).

#include <string>
#include <string_view>

namespace armored::store {

// SELECT device, epoch, first_missing, last_missing, after_at, before_at,
// ordered by device, epoch, first_missing. A first run that does not start
// at 0 leaves a hole at the start of the epoch.
inline std::string gaps_sql(std::string_view device_order) {
  return std::string(R"sql(
SELECT device, epoch, first_missing, last_missing, after_at, before_at FROM (
  SELECT device, epoch,
         COALESCE(lag(last_seq) OVER w + 1, 0) AS first_missing,
         first_seq - 1 AS last_missing,
         COALESCE(lag(last_at) OVER w, 0) AS after_at,
         first_at AS before_at
  FROM (SELECT device, epoch, first_seq, last_seq, first_at, last_at FROM stored_ranges
        UNION ALL
        SELECT device, epoch, seq, seq, received_at, received_at FROM command_replies) runs
  WINDOW w AS (PARTITION BY device, epoch ORDER BY first_seq)) g
WHERE last_missing >= first_missing
ORDER BY )sql") + std::string(device_order) + ", epoch, first_missing";
}

}  // namespace armored::store

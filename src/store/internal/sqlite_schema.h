#pragma once
// The SQLite schema (internal). Readings are a WITHOUT ROWID table: the
// deduplication key is the storage order, so an insert touches one b-tree,
// not a table plus a unique index. Which key leads decides how many pages a
// batch dirties, and with WAL every dirtied page is written whole at commit:
//  - time-ordered (ts, device, epoch, seq): a fleet's readings of the last
//    seconds sit together, a batch of 5,000 devices dirties a few dozen pages;
//  - device-ordered (device, epoch, seq): each device's newest reading is on
//    its own page, a batch of 5,000 devices dirties ~5,000 pages (20 MB).
// docs/storage.md has the measurements and why both dedupe the same way.

namespace armored::store::sqlite {

inline constexpr const char* kReadingsTimeOrdered = R"sql(
CREATE TABLE IF NOT EXISTS readings(
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key_id BLOB NOT NULL,
  heart_rate INTEGER NOT NULL,
  spo2 INTEGER NOT NULL,
  payload BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY(ts, device, epoch, seq)) WITHOUT ROWID;
)sql";

inline constexpr const char* kReadingsDeviceOrdered = R"sql(
CREATE TABLE IF NOT EXISTS readings(
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key_id BLOB NOT NULL,
  heart_rate INTEGER NOT NULL,
  spo2 INTEGER NOT NULL,
  payload BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY(device, epoch, seq)) WITHOUT ROWID;
)sql";

inline constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS stored_ranges(
  device TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY(device, epoch, first_seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices(
  key_id BLOB PRIMARY KEY,
  identity TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_identity ON devices(identity);
CREATE TABLE IF NOT EXISTS replay_state(
  device TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  highest_seq INTEGER NOT NULL,
  bitmap BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY(device, epoch)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS e3_state(
  key_id BLOB PRIMARY KEY,
  epoch INTEGER NOT NULL,
  entry BLOB NOT NULL,
  updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS e3_command_seq(
  key_id BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  next_seq INTEGER NOT NULL,
  PRIMARY KEY(key_id, epoch)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tls_ticket_keys(
  name BLOB PRIMARY KEY,
  sealed BLOB NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS security_events(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  peer TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS security_events_kind ON security_events(kind, at);
CREATE TABLE IF NOT EXISTS commands(
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  command TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS commands_device ON commands(device, status);
CREATE INDEX IF NOT EXISTS commands_status ON commands(status, updated_at);
CREATE TABLE IF NOT EXISTS command_replies(
  device TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  command_id INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY(device, epoch, seq)) WITHOUT ROWID;
)sql";

// A database from before stored_ranges: its runs are derived once from the
// readings (consecutive numbers share seq - row_number()). Runs are written
// in the same transaction as the readings they cover, so an empty
// stored_ranges beside stored readings means exactly this upgrade.
inline constexpr const char* kDeriveRanges = R"sql(
INSERT INTO stored_ranges(device, epoch, first_seq, last_seq, first_at, last_at)
SELECT device, epoch, min(seq), max(seq), min(at), max(at) FROM (
  SELECT device, epoch, seq, at, seq - row_number() OVER (PARTITION BY device, epoch ORDER BY seq) AS run
  FROM (SELECT device, epoch, seq, min(received_at) AS at FROM readings GROUP BY device, epoch, seq))
GROUP BY device, epoch, run;
)sql";
inline constexpr const char* kNeedsDerivedRanges =
    "SELECT NOT EXISTS (SELECT 1 FROM stored_ranges) AND EXISTS (SELECT 1 FROM readings)";

}  // namespace armored::store::sqlite

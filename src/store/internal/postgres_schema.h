#pragma once
// The PostgreSQL schema (internal), created idempotently inside the store's
// own schema under an advisory lock so concurrent first starts do not race.

namespace armored::store::pg {

inline constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS readings(
  device text NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  key_id bytea NOT NULL,
  ts bigint NOT NULL,
  heart_rate smallint NOT NULL,
  spo2 smallint NOT NULL,
  payload bytea NOT NULL,
  received_at bigint NOT NULL,
  PRIMARY KEY(device, epoch, seq));
CREATE TABLE IF NOT EXISTS stored_ranges(
  device text NOT NULL,
  epoch bigint NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  first_at bigint NOT NULL,
  last_at bigint NOT NULL,
  PRIMARY KEY(device, epoch, first_seq));
INSERT INTO stored_ranges(device, epoch, first_seq, last_seq, first_at, last_at)
SELECT device, epoch, min(seq), max(seq), min(at), max(at) FROM (
  SELECT device, epoch, seq, received_at AS at,
         seq - row_number() OVER (PARTITION BY device, epoch ORDER BY seq) AS run FROM readings) r
GROUP BY device, epoch, run
HAVING NOT EXISTS (SELECT 1 FROM stored_ranges);
CREATE TABLE IF NOT EXISTS devices(
  key_id bytea PRIMARY KEY,
  identity text NOT NULL,
  registered_at bigint NOT NULL,
  last_seen bigint NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS devices_identity ON devices(identity);
CREATE TABLE IF NOT EXISTS replay_state(
  device text NOT NULL,
  epoch bigint NOT NULL,
  highest_seq bigint NOT NULL,
  bitmap bytea NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY(device, epoch));
CREATE TABLE IF NOT EXISTS e3_state(
  key_id bytea PRIMARY KEY,
  epoch bigint NOT NULL,
  entry bytea NOT NULL,
  updated_at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS e3_command_seq(
  key_id bytea NOT NULL,
  epoch bigint NOT NULL,
  next_seq bigint NOT NULL,
  PRIMARY KEY(key_id, epoch));
CREATE TABLE IF NOT EXISTS tls_ticket_keys(
  name bytea PRIMARY KEY,
  sealed bytea NOT NULL,
  created bigint NOT NULL);
CREATE TABLE IF NOT EXISTS security_events(
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  kind text NOT NULL,
  reason text NOT NULL,
  peer text NOT NULL,
  detail text NOT NULL);
CREATE INDEX IF NOT EXISTS security_events_kind ON security_events(kind, at);
CREATE TABLE IF NOT EXISTS commands(
  id bigserial PRIMARY KEY,
  device text NOT NULL,
  command text NOT NULL,
  params text NOT NULL,
  status text NOT NULL,
  reason text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS commands_device ON commands(device, status);
CREATE INDEX IF NOT EXISTS commands_status ON commands(status, updated_at);
CREATE TABLE IF NOT EXISTS command_replies(
  device text NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  command_id bigint NOT NULL,
  outcome text NOT NULL,
  received_at bigint NOT NULL,
  PRIMARY KEY(device, epoch, seq));
)sql";

// Per-session staging tables for batched writes: temporary (no WAL), emptied
// at every commit.
inline constexpr const char* kSessionSetup = R"sql(
SET synchronous_commit = on;
CREATE TEMP TABLE IF NOT EXISTS readings_stage (LIKE readings) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS replay_stage (LIKE replay_state) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ranges_stage (LIKE stored_ranges) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS series_stage (device text NOT NULL, epoch bigint NOT NULL) ON COMMIT DELETE ROWS;
)sql";

// Shared writers (PostgresOptions::shared_writers): one transaction-scoped
// advisory lock per series in series_stage, taken in the order of the lock
// keys so two writers never wait for each other in a cycle. A collision of
// two series on one key only serialises them. hashtextextended: PostgreSQL 11+.
inline constexpr const char* kLockSeries =
    "SELECT count(pg_advisory_xact_lock(k)) FROM"
    " (SELECT DISTINCT hashtextextended(device || '/' || epoch::text, 7275651) AS k FROM series_stage ORDER BY k) s";
// The runs of every series in series_stage, read after their locks are held.
inline constexpr const char* kSeriesRuns =
    "SELECT r.device, r.epoch, r.first_seq, r.last_seq, r.first_at, r.last_at"
    " FROM stored_ranges r JOIN (SELECT DISTINCT device, epoch FROM series_stage) s"
    " ON r.device = s.device AND r.epoch = s.epoch ORDER BY r.device, r.epoch, r.first_seq";

// Replaces the runs of every series in ranges_stage (stored_index.h).
inline constexpr const char* kReplaceRanges =
    "DELETE FROM stored_ranges r USING (SELECT DISTINCT device, epoch FROM ranges_stage) s"
    " WHERE r.device = s.device AND r.epoch = s.epoch;"
    " INSERT INTO stored_ranges SELECT * FROM ranges_stage;";



inline constexpr const char* kSaveE3State =
    "INSERT INTO e3_state AS s (key_id, epoch, entry, updated_at)"
    " VALUES ($1, $2, $3, (extract(epoch FROM now()) * 1000)::bigint)"
    " ON CONFLICT (key_id) DO UPDATE SET epoch = excluded.epoch, entry = excluded.entry,"
    " updated_at = excluded.updated_at WHERE excluded.epoch >= s.epoch";

inline constexpr const char* kNextCommandSeq =
    "INSERT INTO e3_command_seq AS c (key_id, epoch, next_seq) VALUES ($1, $2, $3)"
    " ON CONFLICT (key_id, epoch) DO UPDATE SET next_seq = GREATEST(c.next_seq + 1, excluded.next_seq)"
    " RETURNING next_seq";

inline constexpr const char* kMergeReadings =
    "INSERT INTO readings SELECT * FROM readings_stage ON CONFLICT DO NOTHING";
inline constexpr const char* kMergeReplay =
    "INSERT INTO replay_state AS r (device, epoch, highest_seq, bitmap, updated_at)"
    " SELECT device, epoch, highest_seq, bitmap, (extract(epoch FROM now()) * 1000)::bigint"
    " FROM replay_stage"
    " ON CONFLICT (device, epoch) DO UPDATE SET highest_seq = excluded.highest_seq,"
    " bitmap = excluded.bitmap, updated_at = excluded.updated_at"
    " WHERE excluded.highest_seq >= r.highest_seq";

}  // namespace armored::store::pg

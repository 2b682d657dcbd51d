#pragma once
// The cloud's storage: one interface, two backends (SQLite, PostgreSQL).
// Every write call returns only once its data is durable (committed and
// synced to stable storage), because the cloud acknowledges upstream (MQTT
// PUBACK) right after it. A Store is used by one thread at a time; run one
// per writer thread. See docs/storage.md.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.h"

namespace armored::store {

class Store {
 public:
  virtual ~Store() = default;
  virtual const char* backend() const = 0;
  // Starts a fresh connection after a failed call (SQLite after an I/O
  // error; PostgreSQL reconnects by itself at the next call). The writer
  // calls it before retrying a failed commit.
  virtual StoreStatus reconnect() { return {}; }

  // Stores the rows and the replay states in one transaction and returns when
  // it is durable. A row whose (device, epoch, seq) is already stored, or
  // appears earlier in the batch, is a duplicate, not an error: at-least-once
  // delivery becomes exactly-once storage. The store decides this by the
  // stored runs of sequence numbers (stored_ranges, written in the same
  // transaction), whatever the readings table's key order, so no crash or
  // failed commit can leave a reading stored twice or counted as stored when
  // it is not. Replay states never move backwards (a state with a lower
  // highest_seq than the stored one is ignored). Replies to commands are
  // stored once by the same identity; a new one settles its command if
  // that is the device's and not settled yet (an expired or answered
  // command keeps its status; a pending one is settled too, since the
  // answer can be stored before the sender has written `sent`). On error nothing of the batch is stored, and a
  // later call may retry it whole.
  virtual StoreResult<BatchResult> store_batch(std::span<const ReadingRow> rows,
                                               std::span<const ReplayState> replay = {},
                                               std::span<const ReplyRow> replies = {}) = 0;
  virtual StoreResult<std::uint64_t> count_readings() = 0;
  // Every stored reading's key, sorted by device, epoch, seq: one pass over
  // the table, for end-to-end checks ("every reading sent is stored once").
  virtual StoreResult<std::vector<ReadingKey>> reading_keys() = 0;
  // Sequence numbers stored for one device and epoch, ascending.
  virtual StoreResult<std::vector<std::uint64_t>> sequences(std::string_view device,
                                                            std::uint32_t epoch) = 0;
  virtual StoreResult<std::optional<ReadingRow>> find_reading(std::string_view device,
                                                              std::uint32_t epoch,
                                                              std::uint64_t seq) = 0;
  // The runs of stored sequence numbers of one device and epoch, ascending.
  virtual StoreResult<std::vector<SeqRun>> stored_runs(std::string_view device, std::uint32_t epoch) = 0;
  // The account of every reading: holes in the stored sequence numbers, by
  // device, epoch and number, at most `limit` of them; `out_total` (if
  // given) receives how many gaps and missing readings there are in all.
  struct GapTotals {
    std::uint64_t gaps = 0;
    std::uint64_t missing = 0;
    std::uint64_t series = 0;  // (device, epoch) pairs with a gap
  };
  virtual StoreResult<std::vector<SequenceGap>> sequence_gaps(std::size_t limit, GapTotals* out_total = nullptr) = 0;

  // Binds each key id to its identity, in one transaction (the cloud
  // registers its whole registry at start). Idempotent for the same
  // identity; kConflict, and nothing registered, if a key id is bound to
  // another identity.
  virtual StoreStatus register_devices(std::span<const DeviceEnrollment> devices, std::int64_t now_ms) = 0;
  virtual StoreResult<std::optional<DeviceRow>> find_device(ByteSpan key_id) = 0;
  // Sets last_seen of the given keys to now_ms (one transaction).
  virtual StoreStatus touch_devices(std::span<const Bytes> key_ids, std::int64_t now_ms) = 0;

  virtual StoreStatus save_replay(std::span<const ReplayState> states) = 0;
  virtual StoreResult<std::optional<ReplayState>> load_replay(std::string_view device,
                                                              std::uint32_t epoch) = 0;

  // The scaled mode's shared E3 receiver state (docs/scale-out.md), in one
  // transaction. A stored entry is replaced only by one of the same or a
  // newer epoch, so a worker that is slow to write never rolls a device's
  // keys back.
  virtual StoreStatus save_e3_states(std::span<const E3DeviceState> states) = 0;
  // The entries of these key ids (every entry when none are given).
  virtual StoreResult<std::vector<E3DeviceState>> load_e3_states(std::span<const Bytes> key_ids) = 0;
  // A command sequence number for (key id, epoch) that no caller got before,
  // at least `at_least` (the highest the caller's own state reserved), in
  // one atomic statement: the fronts of a scaled cloud never seal two
  // commands under one nonce.
  virtual StoreResult<std::uint64_t> next_command_sequence(ByteSpan key_id, std::uint32_t epoch,
                                                          std::uint64_t at_least) = 0;

  // The fronts' shared ticket keys. rotate_ticket_key, in one transaction:
  // drops keys created before `retired_before_ms`, adds `candidate` unless
  // a key created at or after `due_before_ms` exists (another front rotated
  // first), and returns every key then stored.
  virtual StoreResult<std::vector<SealedTicketKey>> ticket_keys() = 0;
  virtual StoreResult<std::vector<SealedTicketKey>> rotate_ticket_key(const SealedTicketKey& candidate,
                                                                     std::int64_t due_before_ms,
                                                                     std::int64_t retired_before_ms) = 0;

  // Appends audit events (one transaction). Recent ones come back newest first.
  virtual StoreStatus record_events(std::span<const SecurityEvent> events) = 0;
  virtual StoreResult<std::vector<SecurityEvent>> recent_events(std::size_t limit) = 0;
  virtual StoreResult<std::uint64_t> count_events(std::optional<EventKind> kind) = 0;

  // Verifies the database's own structure (SQLite: PRAGMA quick_check, every
  // page read once; PostgreSQL checks its pages itself with data checksums
  // and answers "ok"). "ok" or the problems found, one per line.
  virtual StoreResult<std::string> check_integrity() = 0;

  // Commands for devices: add returns the new id; status changes stamp
  // updated_at. A command acknowledged, failed or expired is settled: its
  // status never changes again (kConflict), so an expiry never overwrites
  // an answer another process stored.
  virtual StoreResult<std::int64_t> add_command(const Command& c) = 0;
  virtual StoreStatus set_command_status(std::int64_t id, CommandStatus status,
                                         std::string_view reason, std::int64_t now_ms) = 0;
  virtual StoreResult<std::vector<Command>> commands_for(std::string_view device,
                                                         std::optional<CommandStatus> status) = 0;
  // Every command with this status, every device's, by id (one query: a
  // cloud starting with a million devices must not ask once per device).
  virtual StoreResult<std::vector<Command>> commands_with_status(CommandStatus status) = 0;
  // Expires every command still sent whose last change is before
  // `sent_before_ms`: the commands of a front of a scaled cloud that died
  // before their answer or its own expiry. Returns how many.
  virtual StoreResult<std::uint64_t> expire_commands(std::int64_t sent_before_ms, std::string_view reason,
                                                     std::int64_t now_ms) = 0;

  // The dashboard's pages (docs/operations.md, "Dashboard"); neither reads
  // a reading. Commands newest first.
  virtual StoreResult<DevicePage> list_devices(const DeviceQuery& query) = 0;
  virtual StoreResult<std::vector<Command>> recent_commands(std::size_t limit) = 0;
};

// Key order of the SQLite readings table (docs/storage.md). Both refuse a
// redelivered reading; time-ordered is several times faster for a fleet.
enum class ReadingsLayout : std::uint8_t {
  kTimeOrdered,    // PRIMARY KEY(ts, device, epoch, seq)
  kDeviceOrdered,  // PRIMARY KEY(device, epoch, seq)
};

struct SqliteOptions {
  // FULL syncs the WAL at every commit: a batch survives power loss once
  // store_batch returns. NORMAL survives only a process crash; offered for
  // measurements, never the default (see docs/storage.md).
  bool synchronous_full = true;
  int cache_mib = 64;
  int wal_autocheckpoint_pages = 10000;
  // Applies when the file is created; an existing file keeps its layout.
  ReadingsLayout layout = ReadingsLayout::kTimeOrdered;
};

// Opens (creating if needed) the database file at `path`, schema included.
StoreResult<std::unique_ptr<Store>> open_sqlite(const std::filesystem::path& path,
                                                const SqliteOptions& options = {});

struct PostgresOptions {
  std::string conninfo = "dbname=armored";  // libpq connection string
  std::string schema = "armored";           // created if missing; all tables live here
  // Other processes write readings into the same schema at the same time
  // (the scaled mode's ingest workers, docs/scale-out.md). Each batch then
  // locks the series it touches (advisory locks, in one order, so writers
  // never deadlock) and reads their stored runs inside its transaction,
  // instead of trusting a cache that another writer has made stale.
  bool shared_writers = false;
};

// Connects, creates the schema and tables if missing (idempotent), and forces
// synchronous_commit=on for the session.
StoreResult<std::unique_ptr<Store>> open_postgres(const PostgresOptions& options);

}  // namespace armored::store

// SQLite backend: WAL journal, synchronous=FULL by default, one connection,
// statements prepared once, each batch one IMMEDIATE transaction.

#include <limits>
#include <string>

#include "store/internal/gaps_sql.h"
#include "store/internal/sqlite_schema.h"
#include "store/internal/sqlite_stmt.h"
#include "store/store.h"
#include "store/stored_index.h"

namespace armored::store {
namespace {
using sqlite::DbPtr;
using sqlite::Stmt;

constexpr std::uint64_t kMaxSeq = std::numeric_limits<std::int64_t>::max();

// Rows per INSERT statement on the batch path: one sqlite3_step() then
// stores many rows, which saves the per-statement work (step, reset,
// transaction and cursor set-up) of all but one. 64 x 9 parameters stays
// far below SQLite's default limit of 32766 host parameters.
constexpr std::size_t kRowsPerInsert = 64;
constexpr std::size_t kColumnsPerRow = 9;

// "INSERT OR IGNORE INTO readings(...) VALUES(?1..?9), (?10..?18), ..." for `rows` rows.
std::string insert_readings_sql(std::size_t rows) {
  std::string sql =
      "INSERT OR IGNORE INTO readings(device, epoch, seq, key_id, ts, heart_rate, spo2, payload, received_at) VALUES";
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ",(";
    for (std::size_t c = 1; c <= kColumnsPerRow; ++c) {
      sql += '?';
      sql += std::to_string(r * kColumnsPerRow + c);
      sql += c == kColumnsPerRow ? ")" : ",";
    }
  }
  return sql;
}

// Binds one row's columns to parameters base+1 .. base+9 (the order of insert_readings_sql).
void bind_reading(Stmt& st, int base, const ReadingRow& r) {
  st.bind(base + 1, std::string_view(r.device));
  st.bind(base + 2, static_cast<std::int64_t>(r.epoch));
  st.bind(base + 3, static_cast<std::int64_t>(r.seq));
  st.bind(base + 4, ByteSpan(r.key_id));
  st.bind(base + 5, r.timestamp);
  st.bind(base + 6, static_cast<std::int64_t>(r.heart_rate_dbpm));
  st.bind(base + 7, static_cast<std::int64_t>(r.spo2_pct));
  st.bind(base + 8, ByteSpan(r.payload));
  st.bind(base + 9, r.received_at_ms);
}

StoreResult<DbPtr> open_db(const std::filesystem::path& path, const SqliteOptions& options);

class SqliteStore final : public Store {
 public:
  SqliteStore(DbPtr db, std::filesystem::path path, SqliteOptions options)
      : db_(std::move(db)), path_(std::move(path)), options_(options) {}
  StoreStatus reconnect() override;

  StoreStatus prepare() {
    sqlite3* d = db_.get();
    insert_reading_ = Stmt(d, insert_readings_sql(1));
    insert_readings_ = Stmt(d, insert_readings_sql(kRowsPerInsert));
    // Both layouts hold the same columns; ORDER BY keeps results independent of the key.
    upsert_replay_ = Stmt(d,
        "INSERT INTO replay_state(device, epoch, highest_seq, bitmap, updated_at)"
        " VALUES(?1, ?2, ?3, ?4, strftime('%s','now') * 1000)"
        " ON CONFLICT(device, epoch) DO UPDATE SET highest_seq = excluded.highest_seq,"
        " bitmap = excluded.bitmap, updated_at = excluded.updated_at"
        " WHERE excluded.highest_seq >= replay_state.highest_seq");
    insert_event_ = Stmt(d,
        "INSERT INTO security_events(at, kind, reason, peer, detail) VALUES(?1, ?2, ?3, ?4, ?5)");
    touch_device_ = Stmt(d, "UPDATE devices SET last_seen = ?2 WHERE key_id = ?1 AND last_seen < ?2");
    select_runs_ = Stmt(d,
        "SELECT first_seq, last_seq, first_at, last_at FROM stored_ranges"
        " WHERE device = ?1 AND epoch = ?2 ORDER BY first_seq");
    delete_run_ = Stmt(d, "DELETE FROM stored_ranges WHERE device = ?1 AND epoch = ?2 AND first_seq = ?3");
    upsert_run_ = Stmt(d,
        "INSERT INTO stored_ranges(device, epoch, first_seq, last_seq, first_at, last_at)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(device, epoch, first_seq) DO UPDATE SET"
        " last_seq = excluded.last_seq, first_at = excluded.first_at, last_at = excluded.last_at");
    for (const Stmt* s : {&insert_reading_, &insert_readings_, &upsert_replay_, &insert_event_, &touch_device_,
                          &select_runs_, &delete_run_, &upsert_run_}) {
      if (!s->ok()) return unexpected(sqlite::db_error(d, "prepare"));
    }
    return {};
  }

  const char* backend() const override { return "sqlite"; }

  StoreResult<BatchResult> store_batch(std::span<const ReadingRow> rows, std::span<const ReplayState> replay,
                                       std::span<const ReplyRow> replies) override {
    for (const auto& r : rows) {
      if (r.seq > kMaxSeq) return unexpected(StoreError{StoreErrorCode::kInvalidArgument, "seq >= 2^63"});
    }
    for (const auto& r : replies) {
      if (r.seq > kMaxSeq) return unexpected(StoreError{StoreErrorCode::kInvalidArgument, "reply seq >= 2^63"});
    }
    for (const auto& s : replay) {
      if (s.highest_seq > kMaxSeq) return unexpected(StoreError{StoreErrorCode::kInvalidArgument, "highest_seq >= 2^63"});
    }
    BatchResult result;
    StoredIndex::Plan plan;
    auto body = [&]() -> StoreStatus {
      ARMORED_TRY(load_index_once());
      auto p = index_.plan(rows, [this](std::string_view d, std::uint32_t e) { return read_runs(d, e); });
      if (!p) return unexpected(p.error());
      plan = std::move(*p);
      result.duplicates = plan.duplicates;
      // Full chunks through the multi-row statement, the rest one by one.
      // OR IGNORE is a second line only (a database from before
      // stored_ranges), and sqlite3_changes() counts the rows it inserted.
      std::span<const std::size_t> left = plan.fresh;
      while (!left.empty()) {
        const bool chunk = left.size() >= kRowsPerInsert;
        const std::size_t n = chunk ? kRowsPerInsert : 1;
        Stmt& st = chunk ? insert_readings_ : insert_reading_;
        for (std::size_t i = 0; i < n; ++i) bind_reading(st, static_cast<int>(i * kColumnsPerRow), rows[left[i]]);
        int rc = st.step();
        sqlite3_reset(st.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "insert reading"));
        const auto inserted = static_cast<std::size_t>(sqlite3_changes(db_.get()));
        result.inserted += inserted;
        result.duplicates += n - inserted;
        left = left.subspan(n);
      }
      ARMORED_TRY(write_runs(plan));
      ARMORED_TRY(write_replies(replies, result));
      return write_replay(replay);
    };
    if (auto st = in_transaction(body); !st) return unexpected(st.error());
    index_.committed(std::move(plan));
    return result;
  }

  StoreResult<std::vector<SeqRun>> stored_runs(std::string_view device, std::uint32_t epoch) override {
    auto r = read_runs(device, epoch);
    if (!r) return unexpected(r.error());
    return r->runs();
  }

  StoreResult<std::vector<SequenceGap>> sequence_gaps(std::size_t limit, GapTotals* out_total) override {
    std::string sql = gaps_sql("device") + " LIMIT ?1";
    Stmt st(db_.get(), sql.c_str());
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)));
    std::vector<SequenceGap> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      out.push_back(SequenceGap{st.col_text(0), static_cast<std::uint32_t>(st.col_int(1)),
                                static_cast<std::uint64_t>(st.col_int(2)), static_cast<std::uint64_t>(st.col_int(3)),
                                st.col_int(4), st.col_int(5)});
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select gaps"));
    if (out_total) {
      std::string totals = std::string("SELECT count(*), COALESCE(sum(last_missing - first_missing + 1), 0),"
                                       " count(DISTINCT device || '/' || epoch) FROM (") + gaps_sql("device") + ")";
      Stmt t(db_.get(), totals.c_str());
      if (!t.ok() || t.step() != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "count gaps"));
      *out_total = GapTotals{static_cast<std::uint64_t>(t.col_int(0)), static_cast<std::uint64_t>(t.col_int(1)),
                             static_cast<std::uint64_t>(t.col_int(2))};
    }
    return out;
  }

  StoreResult<std::uint64_t> count_readings() override {
    return count("SELECT count(*) FROM readings", {});
  }

  StoreResult<std::vector<ReadingKey>> reading_keys() override {
    Stmt st(db_.get(), "SELECT device, epoch, seq FROM readings ORDER BY device, epoch, seq");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    std::vector<ReadingKey> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      out.push_back({st.col_text(0), static_cast<std::uint32_t>(st.col_int(1)), static_cast<std::uint64_t>(st.col_int(2))});
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select keys"));
    return out;
  }

  StoreResult<std::vector<std::uint64_t>> sequences(std::string_view device, std::uint32_t epoch) override {
    Stmt st(db_.get(), "SELECT seq FROM readings WHERE device = ?1 AND epoch = ?2 ORDER BY seq");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, device);
    st.bind(2, static_cast<std::int64_t>(epoch));
    std::vector<std::uint64_t> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back(static_cast<std::uint64_t>(st.col_int(0)));
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select sequences"));
    return out;
  }

  StoreResult<std::optional<ReadingRow>> find_reading(std::string_view device, std::uint32_t epoch,
                                                      std::uint64_t seq) override {
    if (seq > kMaxSeq) return std::optional<ReadingRow>{};
    Stmt st(db_.get(),
            "SELECT key_id, ts, heart_rate, spo2, payload, received_at FROM readings"
            " WHERE device = ?1 AND epoch = ?2 AND seq = ?3 ORDER BY ts LIMIT 1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, device);
    st.bind(2, static_cast<std::int64_t>(epoch));
    st.bind(3, static_cast<std::int64_t>(seq));
    int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<ReadingRow>{};
    if (rc != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "select reading"));
    ReadingRow r;
    r.device = device;
    r.epoch = epoch;
    r.seq = seq;
    r.key_id = st.col_blob(0);
    r.timestamp = st.col_int(1);
    r.heart_rate_dbpm = static_cast<std::uint16_t>(st.col_int(2));
    r.spo2_pct = static_cast<std::uint8_t>(st.col_int(3));
    Bytes p = st.col_blob(4);
    if (p.size() != r.payload.size()) return unexpected(StoreError{StoreErrorCode::kIo, "stored payload has the wrong size"});
    std::copy(p.begin(), p.end(), r.payload.begin());
    r.received_at_ms = st.col_int(5);
    return std::optional<ReadingRow>(std::move(r));
  }

  StoreStatus register_devices(std::span<const DeviceEnrollment> devices, std::int64_t now_ms) override {
    return in_transaction([&]() -> StoreStatus {
      Stmt sel(db_.get(), "SELECT identity FROM devices WHERE key_id = ?1");
      Stmt ins(db_.get(), "INSERT INTO devices(key_id, identity, registered_at) VALUES(?1, ?2, ?3)");
      if (!sel.ok() || !ins.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
      for (const auto& d : devices) {
        sqlite3_reset(sel.get());
        sel.bind(1, ByteSpan(d.key_id));
        const int rc = sel.step();
        if (rc == SQLITE_ROW) {
          if (sel.col_text(0) != d.identity) {
            return unexpected(StoreError{StoreErrorCode::kConflict, "key id of " + d.identity + " is bound to another identity"});
          }
          continue;
        }
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select device"));
        sqlite3_reset(ins.get());
        ins.bind(1, ByteSpan(d.key_id));
        ins.bind(2, std::string_view(d.identity));
        ins.bind(3, now_ms);
        if (ins.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "insert device"));
      }
      return {};
    });
  }

  StoreResult<std::optional<DeviceRow>> find_device(ByteSpan key_id) override {
    Stmt st(db_.get(), "SELECT identity, registered_at, last_seen FROM devices WHERE key_id = ?1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, key_id);
    int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<DeviceRow>{};
    if (rc != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "select device"));
    return std::optional<DeviceRow>(
        DeviceRow{Bytes(key_id.begin(), key_id.end()), st.col_text(0), st.col_int(1), st.col_int(2)});
  }

  StoreStatus touch_devices(std::span<const Bytes> key_ids, std::int64_t now_ms) override {
    return in_transaction([&]() -> StoreStatus {
      for (const auto& k : key_ids) {
        touch_device_.bind(1, ByteSpan(k));
        touch_device_.bind(2, now_ms);
        int rc = touch_device_.step();
        sqlite3_reset(touch_device_.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "touch device"));
      }
      return {};
    });
  }

  StoreStatus save_replay(std::span<const ReplayState> states) override {
    for (const auto& s : states) {
      if (s.highest_seq > kMaxSeq) return unexpected(StoreError{StoreErrorCode::kInvalidArgument, "highest_seq >= 2^63"});
    }
    return in_transaction([&] { return write_replay(states); });
  }

  StoreResult<std::optional<ReplayState>> load_replay(std::string_view device, std::uint32_t epoch) override {
    Stmt st(db_.get(), "SELECT highest_seq, bitmap FROM replay_state WHERE device = ?1 AND epoch = ?2");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, device);
    st.bind(2, static_cast<std::int64_t>(epoch));
    int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<ReplayState>{};
    if (rc != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "select replay"));
    return std::optional<ReplayState>(ReplayState{std::string(device), epoch,
                                                  static_cast<std::uint64_t>(st.col_int(0)), st.col_blob(1)});
  }

  // SQLite has one writer; the table is here so every backend answers the
  // same interface (the scaled mode itself needs PostgreSQL).
  StoreStatus save_e3_states(std::span<const E3DeviceState> states) override {
    if (states.empty()) return {};
    return in_transaction([&]() -> StoreStatus {
      Stmt st(db_.get(),
              "INSERT INTO e3_state(key_id, epoch, entry, updated_at) VALUES(?1, ?2, ?3, strftime('%s','now') * 1000)"
              " ON CONFLICT(key_id) DO UPDATE SET epoch = excluded.epoch, entry = excluded.entry,"
              " updated_at = excluded.updated_at WHERE excluded.epoch >= e3_state.epoch");
      if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
      for (const auto& e : states) {
        st.bind(1, ByteSpan(e.key_id));
        st.bind(2, static_cast<std::int64_t>(e.epoch));
        st.bind(3, ByteSpan(e.entry));
        int rc = st.step();
        sqlite3_reset(st.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "save e3 state"));
      }
      return {};
    });
  }

  StoreResult<std::uint64_t> next_command_sequence(ByteSpan key_id, std::uint32_t epoch,
                                                  std::uint64_t at_least) override {
    if (at_least > kMaxSeq) return unexpected(StoreError{StoreErrorCode::kInvalidArgument, "sequence >= 2^63"});
    Stmt st(db_.get(),
            "INSERT INTO e3_command_seq(key_id, epoch, next_seq) VALUES(?1, ?2, ?3)"
            " ON CONFLICT(key_id, epoch) DO UPDATE SET next_seq = max(next_seq + 1, excluded.next_seq)"
            " RETURNING next_seq");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, key_id);
    st.bind(2, static_cast<std::int64_t>(epoch));
    st.bind(3, static_cast<std::int64_t>(at_least));
    if (st.step() != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "next command sequence"));
    const auto next = static_cast<std::uint64_t>(st.col_int(0));
    st.step();  // completes the statement (and its implicit transaction)
    return next;
  }

  StoreResult<std::vector<SealedTicketKey>> ticket_keys() override {
    std::vector<SealedTicketKey> out;
    if (auto st = read_ticket_keys(out); !st) return unexpected(st.error());
    return out;
  }

  StoreResult<std::vector<SealedTicketKey>> rotate_ticket_key(const SealedTicketKey& candidate,
                                                             std::int64_t due_before_ms,
                                                             std::int64_t retired_before_ms) override {
    std::vector<SealedTicketKey> out;
    auto st = in_transaction([&]() -> StoreStatus {
      Stmt del(db_.get(), "DELETE FROM tls_ticket_keys WHERE created < ?1");
      Stmt add(db_.get(),
               "INSERT INTO tls_ticket_keys(name, sealed, created) SELECT ?1, ?2, ?3"
               " WHERE NOT EXISTS (SELECT 1 FROM tls_ticket_keys WHERE created >= ?4)");
      if (!del.ok() || !add.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
      del.bind(1, retired_before_ms);
      if (del.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "retire ticket keys"));
      add.bind(1, ByteSpan(candidate.name));
      add.bind(2, ByteSpan(candidate.sealed));
      add.bind(3, candidate.created_ms);
      add.bind(4, due_before_ms);
      if (add.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "add ticket key"));
      return read_ticket_keys(out);
    });
    if (!st) return unexpected(st.error());
    return out;
  }

  StoreStatus read_ticket_keys(std::vector<SealedTicketKey>& out) {
    Stmt st(db_.get(), "SELECT name, sealed, created FROM tls_ticket_keys ORDER BY created DESC");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back({st.col_blob(0), st.col_blob(1), st.col_int(2)});
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select ticket keys"));
    return {};
  }

  StoreResult<std::vector<E3DeviceState>> load_e3_states(std::span<const Bytes> key_ids) override {
    std::vector<E3DeviceState> out;
    auto take = [&](Stmt& st) -> StoreStatus {
      int rc;
      while ((rc = st.step()) == SQLITE_ROW) {
        out.push_back({st.col_blob(0), static_cast<std::uint32_t>(st.col_int(1)), st.col_blob(2)});
      }
      if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select e3 state"));
      return {};
    };
    if (key_ids.empty()) {
      Stmt st(db_.get(), "SELECT key_id, epoch, entry FROM e3_state");
      if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
      if (auto r = take(st); !r) return unexpected(r.error());
      return out;
    }
    Stmt st(db_.get(), "SELECT key_id, epoch, entry FROM e3_state WHERE key_id = ?1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    for (const auto& k : key_ids) {
      st.bind(1, ByteSpan(k));
      if (auto r = take(st); !r) return unexpected(r.error());
      sqlite3_reset(st.get());
    }
    return out;
  }

  StoreStatus record_events(std::span<const SecurityEvent> events) override {
    return in_transaction([&]() -> StoreStatus {
      for (const auto& e : events) {
        insert_event_.bind(1, e.at_ms);
        insert_event_.bind(2, std::string_view(to_string(e.kind)));
        insert_event_.bind(3, std::string_view(e.reason));
        insert_event_.bind(4, std::string_view(e.peer));
        insert_event_.bind(5, std::string_view(e.detail));
        int rc = insert_event_.step();
        sqlite3_reset(insert_event_.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "insert event"));
      }
      return {};
    });
  }

  StoreResult<std::vector<SecurityEvent>> recent_events(std::size_t limit) override {
    Stmt st(db_.get(), "SELECT at, kind, reason, peer, detail FROM security_events ORDER BY id DESC LIMIT ?1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)));
    std::vector<SecurityEvent> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      out.push_back(SecurityEvent{st.col_int(0), event_kind_from(st.col_text(1)), st.col_text(2),
                                  st.col_text(3), st.col_text(4)});
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select events"));
    return out;
  }

  StoreResult<std::uint64_t> count_events(std::optional<EventKind> kind) override {
    if (!kind) return count("SELECT count(*) FROM security_events", {});
    return count("SELECT count(*) FROM security_events WHERE kind = ?1", to_string(*kind));
  }

  StoreResult<std::string> check_integrity() override {
    // quick_check: every page and b-tree structure, not index contents
    // against tables (integrity_check): seconds per GB, docs/storage.md.
    Stmt st(db_.get(), "PRAGMA quick_check(100)");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    std::string out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out += (out.empty() ? "" : "\n") + st.col_text(0);
    if (rc != SQLITE_DONE) {
      // Damage bad enough that the check cannot even walk the file is a
      // finding, not a failure to check.
      const int primary = sqlite3_errcode(db_.get()) & 0xff;
      if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        return std::string("damaged: ") + sqlite3_errmsg(db_.get());
      }
      return unexpected(sqlite::db_error(db_.get(), "quick_check"));
    }
    return out;
  }

  StoreResult<std::int64_t> add_command(const Command& c) override {
    Stmt st(db_.get(),
            "INSERT INTO commands(device, command, params, status, reason, created_at, updated_at)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, std::string_view(c.device));
    st.bind(2, std::string_view(c.command));
    st.bind(3, std::string_view(c.params));
    st.bind(4, std::string_view(to_string(c.status)));
    st.bind(5, std::string_view(c.reason));
    st.bind(6, c.created_at_ms);
    if (st.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "insert command"));
    return sqlite3_last_insert_rowid(db_.get());
  }

  StoreStatus set_command_status(std::int64_t id, CommandStatus status, std::string_view reason,
                                 std::int64_t now_ms) override {
    Stmt st(db_.get(),
            "UPDATE commands SET status = ?2, reason = ?3, updated_at = ?4"
            " WHERE id = ?1 AND status IN ('pending', 'sent')");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, id);
    st.bind(2, std::string_view(to_string(status)));
    st.bind(3, reason);
    st.bind(4, now_ms);
    if (st.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "update command"));
    if (sqlite3_changes(db_.get()) == 1) return {};
    Stmt exists(db_.get(), "SELECT 1 FROM commands WHERE id = ?1");
    if (!exists.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    exists.bind(1, id);
    const int rc = exists.step();
    if (rc == SQLITE_DONE) return unexpected(StoreError{StoreErrorCode::kNotFound, "no such command"});
    if (rc != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "find command"));
    return unexpected(StoreError{StoreErrorCode::kConflict, "the command is settled already"});
  }

  StoreResult<DevicePage> list_devices(const DeviceQuery& q) override {
    // Both statements share one WHERE: ?1 the pattern, ?2 the cut-off (0: none).
    constexpr const char* kWhere = " WHERE identity LIKE ?1 ESCAPE '\\' AND (?2 = 0 OR last_seen < ?2)";
    const std::string pattern = like_contains(q.search);
    DevicePage page;
    {
      Stmt st(db_.get(), std::string("SELECT count(*) FROM devices") + kWhere);
      if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
      st.bind(1, std::string_view(pattern));
      st.bind(2, q.not_seen_since_ms);
      if (st.step() != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "count devices"));
      page.total = static_cast<std::uint64_t>(st.col_int(0));
    }
    Stmt st(db_.get(), std::string("SELECT key_id, identity, registered_at, last_seen FROM devices") + kWhere +
                           " ORDER BY identity, key_id LIMIT ?3 OFFSET ?4");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, std::string_view(pattern));
    st.bind(2, q.not_seen_since_ms);
    st.bind(3, static_cast<std::int64_t>(std::min(q.limit, kMaxDevicePage)));
    st.bind(4, static_cast<std::int64_t>(std::min<std::size_t>(q.offset, kMaxSeq)));
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      page.devices.push_back(DeviceRow{st.col_blob(0), st.col_text(1), st.col_int(2), st.col_int(3)});
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select devices"));
    return page;
  }

  StoreResult<std::vector<Command>> recent_commands(std::size_t limit) override {
    Stmt st(db_.get(),
            "SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
            " ORDER BY id DESC LIMIT ?1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)));
    return read_commands(st);
  }

  StoreResult<std::vector<Command>> commands_with_status(CommandStatus status) override {
    Stmt st(db_.get(),
            "SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
            " WHERE status = ?1 ORDER BY id");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, std::string_view(to_string(status)));
    return read_commands(st);
  }

  StoreResult<std::uint64_t> expire_commands(std::int64_t sent_before_ms, std::string_view reason,
                                             std::int64_t now_ms) override {
    // Read first: in WAL a read never waits for the storage thread's write
    // lock, and there is usually nothing to expire.
    Stmt any(db_.get(), "SELECT 1 FROM commands WHERE status = 'sent' AND updated_at < ?1 LIMIT 1");
    if (!any.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    any.bind(1, sent_before_ms);
    const int found = any.step();
    if (found == SQLITE_DONE) return std::uint64_t{0};
    if (found != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "find commands to expire"));
    Stmt st(db_.get(),
            "UPDATE commands SET status = 'expired', reason = ?2, updated_at = ?3"
            " WHERE status = 'sent' AND updated_at < ?1");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, sent_before_ms);
    st.bind(2, reason);
    st.bind(3, now_ms);
    if (st.step() != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "expire commands"));
    return static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
  }

  // Rows of (id, device, command, params, status, reason, created_at, updated_at).
  StoreResult<std::vector<Command>> read_commands(Stmt& st) {
    std::vector<Command> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      Command c;
      c.id = st.col_int(0);
      c.device = st.col_text(1);
      c.command = st.col_text(2);
      c.params = st.col_text(3);
      c.status = command_status_from(st.col_text(4)).value_or(CommandStatus::kFailed);
      c.reason = st.col_text(5);
      c.created_at_ms = st.col_int(6);
      c.updated_at_ms = st.col_int(7);
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select commands"));
    return out;
  }

  StoreResult<std::vector<Command>> commands_for(std::string_view device,
                                                 std::optional<CommandStatus> status) override {
    Stmt st(db_.get(),
            "SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
            " WHERE device = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    st.bind(1, device);
    if (status) st.bind(2, std::string_view(to_string(*status)));
    return read_commands(st);
  }

 private:
  StoreStatus exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return unexpected(sqlite::db_error(db_.get(), sql));
    }
    return {};
  }

  // Runs body inside BEGIN IMMEDIATE .. COMMIT; rolls back on any failure.
  template <typename F>
  StoreStatus in_transaction(F&& body) {
    ARMORED_TRY(exec("BEGIN IMMEDIATE"));
    StoreStatus st = body();
    if (st) st = exec("COMMIT");
    if (!st) (void)exec("ROLLBACK");
    return st;
  }

  // Replies are rare (one per command): statements prepared per batch that has any.
  StoreStatus write_replies(std::span<const ReplyRow> replies, BatchResult& result) {
    if (replies.empty()) return {};
    Stmt add(db_.get(),
             "INSERT INTO command_replies(device, epoch, seq, command_id, outcome, received_at)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING");
    Stmt settle(db_.get(),
                "UPDATE commands SET status = ?3, reason = ?4, updated_at = ?5"
                " WHERE id = ?1 AND device = ?2 AND status IN ('pending', 'sent')");
    if (!add.ok() || !settle.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    for (const auto& r : replies) {
      add.bind(1, std::string_view(r.device));
      add.bind(2, static_cast<std::int64_t>(r.epoch));
      add.bind(3, static_cast<std::int64_t>(r.seq));
      add.bind(4, r.command_id);
      add.bind(5, std::string_view(to_string(r.outcome)));
      add.bind(6, r.received_at_ms);
      int rc = add.step();
      sqlite3_reset(add.get());
      if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "insert reply"));
      if (sqlite3_changes(db_.get()) == 0) continue;  // a copy of a stored reply
      ++result.replies;
      settle.bind(1, r.command_id);
      settle.bind(2, std::string_view(r.device));
      settle.bind(3, std::string_view(to_string(r.outcome)));
      settle.bind(4, std::string_view(r.reason));
      settle.bind(5, r.received_at_ms);
      rc = settle.step();
      sqlite3_reset(settle.get());
      if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "settle command"));
    }
    return {};
  }

  StoreStatus write_replay(std::span<const ReplayState> states) {
    for (const auto& s : states) {
      upsert_replay_.bind(1, std::string_view(s.device));
      upsert_replay_.bind(2, static_cast<std::int64_t>(s.epoch));
      upsert_replay_.bind(3, static_cast<std::int64_t>(s.highest_seq));
      upsert_replay_.bind(4, ByteSpan(s.window));
      int rc = upsert_replay_.step();
      sqlite3_reset(upsert_replay_.get());
      if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "upsert replay"));
    }
    return {};
  }

  // The whole stored_ranges table into the index, once (the first batch):
  // from then on a series the index lacks has nothing stored.
  StoreStatus load_index_once() {
    if (index_loaded_) return {};
    Stmt st(db_.get(), "SELECT device, epoch, first_seq, last_seq, first_at, last_at FROM stored_ranges"
                       " ORDER BY device, epoch, first_seq");
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    SeriesKey key;
    SeqRuns runs;
    bool any = false;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      std::string device = st.col_text(0);
      const auto epoch = static_cast<std::uint32_t>(st.col_int(1));
      if (any && (device != key.device || epoch != key.epoch)) {
        index_.put_loaded(std::move(key), std::move(runs));
        runs = SeqRuns();
      }
      key = SeriesKey{std::move(device), epoch};
      any = true;
      runs.append_loaded(SeqRun{static_cast<std::uint64_t>(st.col_int(2)), static_cast<std::uint64_t>(st.col_int(3)),
                                st.col_int(4), st.col_int(5)});
    }
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "load stored ranges"));
    if (any) index_.put_loaded(std::move(key), std::move(runs));
    index_.set_complete(true);
    index_loaded_ = true;
    return {};
  }

  StoreResult<SeqRuns> read_runs(std::string_view device, std::uint32_t epoch) {
    select_runs_.bind(1, device);
    select_runs_.bind(2, static_cast<std::int64_t>(epoch));
    SeqRuns runs;
    int rc;
    while ((rc = select_runs_.step()) == SQLITE_ROW) {
      runs.append_loaded(SeqRun{static_cast<std::uint64_t>(select_runs_.col_int(0)),
                                static_cast<std::uint64_t>(select_runs_.col_int(1)), select_runs_.col_int(2),
                                select_runs_.col_int(3)});
    }
    sqlite3_reset(select_runs_.get());
    if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "select stored ranges"));
    return runs;
  }

  // Writes the runs each series' batch changed, by key: usually one
  // UPDATE of the last run (readings in order), never the whole series.
  StoreStatus write_runs(const StoredIndex::Plan& plan) {
    for (const auto& [key, series] : plan.series) {
      if (!series.dirty) continue;
      for (std::uint64_t first : series.removed_keys) {
        if (series.runs.find_run(first)) continue;  // created again: the upsert below writes it
        delete_run_.bind(1, std::string_view(key.device));
        delete_run_.bind(2, static_cast<std::int64_t>(key.epoch));
        delete_run_.bind(3, static_cast<std::int64_t>(first));
        int rc = delete_run_.step();
        sqlite3_reset(delete_run_.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "delete stored range"));
      }
      for (std::uint64_t first : series.changed_keys) {
        const SeqRun* run = series.runs.find_run(first);
        if (!run) continue;  // merged away later in the batch (and removed above)
        const SeqRun& r = *run;
        upsert_run_.bind(1, std::string_view(key.device));
        upsert_run_.bind(2, static_cast<std::int64_t>(key.epoch));
        upsert_run_.bind(3, static_cast<std::int64_t>(r.first));
        upsert_run_.bind(4, static_cast<std::int64_t>(r.last));
        upsert_run_.bind(5, r.first_at_ms);
        upsert_run_.bind(6, r.last_at_ms);
        int rc = upsert_run_.step();
        sqlite3_reset(upsert_run_.get());
        if (rc != SQLITE_DONE) return unexpected(sqlite::db_error(db_.get(), "write stored range"));
      }
    }
    return {};
  }

  StoreResult<std::uint64_t> count(const char* sql, std::optional<std::string_view> arg) {
    Stmt st(db_.get(), sql);
    if (!st.ok()) return unexpected(sqlite::db_error(db_.get(), "prepare"));
    if (arg) st.bind(1, *arg);
    if (st.step() != SQLITE_ROW) return unexpected(sqlite::db_error(db_.get(), "count"));
    return static_cast<std::uint64_t>(st.col_int(0));
  }

  DbPtr db_;
  std::filesystem::path path_;
  SqliteOptions options_;
  Stmt insert_reading_, insert_readings_, upsert_replay_, insert_event_, touch_device_;
  Stmt select_runs_, delete_run_, upsert_run_;
  StoredIndex index_;
  bool index_loaded_ = false;
};

StoreResult<DbPtr> open_db(const std::filesystem::path& path, const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return unexpected(StoreError{StoreErrorCode::kUnavailable,
                                 "cannot open " + path.string() + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory")});
  }
  sqlite3_busy_timeout(db.get(), 5000);
  std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                        (options.synchronous_full ? "FULL" : "NORMAL") +
                        "; PRAGMA cache_size=-" + std::to_string(options.cache_mib * 1024) +
                        "; PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages) +
                        "; PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;";
  char* err = nullptr;
  const char* readings = options.layout == ReadingsLayout::kTimeOrdered ? sqlite::kReadingsTimeOrdered
                                                                         : sqlite::kReadingsDeviceOrdered;
  for (const char* sql : {pragmas.c_str(), readings, sqlite::kSchema}) {
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return unexpected(StoreError{StoreErrorCode::kUnavailable, "cannot set up " + path.string() + ": " + msg});
    }
  }
  {
    sqlite::Stmt needs(db.get(), sqlite::kNeedsDerivedRanges);
    if (!needs.ok() || needs.step() != SQLITE_ROW) {
      return unexpected(sqlite::db_error(db.get(), "check stored ranges"));
    }
    if (needs.col_int(0) != 0) {
      std::string sql = std::string("BEGIN IMMEDIATE;") + sqlite::kDeriveRanges + "COMMIT;";
      if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        (void)sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        return unexpected(StoreError{StoreErrorCode::kUnavailable, "cannot derive stored ranges in " + path.string() + ": " + msg});
      }
    }
  }
  // journal_mode is not an error when refused (e.g. on some file systems); check it took.
  sqlite::Stmt mode(db.get(), "PRAGMA journal_mode");
  if (!mode.ok() || mode.step() != SQLITE_ROW || mode.col_text(0) != "wal") {
    return unexpected(StoreError{StoreErrorCode::kUnavailable, path.string() + ": WAL journal mode unavailable"});
  }
  mode = sqlite::Stmt();
  return db;
}

StoreStatus SqliteStore::reconnect() {
  // After an I/O error SQLite may keep refusing on the same connection (its
  // view of the WAL and shared memory is suspect): start a fresh one. The
  // stored-ranges cache stays, it holds only what committed.
  Stmt* all[] = {&insert_reading_, &insert_readings_, &upsert_replay_, &insert_event_, &touch_device_,
                 &select_runs_, &delete_run_, &upsert_run_};
  for (Stmt* st : all) *st = Stmt();
  db_.reset();
  auto db = open_db(path_, options_);
  if (!db) return unexpected(db.error());
  db_ = std::move(*db);
  // A WAL that has grown to fill the disk (its automatic checkpoint comes
  // only after wal_autocheckpoint pages) blocks every commit, so no
  // checkpoint ever runs: copy it into the database and truncate it now.
  // Best effort: a reader holding an old snapshot can keep it from finishing.
  (void)sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  return prepare();
}

}  // namespace

StoreResult<std::unique_ptr<Store>> open_sqlite(const std::filesystem::path& path,
                                                const SqliteOptions& options) {
  auto db = open_db(path, options);
  if (!db) return unexpected(db.error());
  auto store = std::make_unique<SqliteStore>(std::move(*db), path, options);
  if (auto st = store->prepare(); !st) return unexpected(st.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace armored::store

// PostgreSQL backend (libpq). A batch is one transaction: a binary COPY
// straight into readings; only if that hits the primary key (a redelivery),
// the same rows go through a temporary staging table and
// INSERT .. SELECT .. ON CONFLICT DO NOTHING. COMMIT with
// synchronous_commit=on: durable when COMMIT returns.

#include <algorithm>
#include <tuple>
#include <limits>
#include <map>
#include <set>

#include "common/hex.h"
#include "store/internal/gaps_sql.h"
#include "store/internal/postgres_conn.h"
#include "store/internal/postgres_copy.h"
#include "store/internal/postgres_schema.h"
#include "store/store.h"
#include "store/stored_index.h"

namespace armored::store {
namespace pg {

Bytes col_bytea(PGresult* r, int row, int col) {
  std::string_view v(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
  if (v.size() >= 2 && v[0] == '\\' && v[1] == 'x') {
    if (auto b = from_hex(v.substr(2))) return *b;
  }
  return {};
}

}  // namespace pg

namespace {
using pg::Param;

constexpr std::uint64_t kMaxSeq = std::numeric_limits<std::int64_t>::max();

StoreError invalid(const char* what) { return StoreError{StoreErrorCode::kInvalidArgument, what}; }

class PostgresStore final : public Store {
 public:
  PostgresStore(pg::ConnPtr conn, PostgresOptions options)
      : conn_(std::move(conn)), options_(std::move(options)) {}

  // Creates the schema and tables (idempotent) and sets up this session.
  StoreStatus setup() {
    PGconn* c = conn_.get();
    std::unique_ptr<char, decltype(&PQfreemem)> ident(
        PQescapeIdentifier(c, options_.schema.data(), options_.schema.size()), &PQfreemem);
    if (!ident) return unexpected(pg::pg_error(c, "schema name"));
    std::unique_ptr<char, decltype(&PQfreemem)> literal(
        PQescapeLiteral(c, options_.schema.data(), options_.schema.size()), &PQfreemem);
    if (!literal) return unexpected(pg::pg_error(c, "schema name"));
    // "already exists, skipping" notices are expected on every open after the first.
    // CREATE SCHEMA only when it is missing: even with IF NOT EXISTS it needs
    // CREATE on the database, which a cloud role owning just its schema
    // lacks (docs/security.md, PostgreSQL grants).
    std::string create = "SET client_min_messages = warning; BEGIN; SELECT pg_advisory_xact_lock(7275651); "
                         "DO $armored$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = " +
                         std::string(literal.get()) + ") THEN CREATE SCHEMA " + ident.get() +
                         "; END IF; END $armored$; SET search_path TO " + ident.get() + "; " +
                         pg::kSchema + " COMMIT;";
    ARMORED_TRY(pg::exec(c, create.c_str()));
    ARMORED_TRY(pg::exec(c, pg::kSessionSetup));
    return {};
  }

  const char* backend() const override { return "postgresql"; }

  StoreResult<BatchResult> store_batch(std::span<const ReadingRow> rows, std::span<const ReplayState> replay,
                                       std::span<const ReplyRow> replies) override {
    for (const auto& r : rows) {
      if (r.seq > kMaxSeq) return unexpected(invalid("seq >= 2^63"));
    }
    for (const auto& r : replies) {
      if (r.seq > kMaxSeq) return unexpected(invalid("reply seq >= 2^63"));
    }
    for (const auto& s : replay) {
      if (s.highest_seq > kMaxSeq) return unexpected(invalid("highest_seq >= 2^63"));
    }
    BatchResult result;
    StoredIndex::Plan plan;
    auto body = [&]() -> StoreStatus {
      ARMORED_TRY(options_.shared_writers ? lock_and_load_series(rows) : load_index_once());
      auto p = index_.plan(rows, [this](std::string_view d, std::uint32_t e) { return read_runs(d, e); });
      if (!p) return unexpected(p.error());
      plan = std::move(*p);
      result.duplicates = plan.duplicates;
      if (!plan.fresh.empty()) {
        copy_.reset();
        for (std::size_t i : plan.fresh) {
          const ReadingRow& r = rows[i];
          copy_.begin_row(9);
          copy_.text(r.device);
          copy_.int8(r.epoch);
          copy_.int8(static_cast<std::int64_t>(r.seq));
          copy_.bytea(r.key_id);
          copy_.int8(r.timestamp);
          copy_.int2(static_cast<std::int16_t>(r.heart_rate_dbpm));
          copy_.int2(static_cast<std::int16_t>(r.spo2_pct));
          copy_.bytea(r.payload);
          copy_.int8(r.received_at_ms);
        }
        // Fast path: COPY straight into readings. The stored ranges already
        // kept duplicates out; should the primary key still refuse a row (a
        // database written before stored_ranges, or by a second writer), the
        // savepoint undoes the COPY and the rows go through the staging
        // table with ON CONFLICT.
        ARMORED_TRY(pg::exec(conn_.get(), "SAVEPOINT direct_copy"));
        bool duplicate = false;
        ARMORED_TRY(copy_in("COPY readings FROM STDIN (FORMAT binary)", &duplicate));
        if (!duplicate) {
          result.inserted = plan.fresh.size();
        } else {
          ARMORED_TRY(pg::exec(conn_.get(), "ROLLBACK TO SAVEPOINT direct_copy"));
          ARMORED_TRY(copy_in("COPY readings_stage FROM STDIN (FORMAT binary)"));
          auto merged = pg::exec(conn_.get(), pg::kMergeReadings);
          if (!merged) return unexpected(merged.error());
          result.inserted = static_cast<std::size_t>(std::stoull(PQcmdTuples(merged->get())));
          result.duplicates += plan.fresh.size() - result.inserted;
        }
      }
      ARMORED_TRY(write_runs(plan));
      ARMORED_TRY(write_replies(replies, result));
      return write_replay(replay);
    };
    if (auto st = in_transaction(body); !st) {
      // The connection may be gone (a restarted server): the next call
      // reconnects and reads the ranges again rather than trust the cache.
      return unexpected(st.error());
    }
    index_.committed(std::move(plan));
    return result;
  }

  StoreResult<std::vector<SeqRun>> stored_runs(std::string_view device, std::uint32_t epoch) override {
    auto r = read_runs(device, epoch);
    if (!r) return unexpected(r.error());
    return r->runs();
  }

  StoreResult<std::string> check_integrity() override {
    // PostgreSQL verifies its pages as it reads them (with data checksums
    // enabled at initdb); reaching it and reading is the check here.
    auto r = count("SELECT count(*) FROM stored_ranges", {});
    if (!r) return unexpected(r.error());
    return std::string("ok");
  }

  StoreResult<std::vector<SequenceGap>> sequence_gaps(std::size_t limit, GapTotals* out_total) override {
    std::string sql = gaps_sql("device COLLATE \"C\"") + " LIMIT $1";
    auto r = query(sql.c_str(), {Param::integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)))});
    if (!r) return unexpected(r.error());
    std::vector<SequenceGap> out;
    PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      out.push_back(SequenceGap{pg::col_text(res, i, 0), static_cast<std::uint32_t>(pg::col_int(res, i, 1)),
                                static_cast<std::uint64_t>(pg::col_int(res, i, 2)),
                                static_cast<std::uint64_t>(pg::col_int(res, i, 3)), pg::col_int(res, i, 4),
                                pg::col_int(res, i, 5)});
    }
    if (out_total) {
      std::string totals = std::string("SELECT count(*), COALESCE(sum(last_missing - first_missing + 1), 0),"
                                       " count(DISTINCT (device, epoch)) FROM (") + gaps_sql("device") + ") t";
      auto t = query(totals.c_str(), {});
      if (!t) return unexpected(t.error());
      *out_total = GapTotals{static_cast<std::uint64_t>(pg::col_int(t->get(), 0, 0)),
                             static_cast<std::uint64_t>(pg::col_int(t->get(), 0, 1)),
                             static_cast<std::uint64_t>(pg::col_int(t->get(), 0, 2))};
    }
    return out;
  }

  StoreResult<std::uint64_t> count_readings() override {
    return count("SELECT count(*) FROM readings", {});
  }

  StoreResult<std::vector<ReadingKey>> reading_keys() override {
    // COLLATE "C": byte order, the same as SQLite's.
    auto r = query("SELECT device, epoch, seq FROM readings ORDER BY device COLLATE \"C\", epoch, seq", {});
    if (!r) return unexpected(r.error());
    std::vector<ReadingKey> out;
    PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      out.push_back({pg::col_text(res, i, 0), static_cast<std::uint32_t>(pg::col_int(res, i, 1)),
                     static_cast<std::uint64_t>(pg::col_int(res, i, 2))});
    }
    return out;
  }

  StoreResult<std::vector<std::uint64_t>> sequences(std::string_view device, std::uint32_t epoch) override {
    auto r = query("SELECT seq FROM readings WHERE device = $1 AND epoch = $2 ORDER BY seq",
                   {Param::text(std::string(device)), Param::integer(epoch)});
    if (!r) return unexpected(r.error());
    std::vector<std::uint64_t> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(static_cast<std::uint64_t>(pg::col_int(r->get(), i, 0)));
    return out;
  }

  StoreResult<std::optional<ReadingRow>> find_reading(std::string_view device, std::uint32_t epoch,
                                                      std::uint64_t seq) override {
    if (seq > kMaxSeq) return std::optional<ReadingRow>{};
    auto r = query("SELECT key_id, ts, heart_rate, spo2, payload, received_at FROM readings"
                   " WHERE device = $1 AND epoch = $2 AND seq = $3",
                   {Param::text(std::string(device)), Param::integer(epoch),
                    Param::integer(static_cast<std::int64_t>(seq))});
    if (!r) return unexpected(r.error());
    PGresult* res = r->get();
    if (PQntuples(res) == 0) return std::optional<ReadingRow>{};
    ReadingRow row;
    row.device = device;
    row.epoch = epoch;
    row.seq = seq;
    row.key_id = pg::col_bytea(res, 0, 0);
    row.timestamp = pg::col_int(res, 0, 1);
    row.heart_rate_dbpm = static_cast<std::uint16_t>(pg::col_int(res, 0, 2));
    row.spo2_pct = static_cast<std::uint8_t>(pg::col_int(res, 0, 3));
    Bytes p = pg::col_bytea(res, 0, 4);
    if (p.size() != row.payload.size()) return unexpected(StoreError{StoreErrorCode::kIo, "stored payload has the wrong size"});
    std::copy(p.begin(), p.end(), row.payload.begin());
    row.received_at_ms = pg::col_int(res, 0, 5);
    return std::optional<ReadingRow>(std::move(row));
  }

  StoreStatus register_devices(std::span<const DeviceEnrollment> devices, std::int64_t now_ms) override {
    return in_transaction([&]() -> StoreStatus {
      for (const auto& d : devices) {
        // Insert-if-absent, then read back who owns the key: one statement, no race.
        auto r = query("WITH ins AS (INSERT INTO devices(key_id, identity, registered_at) VALUES($1, $2, $3)"
                       " ON CONFLICT (key_id) DO NOTHING RETURNING identity)"
                       " SELECT identity FROM ins UNION ALL SELECT identity FROM devices WHERE key_id = $1",
                       {Param::bytes(ByteSpan(d.key_id)), Param::text(d.identity), Param::integer(now_ms)});
        if (!r) return unexpected(r.error());
        if (PQntuples(r->get()) < 1 || pg::col_text(r->get(), 0, 0) != d.identity) {
          return unexpected(StoreError{StoreErrorCode::kConflict, "key id of " + d.identity + " is bound to another identity"});
        }
      }
      return {};
    });
  }

  StoreResult<std::optional<DeviceRow>> find_device(ByteSpan key_id) override {
    auto r = query("SELECT identity, registered_at, last_seen FROM devices WHERE key_id = $1",
                   {Param::bytes(key_id)});
    if (!r) return unexpected(r.error());
    if (PQntuples(r->get()) == 0) return std::optional<DeviceRow>{};
    return std::optional<DeviceRow>(DeviceRow{Bytes(key_id.begin(), key_id.end()), pg::col_text(r->get(), 0, 0),
                                              pg::col_int(r->get(), 0, 1), pg::col_int(r->get(), 0, 2)});
  }

  StoreStatus touch_devices(std::span<const Bytes> key_ids, std::int64_t now_ms) override {
    return in_transaction([&]() -> StoreStatus {
      for (const auto& k : key_ids) {
        ARMORED_TRY(pg::exec_params(conn_.get(),
                                    "UPDATE devices SET last_seen = $2 WHERE key_id = $1 AND last_seen < $2",
                                    {Param::bytes(k), Param::integer(now_ms)}));
      }
      return {};
    });
  }

  StoreStatus save_replay(std::span<const ReplayState> states) override {
    for (const auto& s : states) {
      if (s.highest_seq > kMaxSeq) return unexpected(invalid("highest_seq >= 2^63"));
    }
    return in_transaction([&] { return write_replay(states); });
  }

  StoreResult<std::optional<ReplayState>> load_replay(std::string_view device, std::uint32_t epoch) override {
    auto r = query("SELECT highest_seq, bitmap FROM replay_state WHERE device = $1 AND epoch = $2",
                   {Param::text(std::string(device)), Param::integer(epoch)});
    if (!r) return unexpected(r.error());
    if (PQntuples(r->get()) == 0) return std::optional<ReplayState>{};
    return std::optional<ReplayState>(ReplayState{std::string(device), epoch,
                                                  static_cast<std::uint64_t>(pg::col_int(r->get(), 0, 0)),
                                                  pg::col_bytea(r->get(), 0, 1)});
  }

  StoreStatus save_e3_states(std::span<const E3DeviceState> states) override {
    if (states.empty()) return {};
    return in_transaction([&]() -> StoreStatus {
      for (const auto& st : states) {
        ARMORED_TRY(pg::exec_params(conn_.get(), pg::kSaveE3State,
                                    {Param::bytes(st.key_id), Param::integer(st.epoch), Param::bytes(st.entry)}));
      }
      return {};
    });
  }

  StoreResult<std::uint64_t> next_command_sequence(ByteSpan key_id, std::uint32_t epoch,
                                                  std::uint64_t at_least) override {
    if (at_least > kMaxSeq) return unexpected(invalid("sequence >= 2^63"));
    auto r = query(pg::kNextCommandSeq, {Param::bytes(key_id), Param::integer(epoch),
                                         Param::integer(static_cast<std::int64_t>(at_least))});
    if (!r) return unexpected(r.error());
    return static_cast<std::uint64_t>(pg::col_int(r->get(), 0, 0));
  }

  StoreResult<std::vector<SealedTicketKey>> ticket_keys() override {
    auto r = query("SELECT name, sealed, created FROM tls_ticket_keys ORDER BY created DESC", {});
    if (!r) return unexpected(r.error());
    return ticket_rows(r->get());
  }

  StoreResult<std::vector<SealedTicketKey>> rotate_ticket_key(const SealedTicketKey& candidate,
                                                             std::int64_t due_before_ms,
                                                             std::int64_t retired_before_ms) override {
    std::vector<SealedTicketKey> out;
    auto st = in_transaction([&]() -> StoreStatus {
      // One rotation at a time across fronts.
      ARMORED_TRY(pg::exec(conn_.get(), "SELECT pg_advisory_xact_lock(7275652)", PGRES_TUPLES_OK));
      ARMORED_TRY(pg::exec_params(conn_.get(), "DELETE FROM tls_ticket_keys WHERE created < $1",
                                  {Param::integer(retired_before_ms)}));
      ARMORED_TRY(pg::exec_params(conn_.get(),
                                  "INSERT INTO tls_ticket_keys(name, sealed, created) SELECT $1, $2, $3"
                                  " WHERE NOT EXISTS (SELECT 1 FROM tls_ticket_keys WHERE created >= $4)",
                                  {Param::bytes(candidate.name), Param::bytes(candidate.sealed),
                                   Param::integer(candidate.created_ms), Param::integer(due_before_ms)}));
      auto r = pg::exec_params(conn_.get(), "SELECT name, sealed, created FROM tls_ticket_keys ORDER BY created DESC",
                               {}, PGRES_TUPLES_OK);
      if (!r) return unexpected(r.error());
      out = ticket_rows(r->get());
      return {};
    });
    if (!st) return unexpected(st.error());
    return out;
  }

  static std::vector<SealedTicketKey> ticket_rows(PGresult* r) {
    std::vector<SealedTicketKey> out;
    for (int i = 0; i < PQntuples(r); ++i) out.push_back({pg::col_bytea(r, i, 0), pg::col_bytea(r, i, 1), pg::col_int(r, i, 2)});
    return out;
  }

  StoreResult<std::vector<E3DeviceState>> load_e3_states(std::span<const Bytes> key_ids) override {
    std::vector<E3DeviceState> out;
    auto take = [&](PGresult* r) {
      for (int i = 0; i < PQntuples(r); ++i) {
        out.push_back({pg::col_bytea(r, i, 0), static_cast<std::uint32_t>(pg::col_int(r, i, 1)), pg::col_bytea(r, i, 2)});
      }
    };
    if (key_ids.empty()) {
      auto r = query("SELECT key_id, epoch, entry FROM e3_state", {});
      if (!r) return unexpected(r.error());
      take(r->get());
      return out;
    }
    for (const auto& k : key_ids) {
      auto r = query("SELECT key_id, epoch, entry FROM e3_state WHERE key_id = $1", {Param::bytes(k)});
      if (!r) return unexpected(r.error());
      take(r->get());
    }
    return out;
  }

  StoreStatus record_events(std::span<const SecurityEvent> events) override {
    return in_transaction([&]() -> StoreStatus {
      for (const auto& e : events) {
        ARMORED_TRY(pg::exec_params(conn_.get(),
                                    "INSERT INTO security_events(at, kind, reason, peer, detail)"
                                    " VALUES($1, $2, $3, $4, $5)",
                                    {Param::integer(e.at_ms), Param::text(to_string(e.kind)),
                                     Param::text(e.reason), Param::text(e.peer), Param::text(e.detail)}));
      }
      return {};
    });
  }

  StoreResult<std::vector<SecurityEvent>> recent_events(std::size_t limit) override {
    auto r = query("SELECT at, kind, reason, peer, detail FROM security_events ORDER BY id DESC LIMIT $1",
                   {Param::integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)))});
    if (!r) return unexpected(r.error());
    std::vector<SecurityEvent> out;
    PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      out.push_back(SecurityEvent{pg::col_int(res, i, 0), event_kind_from(pg::col_text(res, i, 1)),
                                  pg::col_text(res, i, 2), pg::col_text(res, i, 3), pg::col_text(res, i, 4)});
    }
    return out;
  }

  StoreResult<std::uint64_t> count_events(std::optional<EventKind> kind) override {
    if (!kind) return count("SELECT count(*) FROM security_events", {});
    return count("SELECT count(*) FROM security_events WHERE kind = $1", {Param::text(to_string(*kind))});
  }

  StoreResult<std::int64_t> add_command(const Command& c) override {
    auto r = query("INSERT INTO commands(device, command, params, status, reason, created_at, updated_at)"
                   " VALUES($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                   {Param::text(c.device), Param::text(c.command), Param::text(c.params),
                    Param::text(to_string(c.status)), Param::text(c.reason), Param::integer(c.created_at_ms)});
    if (!r) return unexpected(r.error());
    return pg::col_int(r->get(), 0, 0);
  }

  StoreStatus set_command_status(std::int64_t id, CommandStatus status, std::string_view reason,
                                 std::int64_t now_ms) override {
    auto r = pg::exec_params(conn_.get(),
                             "UPDATE commands SET status = $2, reason = $3, updated_at = $4"
                             " WHERE id = $1 AND status IN ('pending', 'sent')",
                             {Param::integer(id), Param::text(to_string(status)),
                              Param::text(std::string(reason)), Param::integer(now_ms)});
    if (!r) return unexpected(r.error());
    if (std::string_view(PQcmdTuples(r->get())) == "1") return {};
    auto exists = count("SELECT count(*) FROM commands WHERE id = $1", {Param::integer(id)});
    if (!exists) return unexpected(exists.error());
    if (*exists == 0) return unexpected(StoreError{StoreErrorCode::kNotFound, "no such command"});
    return unexpected(StoreError{StoreErrorCode::kConflict, "the command is settled already"});
  }

  StoreResult<DevicePage> list_devices(const DeviceQuery& q) override {
    // Both statements share one WHERE: $1 the pattern, $2 the cut-off (0: none).
    constexpr const char* kWhere = " WHERE identity LIKE $1 ESCAPE '\\' AND ($2::bigint = 0 OR last_seen < $2)";
    const std::string pattern = like_contains(q.search);
    auto n = count((std::string("SELECT count(*) FROM devices") + kWhere).c_str(),
                   {Param::text(pattern), Param::integer(q.not_seen_since_ms)});
    if (!n) return unexpected(n.error());
    DevicePage page;
    page.total = *n;
    const std::string select = std::string("SELECT key_id, identity, registered_at, last_seen FROM devices") +
                               kWhere + " ORDER BY identity, key_id LIMIT $3 OFFSET $4";
    auto r = query(select.c_str(),
                   {Param::text(pattern), Param::integer(q.not_seen_since_ms),
                    Param::integer(static_cast<std::int64_t>(std::min(q.limit, kMaxDevicePage))),
                    Param::integer(static_cast<std::int64_t>(std::min<std::size_t>(q.offset, kMaxSeq)))});
    if (!r) return unexpected(r.error());
    PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      page.devices.push_back(DeviceRow{pg::col_bytea(res, i, 0), pg::col_text(res, i, 1), pg::col_int(res, i, 2),
                                       pg::col_int(res, i, 3)});
    }
    return page;
  }

  StoreResult<std::vector<Command>> recent_commands(std::size_t limit) override {
    return read_commands("SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
                         " ORDER BY id DESC LIMIT $1",
                         {Param::integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, kMaxSeq)))});
  }

  StoreResult<std::vector<Command>> commands_with_status(CommandStatus status) override {
    return read_commands("SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
                         " WHERE status = $1 ORDER BY id",
                         {Param::text(to_string(status))});
  }

  StoreResult<std::uint64_t> expire_commands(std::int64_t sent_before_ms, std::string_view reason,
                                             std::int64_t now_ms) override {
    auto r = pg::exec_params(conn_.get(),
                             "UPDATE commands SET status = 'expired', reason = $2, updated_at = $3"
                             " WHERE status = 'sent' AND updated_at < $1",
                             {Param::integer(sent_before_ms), Param::text(std::string(reason)), Param::integer(now_ms)});
    if (!r) return unexpected(r.error());
    return static_cast<std::uint64_t>(std::stoull(PQcmdTuples(r->get())));
  }

  // Rows of (id, device, command, params, status, reason, created_at, updated_at).
  StoreResult<std::vector<Command>> read_commands(const char* sql, const std::vector<Param>& params) {
    auto r = query(sql, params);
    if (!r) return unexpected(r.error());
    std::vector<Command> out;
    PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      Command c;
      c.id = pg::col_int(res, i, 0);
      c.device = pg::col_text(res, i, 1);
      c.command = pg::col_text(res, i, 2);
      c.params = pg::col_text(res, i, 3);
      c.status = command_status_from(pg::col_text(res, i, 4)).value_or(CommandStatus::kFailed);
      c.reason = pg::col_text(res, i, 5);
      c.created_at_ms = pg::col_int(res, i, 6);
      c.updated_at_ms = pg::col_int(res, i, 7);
      out.push_back(std::move(c));
    }
    return out;
  }

  StoreResult<std::vector<Command>> commands_for(std::string_view device,
                                                 std::optional<CommandStatus> status) override {
    return read_commands("SELECT id, device, command, params, status, reason, created_at, updated_at FROM commands"
                         " WHERE device = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id",
                         {Param::text(std::string(device)), status ? Param::text(to_string(*status)) : Param::none()});
  }

 private:
  // A lost connection is re-established (and the session set up again) at
  // the start of the next call; the failed call itself reports kUnavailable.
  StoreStatus ensure_connected() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return {};
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) return unexpected(pg::pg_error(conn_.get(), "reconnect"));
    return setup();
  }

  StoreResult<pg::ResultPtr> query(const char* sql, const std::vector<Param>& params) {
    ARMORED_TRY(ensure_connected());
    return pg::exec_params(conn_.get(), sql, params, PGRES_TUPLES_OK);
  }

  StoreResult<std::uint64_t> count(const char* sql, const std::vector<Param>& params) {
    auto r = query(sql, params);
    if (!r) return unexpected(r.error());
    return static_cast<std::uint64_t>(pg::col_int(r->get(), 0, 0));
  }

  // BEGIN .. body .. COMMIT; a COMMIT that turned into ROLLBACK is an error.
  template <typename F>
  StoreStatus in_transaction(F&& body) {
    ARMORED_TRY(ensure_connected());
    ARMORED_TRY(pg::exec(conn_.get(), "BEGIN"));
    StoreStatus st = body();
    if (st) {
      auto r = pg::exec(conn_.get(), "COMMIT");
      if (!r) st = unexpected(r.error());
      else if (std::string_view(PQcmdStatus(r->get())) != "COMMIT") {
        st = unexpected(StoreError{StoreErrorCode::kIo, "transaction rolled back"});
      }
      if (st) return st;
    }
    (void)pg::exec(conn_.get(), "ROLLBACK");
    return st;
  }

  // Sends the rows in copy_ (finished once, reusable for a second COPY).
  // With `out_duplicate`, a unique violation is reported there instead of as an error.
  StoreStatus copy_in(const char* sql, bool* out_duplicate = nullptr) {
    PGconn* c = conn_.get();
    ARMORED_TRY(pg::exec(c, sql, PGRES_COPY_IN));
    ByteSpan data = copy_.finished();
    int ok = PQputCopyData(c, reinterpret_cast<const char*>(data.data()), static_cast<int>(data.size()));
    int end = PQputCopyEnd(c, ok == 1 ? nullptr : "client failed to send data");
    pg::ResultPtr r(PQgetResult(c));
    StoreStatus st;
    if (ok != 1 || end != 1 || !r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      if (out_duplicate && state && std::string_view(state) == "23505") *out_duplicate = true;
      else st = unexpected(pg::pg_error(c, "COPY"));
    }
    while (pg::ResultPtr more{PQgetResult(c)}) {
    }
    return st;
  }

  // The whole stored_ranges table into the index, once per connection:
  // from then on a series the index lacks has nothing stored.
  StoreStatus load_index_once() {
    if (index_loaded_) return {};
    auto r = query("SELECT device, epoch, first_seq, last_seq, first_at, last_at FROM stored_ranges"
                   " ORDER BY device, epoch, first_seq", {});
    if (!r) return unexpected(r.error());
    index_ = StoredIndex();
    load_runs(r->get());
    index_loaded_ = true;
    return {};
  }

  // Shared writers: lock the batch's series, then read their runs. The
  // index is rebuilt for each batch and holds exactly these series, so a
  // series it lacks has nothing stored (no other writer can add to it
  // before this transaction ends).
  StoreStatus lock_and_load_series(std::span<const ReadingRow> rows) {
    copy_.reset();
    std::set<std::pair<std::string_view, std::uint32_t>> series;
    for (const auto& r : rows) {
      if (!series.emplace(r.device, r.epoch).second) continue;
      copy_.begin_row(2);
      copy_.text(r.device);
      copy_.int8(r.epoch);
    }
    index_ = StoredIndex();
    if (series.empty()) {
      index_.set_complete(true);
      return {};
    }
    ARMORED_TRY(copy_in("COPY series_stage FROM STDIN (FORMAT binary)"));
    ARMORED_TRY(pg::exec(conn_.get(), pg::kLockSeries, PGRES_TUPLES_OK));
    auto r = query(pg::kSeriesRuns, {});
    if (!r) return unexpected(r.error());
    load_runs(r->get());
    return {};
  }

  // Rows of (device, epoch, first_seq, last_seq, first_at, last_at), sorted
  // by series, into a fresh index that is then complete.
  void load_runs(PGresult* res) {
    SeriesKey key;
    SeqRuns runs;
    for (int i = 0; i < PQntuples(res); ++i) {
      std::string device = pg::col_text(res, i, 0);
      const auto epoch = static_cast<std::uint32_t>(pg::col_int(res, i, 1));
      if (i > 0 && (device != key.device || epoch != key.epoch)) {
        index_.put_loaded(std::move(key), std::move(runs));
        runs = SeqRuns();
      }
      key = SeriesKey{std::move(device), epoch};
      runs.append_loaded(SeqRun{static_cast<std::uint64_t>(pg::col_int(res, i, 2)),
                                static_cast<std::uint64_t>(pg::col_int(res, i, 3)), pg::col_int(res, i, 4),
                                pg::col_int(res, i, 5)});
    }
    if (PQntuples(res) > 0) index_.put_loaded(std::move(key), std::move(runs));
    index_.set_complete(true);
  }

  StoreResult<SeqRuns> read_runs(std::string_view device, std::uint32_t epoch) {
    auto r = query("SELECT first_seq, last_seq, first_at, last_at FROM stored_ranges"
                   " WHERE device = $1 AND epoch = $2 ORDER BY first_seq",
                   {Param::text(std::string(device)), Param::integer(epoch)});
    if (!r) return unexpected(r.error());
    SeqRuns runs;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      runs.append_loaded(SeqRun{static_cast<std::uint64_t>(pg::col_int(r->get(), i, 0)),
                                static_cast<std::uint64_t>(pg::col_int(r->get(), i, 1)), pg::col_int(r->get(), i, 2),
                                pg::col_int(r->get(), i, 3)});
    }
    return runs;
  }

  // Replaces the runs of every series the batch added to (one COPY, one statement).
  StoreStatus write_runs(const StoredIndex::Plan& plan) {
    copy_.reset();
    bool any = false;
    for (const auto& [key, series] : plan.series) {
      if (!series.dirty) continue;
      for (const SeqRun& r : series.runs.runs()) {
        copy_.begin_row(6);
        copy_.text(key.device);
        copy_.int8(key.epoch);
        copy_.int8(static_cast<std::int64_t>(r.first));
        copy_.int8(static_cast<std::int64_t>(r.last));
        copy_.int8(r.first_at_ms);
        copy_.int8(r.last_at_ms);
        any = true;
      }
    }
    if (!any) return {};
    ARMORED_TRY(copy_in("COPY ranges_stage FROM STDIN (FORMAT binary)"));
    ARMORED_TRY(pg::exec(conn_.get(), pg::kReplaceRanges));
    return {};
  }

  // Replies are rare (one per command): a statement each, in key order so
  // two shared writers with the same replies never wait for each other in
  // a cycle.
  StoreStatus write_replies(std::span<const ReplyRow> replies, BatchResult& result) {
    std::vector<const ReplyRow*> sorted;
    sorted.reserve(replies.size());
    for (const auto& r : replies) sorted.push_back(&r);
    std::sort(sorted.begin(), sorted.end(), [](const ReplyRow* a, const ReplyRow* b) {
      return std::tie(a->device, a->epoch, a->seq) < std::tie(b->device, b->epoch, b->seq);
    });
    for (const ReplyRow* p : sorted) {
      const ReplyRow& r = *p;
      auto added = pg::exec_params(conn_.get(),
                                   "INSERT INTO command_replies(device, epoch, seq, command_id, outcome, received_at)"
                                   " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                                   {Param::text(r.device), Param::integer(r.epoch),
                                    Param::integer(static_cast<std::int64_t>(r.seq)), Param::integer(r.command_id),
                                    Param::text(to_string(r.outcome)), Param::integer(r.received_at_ms)});
      if (!added) return unexpected(added.error());
      if (std::string_view(PQcmdTuples(added->get())) == "0") continue;  // a copy of a stored reply
      ++result.replies;
      auto settled = pg::exec_params(conn_.get(),
                                     "UPDATE commands SET status = $3, reason = $4, updated_at = $5"
                                     " WHERE id = $1 AND device = $2 AND status IN ('pending', 'sent')",
                                     {Param::integer(r.command_id), Param::text(r.device),
                                      Param::text(to_string(r.outcome)), Param::text(r.reason),
                                      Param::integer(r.received_at_ms)});
      if (!settled) return unexpected(settled.error());
    }
    return {};
  }

  // Keeps the highest state per (device, epoch): PostgreSQL refuses to update
  // one row twice in a single INSERT .. ON CONFLICT DO UPDATE.
  StoreStatus write_replay(std::span<const ReplayState> states) {
    if (states.empty()) return {};
    std::map<std::pair<std::string_view, std::uint32_t>, const ReplayState*> latest;
    for (const auto& s : states) {
      auto& slot = latest[{s.device, s.epoch}];
      if (!slot || s.highest_seq >= slot->highest_seq) slot = &s;
    }
    copy_.reset();
    for (const auto& [key, s] : latest) {
      copy_.begin_row(5);
      copy_.text(s->device);
      copy_.int8(s->epoch);
      copy_.int8(static_cast<std::int64_t>(s->highest_seq));
      copy_.bytea(s->window);
      copy_.int8(0);
    }
    ARMORED_TRY(copy_in("COPY replay_stage FROM STDIN (FORMAT binary)"));
    ARMORED_TRY(pg::exec(conn_.get(), pg::kMergeReplay));
    return {};
  }

  pg::ConnPtr conn_;
  PostgresOptions options_;
  pg::CopyBinaryWriter copy_;
  StoredIndex index_;
  bool index_loaded_ = false;
};

}  // namespace

StoreResult<std::unique_ptr<Store>> open_postgres(const PostgresOptions& options) {
  pg::ConnPtr conn(PQconnectdb(options.conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return unexpected(conn ? pg::pg_error(conn.get(), "cannot connect to PostgreSQL")
                           : StoreError{StoreErrorCode::kUnavailable, "out of memory"});
  }
  auto store = std::make_unique<PostgresStore>(std::move(conn), options);
  if (auto st = store->setup(); !st) return unexpected(st.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace armored::store

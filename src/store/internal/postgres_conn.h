#pragma once
// libpq RAII and small utilities (internal to the PostgreSQL backend).

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "store/types.h"

namespace armored::store::pg {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

// A statement parameter: text, or binary bytes (bytea), or SQL NULL.
struct Param {
  std::string value;
  bool binary = false;
  bool null = false;
  static Param text(std::string v) { return {std::move(v), false, false}; }
  static Param integer(std::int64_t v) { return {std::to_string(v), false, false}; }
  static Param bytes(ByteSpan b) { return {std::string(b.begin(), b.end()), true, false}; }
  static Param none() { return {{}, false, true}; }
};

inline StoreError pg_error(PGconn* c, const std::string& what) {
  StoreErrorCode code = PQstatus(c) == CONNECTION_OK ? StoreErrorCode::kIo : StoreErrorCode::kUnavailable;
  std::string msg = PQerrorMessage(c);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return StoreError{code, what + ": " + msg};
}

// Runs sql with parameters; results come back in text format. Fails unless
// the status is `expect`.
inline StoreResult<ResultPtr> exec_params(PGconn* c, const char* sql, const std::vector<Param>& params,
                                          ExecStatusType expect = PGRES_COMMAND_OK) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& p : params) {
    values.push_back(p.null ? nullptr : p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  ResultPtr r(PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(),
                           lengths.data(), formats.data(), 0));
  if (!r || PQresultStatus(r.get()) != expect) return unexpected(pg_error(c, sql));
  return r;
}

inline StoreResult<ResultPtr> exec(PGconn* c, const char* sql, ExecStatusType expect = PGRES_COMMAND_OK) {
  ResultPtr r(PQexec(c, sql));
  if (!r || PQresultStatus(r.get()) != expect) return unexpected(pg_error(c, sql));
  return r;
}

// Text-format column accessors.
inline std::string col_text(PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}
inline std::int64_t col_int(PGresult* r, int row, int col) {
  return std::stoll(PQgetvalue(r, row, col));
}
// bytea in text format is "\x" followed by hex.
Bytes col_bytea(PGresult* r, int row, int col);

}  // namespace armored::store::pg

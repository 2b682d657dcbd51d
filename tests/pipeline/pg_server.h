#pragma once
// A private PostgreSQL server for the faults that restart or stop it (the
// shared test cluster must not be disturbed): initdb into a fresh directory
// owned by the postgres user, listening on a Unix socket there only (no
// TCP), trust authentication for that socket. Stopped (immediate) and
// removed at the end.

#include <filesystem>
#include <string>
#include <vector>

namespace armored::pipeline_test {

class PgServer {
 public:
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // False (with error()) if no PostgreSQL binaries or initdb failed.
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  // libpq connection string for the cloud.
  std::string conninfo() const;

  // pg_ctl restart -m fast|immediate; stop -m fast; start. True on success.
  bool restart(const std::string& mode);
  bool stop();
  bool start();

 private:
  bool ctl(const std::vector<std::string>& args);
  std::filesystem::path root_;  // data/, socket dir, log
  std::string bin_;            // .../bin
  bool ok_ = false;
  std::string error_;
};

}  // namespace armored::pipeline_test

#include "pg_server.h"

#include <glob.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "support/process.h"

namespace armored::pipeline_test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using armored::testing::run;

namespace {
// The newest installed server's bin directory, e.g. /usr/lib/postgresql/15/bin.
std::string find_bin() {
  glob_t g{};
  std::string out;
  if (::glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    out = fs::path(g.gl_pathv[g.gl_pathc - 1]).parent_path().string();
  }
  ::globfree(&g);
  return out;
}

// Runs a server tool as the postgres user (the server refuses to run as root).
std::vector<std::string> as_postgres(const std::string& tool, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back(tool);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}
}  // namespace

PgServer::PgServer() {
  bin_ = find_bin();
  if (bin_.empty()) {
    error_ = "no PostgreSQL server binaries under /usr/lib/postgresql (scripts/install-deps.sh installs them)";
    return;
  }
  // Outside the test's own temp dir: the postgres user must be able to reach it.
  char tmpl[] = "/tmp/armored-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  root_ = tmpl;
  if (::geteuid() == 0) (void)run({"chown", "postgres:postgres", root_.string()}, 10s);
  auto r = run(as_postgres(bin_ + "/initdb", {"-D", (root_ / "data").string(), "-U", "postgres", "--auth=trust",
                                              "--no-sync", "-E", "UTF8"}),
               120s);
  if (r.exit_code != 0) {
    error_ = "initdb: " + r.out + r.err;
    return;
  }
  ok_ = start();
  if (!ok_) error_ = "the private PostgreSQL did not start; see " + (root_ / "log").string();
}

PgServer::~PgServer() {
  if (!root_.empty()) {
    (void)ctl({"stop", "-m", "immediate"});
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

std::string PgServer::conninfo() const {
  return "host=" + root_.string() + " port=5432 dbname=postgres user=postgres connect_timeout=5";
}

bool PgServer::ctl(const std::vector<std::string>& args) {
  std::vector<std::string> a = args;
  a.insert(a.end(), {"-D", (root_ / "data").string(), "-w", "-t", "60"});
  return run(as_postgres(bin_ + "/pg_ctl", a), 90s).exit_code == 0;
}

bool PgServer::start() {
  return ctl({"start", "-l", (root_ / "log").string(), "-o",
              "-k " + root_.string() + " -c listen_addresses= -c port=5432 -c fsync=on -c synchronous_commit=on"});
}

bool PgServer::restart(const std::string& mode) {
  return ctl({"restart", "-m", mode, "-l", (root_ / "log").string(), "-o",
              "-k " + root_.string() + " -c listen_addresses= -c port=5432 -c fsync=on -c synchronous_commit=on"});
}

bool PgServer::stop() { return ctl({"stop", "-m", "fast"}); }

}  // namespace armored::pipeline_test

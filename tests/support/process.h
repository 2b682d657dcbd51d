#pragma once
// Test support: run real peers (openssl s_server, mosquitto, our own
// `armored` binary) as child processes without a shell, and give each test a
// private temporary directory. Servers listen on 127.0.0.1 only.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace armored::testing {

// A child process started with posix_spawnp (no shell). stdout and stderr go
// to files so tests can read them after or while it runs. The destructor
// kills the process (SIGKILL) if it is still running.
class Subprocess {
 public:
  struct Options {
    std::filesystem::path stdout_path;  // empty: /dev/null
    std::filesystem::path stderr_path;  // empty: /dev/null
    std::filesystem::path stdin_path;   // empty: /dev/null
    std::filesystem::path cwd;          // empty: inherit
    std::vector<std::string> extra_env;  // "NAME=value" appended to the environment
  };

  Subprocess(std::vector<std::string> argv, Options options);
  Subprocess(std::vector<std::string> argv);  // NOLINT: outputs discarded
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `timeout`; returns the exit status (or 128+signal), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code = -1;  // 128+signal if killed; -1 on timeout
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), capturing stdout and stderr.
// `input` is written to a file and given as stdin.
RunResult run(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const std::string& input = "");

// A fresh directory under $TMPDIR removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). For peers that cannot report the port they bound themselves.
int free_tcp_port();
int free_udp_port();

// Polls until something accepts TCP connections on 127.0.0.1:port, or timeout.
bool wait_for_tcp_port(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Reads a file if it exists ("" otherwise).
std::string slurp(const std::filesystem::path& p);

// Path to the built `armored` program (ARMORED_BINARY_DIR/armored).
std::filesystem::path armored_binary();
// Path inside the source tree (ARMORED_SOURCE_DIR/rel).
std::filesystem::path source_path(const std::string& rel);

// True if an executable named `name` is on PATH.
bool have_program(const std::string& name);

}  // namespace armored::testing

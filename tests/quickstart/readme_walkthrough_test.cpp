// README.md's walkthrough, run exactly as written: every fenced block whose
// info string is `sh walkthrough` is run by bash, in order, in a fresh
// directory with the built `armored` first on PATH (a `cd` carries over to
// the next block, as in one terminal); each `sh walkthrough background`
// block is one long-running command started as its own process, as in a
// terminal of its own, and waited for until it is ready. At the end the
// readings must be in the database and the command answered. The README
// and the program cannot drift apart without this test failing.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/process.h"

namespace armored::quickstart {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using armored::testing::armored_binary;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::source_path;
using armored::testing::Subprocess;
using armored::testing::TempDir;

struct Block {
  bool background = false;
  std::string text;
  int line = 0;  // of the opening fence, for messages
};

std::vector<Block> walkthrough_blocks(const fs::path& readme) {
  std::ifstream in(readme);
  std::vector<Block> blocks;
  std::string line;
  int n = 0;
  Block* open = nullptr;
  bool in_other_block = false;
  while (std::getline(in, line)) {
    ++n;
    if (open != nullptr) {
      if (line == "```") open = nullptr;
      else open->text += line + "\n";
      continue;
    }
    if (line.rfind("```", 0) != 0) continue;
    if (in_other_block) {
      in_other_block = false;
      continue;
    }
    if (line == "```sh walkthrough" || line == "```sh walkthrough background") {
      blocks.push_back({line.ends_with("background"), "", n});
      open = &blocks.back();
    } else {
      in_other_block = true;
    }
  }
  return blocks;
}

// The one command of a background block (comments and blank lines aside).
std::string single_command(const Block& b) {
  std::istringstream lines(b.text);
  std::string line, command;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(command.empty()) << "README.md:" << b.line << ": a background block holds one command";
    command = line;
  }
  return command;
}

bool wait_for(const std::function<bool()>& ready, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return ready();
}

std::int64_t count_rows(const fs::path& db, const std::string& query) {
  if (!fs::exists(db)) return 0;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return 0;
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> conn(raw, sqlite3_close);
  sqlite3_busy_timeout(raw, 2000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(raw, query.c_str(), -1, &st, nullptr) != SQLITE_OK) return 0;
  std::int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return n;
}

TEST(ReadmeWalkthrough, RunsAsWrittenAndTheReadingsAndTheCommandArrive) {
  const auto blocks = walkthrough_blocks(source_path("README.md"));
  ASSERT_GE(blocks.size(), 5u) << "README.md lost its ```sh walkthrough blocks";

  TempDir t;
  const fs::path home = t / "home";
  fs::create_directories(home);
  // The built program first on PATH, as the README tells a reader to do.
  const std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  ::setenv("PATH", (armored_binary().parent_path().string() + ":" + saved_path).c_str(), 1);

  fs::path cwd = home;
  std::string said;  // everything the foreground blocks printed
  std::vector<std::unique_ptr<Subprocess>> running;
  int index = 0;
  for (const Block& b : blocks) {
    ++index;
    const std::string where = "README.md:" + std::to_string(b.line);
    if (b.background) {
      const std::string command = single_command(b);
      ASSERT_EQ(command.rfind("armored ", 0), 0u) << where << ": " << command;
      Subprocess::Options o;
      o.cwd = cwd;
      o.stdout_path = t / ("block" + std::to_string(index) + ".out");
      o.stderr_path = t / ("block" + std::to_string(index) + ".err");
      running.push_back(std::make_unique<Subprocess>(std::vector<std::string>{"bash", "-c", "exec " + command}, o));
      const std::string program = command.substr(8, command.find(' ', 8) - 8);
      auto out = [&] { return slurp(o.stdout_path); };
      bool ready = false;
      if (program == "cloud") {
        ready = wait_for([&] { return out().find("armored cloud listening on") != std::string::npos; }, 60s);
      } else if (program == "gateway") {
        ready = wait_for([&] { return out().find("listening on udp") != std::string::npos; }, 60s);
      } else if (program == "fleet") {
        // Ready when the cloud has stored a reading of the device the README
        // then sends a command to: the reading is how the cloud learns its route.
        ready = wait_for([&] {
          return count_rows(cwd / "armored.db", "SELECT count(*) FROM readings WHERE device = 'wearable-0001'") > 0;
        }, 60s);
      } else {
        FAIL() << where << ": the test does not know when '" << program << "' is ready";
      }
      ASSERT_TRUE(ready) << where << ": " << command << " not ready\n"
                         << slurp(o.stdout_path) << slurp(o.stderr_path);
      ASSERT_TRUE(running.back()->running()) << where << ": " << command << " exited\n" << slurp(o.stderr_path);
      continue;
    }
    const fs::path script = t / ("block" + std::to_string(index) + ".sh");
    const fs::path cwd_file = t / ("block" + std::to_string(index) + ".cwd");
    std::ofstream(script) << "set -euo pipefail\ncd '" << cwd.string() << "'\n"
                          << b.text << "pwd > '" << cwd_file.string() << "'\n";
    auto r = run({"bash", script.string()}, 60s);
    ASSERT_EQ(r.exit_code, 0) << where << ":\n" << b.text << "stdout:\n" << r.out << "stderr:\n" << r.err;
    said += r.out;
    std::string next = slurp(cwd_file);
    while (!next.empty() && next.back() == '\n') next.pop_back();
    cwd = next;
  }

  EXPECT_NE(said.find("set_interval to wearable-0001: acknowledged"), std::string::npos) << said;
  EXPECT_NE(said.find("type: reading"), std::string::npos) << "e3 inspect of envelope.hex:\n" << said;
  EXPECT_GT(count_rows(cwd / "armored.db", "SELECT count(*) FROM readings"), 0);
  EXPECT_EQ(count_rows(cwd / "armored.db", "SELECT count(*) FROM commands WHERE status = 'acknowledged'"), 1);

  // As a reader would with Ctrl-C: the fleet, then the gateway, then the cloud.
  for (auto it = running.rbegin(); it != running.rend(); ++it) (*it)->stop(10s);
  ::setenv("PATH", saved_path.c_str(), 1);
}

}  // namespace
}  // namespace armored::quickstart

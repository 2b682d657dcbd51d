// Every --help page of the program ends with an example command line
// (src/cli/examples.cpp). Walks the command tree from `armored --help`, so a
// new command without an example fails here.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"

namespace armored::cli {
namespace {

using armored::testing::armored_binary;
using armored::testing::run;

// The names listed under "Subcommands:" in a help page.
std::vector<std::string> subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.empty() || line[0] != ' ') break;
    // "  name   description"; a wrapped description continues further right.
    if (line.size() < 3 || line[1] != ' ' || line[2] == ' ') continue;
    std::istringstream words(line);
    std::string name;
    if (words >> name) out.push_back(name);
  }
  return out;
}

TEST(HelpExamples, EveryCommandShowsAnExample) {
  std::vector<std::vector<std::string>> todo{{}};
  int pages = 0;
  while (!todo.empty()) {
    auto path = todo.back();
    todo.pop_back();
    std::vector<std::string> argv{armored_binary().string()};
    argv.insert(argv.end(), path.begin(), path.end());
    argv.push_back("--help");
    auto r = run(argv);
    std::string name = "armored";
    for (const auto& w : path) name += " " + w;
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_NE(r.out.find("\nExample"), std::string::npos) << name << " --help shows no example:\n" << r.out;
    EXPECT_NE(r.out.find("  armored "), std::string::npos) << name;
    ++pages;
    ASSERT_LE(path.size(), 3u) << name << ": the walk went deeper than any command";
    for (const auto& s : subcommands(r.out)) {
      auto next = path;
      next.push_back(s);
      todo.push_back(next);
    }
  }
  EXPECT_GE(pages, 25) << "the walk found too few commands";
}

}  // namespace
}  // namespace armored::cli

// The command a person runs reproduces the reference chapter's wearable
// figures, and bad input gets exit 2 with one line naming it.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "support/process.h"

namespace armored::testing {
namespace {

double number_before(const std::string& text, const std::string& unit_regex) {
  std::smatch m;
  std::regex re("([0-9][0-9,]*\\.?[0-9]*) " + unit_regex);
  if (!std::regex_search(text, m, re)) return -1;
  std::string n = m[1];
  n.erase(std::remove(n.begin(), n.end(), ','), n.end());
  return std::stod(n);
}

TEST(EnergyCli, WearableGoldenFiguresFromTheChapter) {
  auto r = run({armored_binary().string(), "energy", "--profile", "nrf52840-ble", "--interval", "30s",
                "--packet-bytes", "96", "--battery-mAh", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(number_before(r.out, "uJ per reading"), 34.1, 0.341) << r.out;
  EXPECT_NEAR(number_before(r.out, "mJ per day"), 98.2, 0.982) << r.out;
  EXPECT_NEAR(number_before(r.out, "days \\(transmission"), 27130, 271.3) << r.out;
  EXPECT_NE(r.out.find("encryption 3%"), std::string::npos) << r.out;
}

TEST(EnergyCli, JsonCarriesEveryStrategyAndMeasuredWire) {
  auto r = run({armored_binary().string(), "--json", "energy", "--profile", "esp32-wifi"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["strategies"].size(), 4u);
  // Measured in process: a resumed handshake sends far fewer bytes than a full one.
  double full = j["wire"]["full"]["bytes_up"].get<double>() + j["wire"]["full"]["bytes_down"].get<double>();
  double resumed =
      j["wire"]["resumed"]["bytes_up"].get<double>() + j["wire"]["resumed"]["bytes_down"].get<double>();
  EXPECT_GT(full, 1000);
  EXPECT_LT(resumed, full * 0.5);
  // E3 envelope for the 52-byte reading is at most 76 bytes.
  EXPECT_LE(j["bytes_on_air"].get<int>() - 128, 76);
}

TEST(EnergyCli, PlotIsWritten) {
  TempDir d;
  auto r = run({armored_binary().string(), "energy", "--profile", "nrf52840-ble", "--plot",
                (d / "p.svg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(slurp(d / "p.svg").find("</svg>"), std::string::npos);
}

TEST(EnergyCli, BadInputIsExit2WithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"--profile", "no-such"},
      {"--profile", "esp32-wifi", "--interval", "fast"},
      {"--profile", "esp32-wifi", "--interval", "0s"},
      {"--profile", "esp32-wifi", "--interval", "5y"},
      {"--profile", "esp32-wifi", "--aead", "rot13"},
      {"--profile", "esp32-wifi", "--packet-bytes", "0"},
      {"--profile", "esp32-wifi", "--battery-mAh", "-5"},
      {"--interval", "30s"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {armored_binary().string(), "energy"};
    argv.insert(argv.end(), c.begin(), c.end());
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << c[c.size() - 1] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

}  // namespace
}  // namespace armored::testing

#include <gtest/gtest.h>

#include "energy/model.h"
#include "energy/svg_plot.h"

namespace armored::energy {
namespace {

TEST(EnergyPlot, DrawsEveryStrategyAsWellFormedSvg) {
  auto p = load_profile("esp32-wifi");
  ASSERT_TRUE(p);
  WireFacts w;
  w.envelope_bytes = {76, 76, 76, 68};
  w.full = {1200, 1500, 1};
  w.resumed = {400, 300, 1};
  w.zero_rtt = {500, 300, 0};
  Scenario s;
  std::string svg = render_svg(evaluate(*p, s, w));
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  for (auto title : {"connection kept open", "full handshake per reading",
                     "resumed handshake per reading", "0-RTT per reading"}) {
    EXPECT_NE(svg.find(title), std::string::npos) << title;
  }
  // Balanced tags: every <text> is closed.
  std::size_t open = 0, close = 0;
  for (auto pos = svg.find("<text"); pos != std::string::npos; pos = svg.find("<text", pos + 1)) ++open;
  for (auto pos = svg.find("</text>"); pos != std::string::npos; pos = svg.find("</text>", pos + 1)) ++close;
  EXPECT_EQ(open, close);
  EXPECT_GT(open, 10u);
}

}  // namespace
}  // namespace armored::energy

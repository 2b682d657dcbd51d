#include "energy/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "energy/report.h"

namespace armored::energy {

namespace {

constexpr double kWidth = 920;
constexpr double kLeft = 240;   // room for strategy names
constexpr double kRight = 60;
constexpr double kBarH = 26;
constexpr double kGap = 12;

std::string escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string text(double x, double y, std::string_view s, std::string_view anchor = "start",
                 int size = 13, std::string_view weight = "normal") {
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" font-family=\"sans-serif\" font-size=\"{}\" "
      "font-weight=\"{}\" text-anchor=\"{}\">{}</text>\n",
      x, y, size, weight, anchor, escape(s));
}

std::string rect(double x, double y, double w, double h, std::string_view fill) {
  return fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n",
                     x, y, std::max(w, 0.0), h, fill);
}

}  // namespace

std::string render_svg(const Report& r) {
  const double plot_w = kWidth - kLeft - kRight;
  const std::size_t n = r.strategies.size();
  const double panel1_top = 80;
  const double panel1_h = static_cast<double>(n) * (kBarH + kGap) + 40;
  const double panel2_top = panel1_top + panel1_h + 60;
  const double panel2_h = static_cast<double>(n) * (kBarH + kGap) + 70;
  const double height = panel2_top + panel2_h;

  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\">\n",
      kWidth, height, kWidth, height);
  o += rect(0, 0, kWidth, height, "#ffffff");
  o += text(kWidth / 2, 26,
            fmt::format("{}: one reading every {} s, {} mAh battery", r.profile.name,
                        group_thousands(r.scenario.interval_s), group_thousands(r.scenario.battery_mah)),
            "middle", 16, "bold");
  o += text(kWidth / 2, 46,
            fmt::format("{} bytes on air per reading, {}", r.reading_bytes_on_air,
                        aead_name(r.scenario.aead)),
            "middle", 12);

  // Panel 1: battery life, log10 scale from 0.1 day up to the next decade.
  double max_days = 1;
  for (const auto& x : r.strategies) max_days = std::max(max_days, x.battery_days);
  const double lo = -1;
  const double hi = std::ceil(std::log10(max_days) + 0.05);
  auto xpos = [&](double days) {
    double l = std::log10(std::max(days, 0.1));
    return kLeft + plot_w * (l - lo) / (hi - lo);
  };
  o += text(kLeft, panel1_top - 8, "Battery life in days (log scale, idle current included)", "start", 13, "bold");
  for (double d = lo; d <= hi; d += 1) {
    double x = kLeft + plot_w * (d - lo) / (hi - lo);
    o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#dddddd\"/>\n",
                     x, panel1_top, x, panel1_top + panel1_h - 30);
    o += text(x, panel1_top + panel1_h - 14, group_thousands(std::pow(10.0, d), d < 0 ? 1 : 0), "middle", 11);
  }
  double y = panel1_top + 6;
  for (const auto& x : r.strategies) {
    o += text(kLeft - 10, y + kBarH * 0.68, strategy_title(x.strategy), "end");
    o += rect(kLeft, y, xpos(x.battery_days) - kLeft, kBarH, "#3b7dd8");
    o += text(xpos(x.battery_days) + 6, y + kBarH * 0.68, group_thousands(x.battery_days, 1) + " d", "start", 12);
    y += kBarH + kGap;
  }

  // Panel 2: share of each day's energy, stacked to 100 %.
  struct Part {
    const char* name;
    const char* color;
    double StrategyResult::*per_reading;
  };
  static constexpr Part kParts[] = {
      {"radio (reading)", "#3b7dd8", &StrategyResult::radio_uj},
      {"handshake network", "#e8a33d", &StrategyResult::handshake_network_uj},
      {"handshake crypto", "#d9534f", &StrategyResult::handshake_crypto_uj},
      {"AEAD + record", "#5cb85c", &StrategyResult::aead_uj},
  };
  o += text(kLeft, panel2_top - 8, "Where each day's energy goes (share; total per day at the right)", "start", 13, "bold");
  y = panel2_top + 6;
  for (const auto& x : r.strategies) {
    o += text(kLeft - 10, y + kBarH * 0.68, strategy_title(x.strategy), "end");
    double total = x.per_day_mj;
    double cursor = kLeft;
    for (const auto& part : kParts) {
      double mj = x.*(part.per_reading) * r.readings_per_day / 1000.0;
      double w = total > 0 ? plot_w * 0.86 * mj / total : 0;
      o += rect(cursor, y, w, kBarH, part.color);
      cursor += w;
    }
    double idle_w = total > 0 ? plot_w * 0.86 * x.idle_per_day_mj / total : 0;
    o += rect(cursor, y, idle_w, kBarH, "#9e9e9e");
    cursor += idle_w;
    o += text(cursor + 6, y + kBarH * 0.68, fmt::format("{} mJ", group_thousands(total, 1)), "start", 12);
    y += kBarH + kGap;
  }
  // Legend.
  double lx = 20;
  double ly = y + 14;
  for (const auto& part : kParts) {
    o += rect(lx, ly - 10, 12, 12, part.color);
    o += text(lx + 16, ly, part.name, "start", 12);
    lx += 40 + 7.2 * static_cast<double>(std::string_view(part.name).size());
  }
  o += rect(lx, ly - 10, 12, 12, "#9e9e9e");
  o += text(lx + 16, ly, "idle between readings", "start", 12);
  o += "</svg>\n";
  return o;
}

}  // namespace armored::energy

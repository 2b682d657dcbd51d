#pragma once
// Draws a Report as an SVG picture: battery life per strategy (log scale)
// and the split of each strategy's daily energy.

#include <string>

#include "energy/model.h"

namespace armored::energy {

std::string render_svg(const Report& r);

}  // namespace armored::energy

#pragma once
// Renders an energy Report for people (plain text tables) and machines (JSON).

#include <nlohmann/json.hpp>
#include <string>

#include "energy/model.h"

namespace armored::energy {

// The plain-language report: per-reading split, one row per strategy, and
// what Armored's smaller envelope and resumption save.
std::string render_text(const Report& r, const std::vector<Report>& per_aead,
                        const std::optional<Report>& chapter_packet);

nlohmann::json render_json(const Report& r, const std::vector<Report>& per_aead,
                           const std::optional<Report>& chapter_packet);

// "27,130" style grouping for whole numbers; fixed decimals otherwise.
std::string group_thousands(double v, int decimals = 0);

}  // namespace armored::energy

#pragma once
// Renders an energy Report for people (plain text tables) and machines (JSON).

#include <nlohmann/json.hpp>
#include <string>

#include "energy/crypto_costs.h"
#include "energy/model.h"

namespace armored::energy {

// The plain-language report: per-reading split, one row per strategy, and
// what Armored's smaller envelope and resumption save.
std::string render_text(const Report& r, const std::vector<Report>& per_aead,
                        const std::optional<Report>& chapter_packet);

nlohmann::json render_json(const Report& r, const std::vector<Report>& per_aead,
                           const std::optional<Report>& chapter_packet);

// The E3 device operations (seal, announcement, command open) by the
// profile's datasheet figures next to the measured instruction counts.
std::string render_device_crypto_text(const DeviceCryptoComparison& c, const Report& r);
nlohmann::json render_device_crypto_json(const DeviceCryptoComparison& c);

// "27,130" style grouping for whole numbers; fixed decimals otherwise.
std::string group_thousands(double v, int decimals = 0);

}  // namespace armored::energy

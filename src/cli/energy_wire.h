#pragma once
// Wire facts for the energy model, measured from Armored itself: the E3
// envelope size per AEAD from the E3 sealer, and the bytes and round trips
// of full, resumed and 0-RTT TLS 1.3 handshakes from the TLS layer.

#include <optional>
#include <string>

#include "common/result.h"
#include "energy/model.h"

namespace armored::cli {

// Seals a reading of `reading_bytes` with each AEAD and runs the three kinds
// of handshake in process (or against `endpoint` HOST:PORT when given).
Expected<energy::WireFacts> measure_wire_facts(unsigned reading_bytes,
                                               const std::optional<std::string>& endpoint);

}  // namespace armored::cli

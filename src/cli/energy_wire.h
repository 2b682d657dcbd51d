#pragma once
// Wire facts for the energy model, measured from Armored itself: the E3
// envelope size per AEAD from the E3 sealer, and the bytes and round trips
// of full, resumed and 0-RTT TLS 1.3 handshakes from the TLS layer.

#include <optional>
#include <string>

#include "common/result.h"
#include "energy/model.h"

namespace armored::cli {

// Sizes a sealed reading of `reading_bytes` for each AEAD and runs a full, a
// resumed and a 0-RTT handshake in process between our TLS client and server.
Expected<energy::WireFacts> measure_wire_facts(unsigned reading_bytes);

}  // namespace armored::cli

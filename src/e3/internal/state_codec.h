#pragma once
// Internal to src/e3: CBOR encodings of the pieces of persisted state
// (docs/e3-protocol.md section 8).

#include <optional>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "e3/epoch.h"
#include "e3/replay_window.h"

namespace armored::e3::codec {

inline constexpr std::uint64_t kStateVersion = 1;

// [epoch, alg, master_secret, master_salt]
void write_secrets(cbor::Writer& w, const EpochSecrets& s);
std::optional<EpochSecrets> read_secrets(const cbor::Item& item);

// [highest / null, bitmap bstr (128 bytes, word 0 first, big-endian words)]
void write_window(cbor::Writer& w, const ReplayWindow& win);
bool read_window(const cbor::Item& item, ReplayWindow& win_);

inline cbor::Limits state_limits() { return {.max_depth = 8, .max_items = 1u << 22, .max_string = 1u << 20}; }

}  // namespace armored::e3::codec

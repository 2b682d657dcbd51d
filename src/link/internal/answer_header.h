#pragma once
// How long an echoed header is (docs/e3-protocol.md section 9.1): only
// uplink and announcement headers are ever answered, and their flags byte
// fixes their size. Shared by the answer parser and AnswerPacker.

#include <cstddef>
#include <cstdint>

namespace armored::link::internal {

// Size of the uplink or announcement header that starts with `flags`, or 0
// if those flags cannot start one (downlink, reserved type, bad PIV length).
std::size_t answer_header_size(std::uint8_t flags);

}  // namespace armored::link::internal

#pragma once
// Helpers shared by the MQTT tests: hex literals and one-shot decoding.

#include <gtest/gtest.h>

#include <string>

#include "common/hex.h"
#include "mqtt/mqtt.h"

namespace armored::mqtt::test {

// Hex with optional spaces, e.g. "30 05 00 03 61 2f 62".
inline Bytes hex(std::string s) {
  std::erase(s, ' ');
  auto b = from_hex(s);
  EXPECT_TRUE(b.has_value()) << s;
  return b.value_or(Bytes{});
}

inline Bytes encode_bytes(const Packet& p) {
  Bytes out;
  auto ok = append_packet(p, out);
  EXPECT_TRUE(ok.has_value()) << (ok ? "" : to_string(ok.error().code));
  return out;
}

// Decodes exactly one packet occupying all of `wire`.
inline MqttResult<Packet> decode_one(ByteSpan wire, const Limits& limits = {}) {
  auto frame = decode_frame(wire, limits);
  if (!frame) return unexpected(frame.error());
  if (!frame->has_value()) return mqtt_error(ErrorCode::kTruncated, "incomplete packet (test)");
  EXPECT_EQ((*frame)->consumed, wire.size());
  return std::move((*frame)->packet);
}

// The error code decoding `wire` yields (kCount if it decoded).
inline ErrorCode decode_error(const Bytes& wire, const Limits& limits = {}) {
  auto r = decode_one(wire, limits);
  return r ? ErrorCode::kCount : r.error().code;
}

inline std::chrono::nanoseconds secs(double s) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9));
}

}  // namespace armored::mqtt::test

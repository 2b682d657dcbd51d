#pragma once
// Limits every decoder enforces before it buffers or trusts a length. Defaults
// suit Armored's telemetry (batches of a few KiB); docs/mqtt.md explains each.

#include <cstddef>
#include <cstdint>

namespace armored::mqtt {

// The protocol maximum of a 4-byte Remaining Length (MQTT 3.1.1 section 2.2.3).
inline constexpr std::uint32_t kProtocolMaxRemainingLength = 268'435'455;

struct Limits {
  // Whole packet: fixed header + remaining length. Checked as soon as the
  // fixed header is complete, before the body is buffered.
  std::size_t max_packet_size = 256 * 1024;
  // Remaining Length field value.
  std::uint32_t max_remaining_length = kProtocolMaxRemainingLength;
  // Topic names and filters, in bytes (the protocol allows 65,535).
  std::size_t max_topic_length = 256;
  // Client identifier in bytes (servers must accept at least 23).
  std::size_t max_client_id_length = 128;
  // PUBLISH payload and CONNECT will message.
  std::size_t max_payload_size = 128 * 1024;
  // CONNECT user name and password.
  std::size_t max_credential_length = 1024;
  // Topic filters in one SUBSCRIBE or UNSUBSCRIBE.
  std::size_t max_topics_per_packet = 32;
};

}  // namespace armored::mqtt

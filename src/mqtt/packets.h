#pragma once
// MQTT 3.1.1 control packets as plain structs. Strings and payloads are views:
// after decoding they point into the decoder's input buffer (no copies on the
// PUBLISH hot path); for encoding they point at the caller's data. A view is
// valid only as long as the buffer it points into.

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.h"

namespace armored::mqtt {

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnAck = 2,
  kPublish = 3,
  kPubAck = 4,
  kPubRec = 5,
  kPubRel = 6,
  kPubComp = 7,
  kSubscribe = 8,
  kSubAck = 9,
  kUnsubscribe = 10,
  kUnsubAck = 11,
  kPingReq = 12,
  kPingResp = 13,
  kDisconnect = 14,
};

enum class QoS : std::uint8_t { kAtMostOnce = 0, kAtLeastOnce = 1, kExactlyOnce = 2 };

// CONNACK return codes (MQTT 3.1.1 table 3.1).
enum class ConnectReturnCode : std::uint8_t {
  kAccepted = 0,
  kUnacceptableProtocolVersion = 1,
  kIdentifierRejected = 2,
  kServerUnavailable = 3,
  kBadUserNameOrPassword = 4,
  kNotAuthorized = 5,
};

// SUBACK return codes: granted QoS or failure [MQTT-3.9.3-2].
enum class SubAckCode : std::uint8_t {
  kGrantedQos0 = 0x00,
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kFailure = 0x80,
};

inline constexpr std::string_view kProtocolName = "MQTT";
inline constexpr std::uint8_t kProtocolLevel = 4;

struct Will {
  std::string_view topic;
  ByteSpan message;
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
};

struct Connect {
  std::string_view client_id;
  bool clean_session = true;
  std::uint16_t keep_alive_s = 60;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<ByteSpan> password;
};

struct ConnAck {
  bool session_present = false;
  ConnectReturnCode code = ConnectReturnCode::kAccepted;
};

struct Publish {
  std::string_view topic;
  ByteSpan payload;
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // 0 exactly when qos == 0 [MQTT-2.3.1-5]
};

struct PubAck {
  std::uint16_t packet_id = 0;
};

struct TopicRequest {
  std::string_view filter;
  QoS qos = QoS::kAtMostOnce;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<TopicRequest> topics;
};

struct SubAck {
  std::uint16_t packet_id = 0;
  std::vector<SubAckCode> codes;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string_view> filters;
};

struct UnsubAck {
  std::uint16_t packet_id = 0;
};

struct PingReq {};
struct PingResp {};
struct Disconnect {};

using Packet = std::variant<Connect, ConnAck, Publish, PubAck, Subscribe, SubAck, Unsubscribe,
                            UnsubAck, PingReq, PingResp, Disconnect>;

// The control packet type of a decoded packet.
PacketType packet_type(const Packet& p);
std::string_view to_string(PacketType t);

}  // namespace armored::mqtt

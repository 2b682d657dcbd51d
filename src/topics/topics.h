#pragma once
// The MQTT topic scheme, the one place that builds and parses it. Each
// gateway has three topics under armored/v1/<id>/, where <id> is the id its
// certificate names (urn:armored:gateway:<id>); a device that talks MQTT
// directly is a gateway of itself, with its device id:
//
//   armored/v1/<id>/up        sealed readings, gateway -> cloud (or broker)
//   armored/v1/<id>/down      E3 commands, cloud -> gateway (docs/commands.md)
//   armored/v1/<id>/receipts  the cloud's signed receipts through a broker
//                             (docs/broker.md, "Receipts")
//
// Who may use which topic is the cloud's rule (cloud/topics.h).

#include <optional>
#include <string>
#include <string_view>

namespace armored::topics {

inline constexpr std::string_view kPrefix = "armored/v1/";
// Every gateway's uplink: the filter the cloud subscribes to on a broker.
inline constexpr std::string_view kEveryUplink = "armored/v1/+/up";

std::string uplink_topic(std::string_view id);    // armored/v1/<id>/up
std::string downlink_topic(std::string_view id);  // armored/v1/<id>/down
std::string receipts_topic(std::string_view id);  // armored/v1/<id>/receipts

// The <id> of "armored/v1/<id>/up", or nullopt for any other topic
// (another level, an empty <id>, a wildcard filter).
std::optional<std::string_view> uplink_owner(std::string_view topic);

// One gateway's topics, built once when it starts instead of per message.
struct GatewayTopics {
  std::string up, down, receipts;
};
GatewayTopics gateway_topics(std::string_view id);

}  // namespace armored::topics

#pragma once
// The MQTT topic scheme and the access rule that comes from a peer's
// verified certificate: a gateway publishes only to armored/v1/<its-id>/up
// and subscribes only to armored/v1/<its-id>/down. A device that talks MQTT
// directly is a gateway of itself (its certificate id is the <id>).

#include <optional>
#include <string>
#include <string_view>

namespace armored::cloud {

inline constexpr std::string_view kTopicPrefix = "armored/v1/";

std::string uplink_topic(std::string_view gateway_id);    // armored/v1/<id>/up
std::string downlink_topic(std::string_view gateway_id);  // armored/v1/<id>/down

// The <id> of "armored/v1/<id>/up", or nullopt for any other topic.
std::optional<std::string_view> uplink_owner(std::string_view topic);

// Access rules for the peer whose certificate names `identity`.
bool may_publish(std::string_view identity, std::string_view topic);
bool may_subscribe(std::string_view identity, std::string_view topic_filter);

}  // namespace armored::cloud

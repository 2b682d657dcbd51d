#pragma once
// The access rule that comes from a peer's verified certificate: a gateway
// publishes only to armored/v1/<its-id>/up and subscribes only to
// armored/v1/<its-id>/down. A device that talks MQTT directly is a gateway
// of itself (its certificate id is the <id>). The topics themselves are
// built and parsed by topics/topics.h.

#include <string_view>

namespace armored::cloud {

// Access rules for the peer whose certificate names `identity`.
bool may_publish(std::string_view identity, std::string_view topic);
bool may_subscribe(std::string_view identity, std::string_view topic_filter);

}  // namespace armored::cloud

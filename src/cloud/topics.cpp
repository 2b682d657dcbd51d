#include "cloud/internal/topics.h"

#include "topics/topics.h"

namespace armored::cloud {

bool may_publish(std::string_view identity, std::string_view topic) {
  // Exact match only: no wildcards, no other levels, no other gateway's topic.
  return !identity.empty() && topic == topics::uplink_topic(identity);
}

bool may_subscribe(std::string_view identity, std::string_view filter) {
  return !identity.empty() && filter == topics::downlink_topic(identity);
}

}  // namespace armored::cloud

#include "cloud/topics.h"

namespace armored::cloud {

std::string uplink_topic(std::string_view id) {
  return std::string(kTopicPrefix) + std::string(id) + "/up";
}
std::string downlink_topic(std::string_view id) {
  return std::string(kTopicPrefix) + std::string(id) + "/down";
}

std::optional<std::string_view> uplink_owner(std::string_view topic) {
  if (!topic.starts_with(kTopicPrefix) || !topic.ends_with("/up")) return std::nullopt;
  std::string_view id = topic.substr(kTopicPrefix.size(), topic.size() - kTopicPrefix.size() - 3);
  if (id.empty() || id.find('/') != std::string_view::npos) return std::nullopt;
  return id;
}

bool may_publish(std::string_view identity, std::string_view topic) {
  // Exact match only: no wildcards, no other levels, no other gateway's topic.
  return !identity.empty() && topic == uplink_topic(identity);
}

bool may_subscribe(std::string_view identity, std::string_view filter) {
  return !identity.empty() && filter == downlink_topic(identity);
}

}  // namespace armored::cloud

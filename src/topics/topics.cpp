#include "topics/topics.h"

namespace armored::topics {
namespace {

constexpr std::string_view kUp = "/up";
static_assert(kEveryUplink.starts_with(kPrefix) && kEveryUplink.ends_with(kUp));

std::string topic(std::string_view id, std::string_view leaf) {
  std::string t;
  t.reserve(kPrefix.size() + id.size() + leaf.size());
  t.append(kPrefix).append(id).append(leaf);
  return t;
}

}  // namespace

std::string uplink_topic(std::string_view id) { return topic(id, kUp); }
std::string downlink_topic(std::string_view id) { return topic(id, "/down"); }
std::string receipts_topic(std::string_view id) { return topic(id, "/receipts"); }

std::optional<std::string_view> uplink_owner(std::string_view topic) {
  // The size check first: "armored/v1/up" starts with the prefix and ends
  // with "/up" through the prefix's own slash, and has no <id>.
  if (topic.size() <= kPrefix.size() + kUp.size()) return std::nullopt;
  if (!topic.starts_with(kPrefix) || !topic.ends_with(kUp)) return std::nullopt;
  std::string_view id = topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - kUp.size());
  // One level, and not a wildcard: a filter names no owner.
  if (id.empty() || id.find_first_of("/+#") != std::string_view::npos) return std::nullopt;
  return id;
}

GatewayTopics gateway_topics(std::string_view id) {
  return GatewayTopics{uplink_topic(id), downlink_topic(id), receipts_topic(id)};
}

}  // namespace armored::topics

#pragma once
// Text rules of MQTT 3.1.1: UTF-8 strings (section 1.5.3) and topic names and
// filters (section 4.7), plus topic matching for ACLs and subscriptions.

#include <string_view>

#include "mqtt/error.h"

namespace armored::mqtt {

// Accepts well-formed UTF-8 (RFC 3629: no overlong forms, nothing above
// U+10FFFF) without surrogates [MQTT-1.5.3-1] and without U+0000
// [MQTT-1.5.3-2]. Fails with kInvalidUtf8.
MqttStatus validate_utf8(std::string_view s);

// A PUBLISH topic name: 1..max_length bytes [MQTT-4.7.3-1], valid UTF-8, no
// '+' or '#' [MQTT-3.3.2-2]. Fails with kInvalidTopicName or kInvalidUtf8.
MqttStatus validate_topic_name(std::string_view topic, std::size_t max_length);

// A SUBSCRIBE/UNSUBSCRIBE topic filter: 1..max_length bytes, valid UTF-8,
// '#' only alone as the last level [MQTT-4.7.1-2], '+' only as a whole level
// [MQTT-4.7.1-3]. Fails with kInvalidTopicFilter or kInvalidUtf8.
MqttStatus validate_topic_filter(std::string_view filter, std::size_t max_length);

// True if a valid topic name matches a valid topic filter (section 4.7).
// Filters that start with a wildcard do not match names that start with '$'
// [MQTT-4.7.2-1].
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace armored::mqtt

#include "mqtt/text.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace armored::mqtt {

namespace {

// Byte classes for the single-pass scan: plain ASCII, U+0000, a wildcard
// character, or the start/continuation of a multi-byte sequence.
enum : std::uint8_t { kPlain, kNul, kWildcard, kMultiByte };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int i = 0x80; i < 256; ++i) t[i] = kMultiByte;
  t[0] = kNul;
  t['+'] = kWildcard;
  t['#'] = kWildcard;
  return t;
}
constexpr auto kClasses = make_classes();

// Decodes one multi-byte sequence at s[i]; returns its length or 0 if invalid.
std::size_t multi_byte_length(const std::uint8_t* p, std::size_t n, std::size_t i, std::string_view& why) {
  const std::uint8_t b = p[i];
  std::size_t len;
  std::uint32_t cp;
  std::uint32_t min;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1Fu, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0Fu, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07u, min = 0x10000;
  } else {
    why = "invalid UTF-8 lead byte [MQTT-1.5.3-1]";
    return 0;
  }
  if (n - i < len) {
    why = "truncated UTF-8 sequence [MQTT-1.5.3-1]";
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t c = p[i + k];
    if ((c & 0xC0) != 0x80) {
      why = "invalid UTF-8 continuation byte [MQTT-1.5.3-1]";
      return 0;
    }
    cp = (cp << 6) | (c & 0x3Fu);
  }
  if (cp < min) {
    why = "overlong UTF-8 encoding [MQTT-1.5.3-1]";
    return 0;
  }
  if (cp > 0x10FFFF) {
    why = "code point above U+10FFFF [MQTT-1.5.3-1]";
    return 0;
  }
  if (cp >= 0xD800 && cp <= 0xDFFF) {
    why = "UTF-16 surrogate in string [MQTT-1.5.3-1]";
    return 0;
  }
  return len;
}

// One pass over `s`: UTF-8 validity, and whether '+' or '#' occur (so topic
// names cost a single scan on the PUBLISH hot path).
MqttStatus scan_text(std::string_view s, bool& out_wildcard) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::size_t n = s.size();
  out_wildcard = false;
  std::size_t i = 0;
  while (i < n) {
    switch (kClasses[p[i]]) {
      case kPlain:
        ++i;
        break;
      case kWildcard:
        out_wildcard = true;
        ++i;
        break;
      case kNul:
        return mqtt_error(ErrorCode::kInvalidUtf8, "U+0000 in string [MQTT-1.5.3-2]");
      default: {
        std::string_view why;
        const std::size_t len = multi_byte_length(p, n, i, why);
        if (len == 0) return mqtt_error(ErrorCode::kInvalidUtf8, why);
        i += len;
      }
    }
  }
  return {};
}

}  // namespace

MqttStatus validate_utf8(std::string_view s) {
  bool wildcard = false;
  return scan_text(s, wildcard);
}

MqttStatus validate_topic_name(std::string_view topic, std::size_t max_length) {
  if (topic.empty()) return mqtt_error(ErrorCode::kInvalidTopicName, "empty topic name [MQTT-4.7.3-1]");
  if (topic.size() > max_length) return mqtt_error(ErrorCode::kInvalidTopicName, "topic name too long");
  bool wildcard = false;
  ARMORED_TRY(scan_text(topic, wildcard));
  if (wildcard) return mqtt_error(ErrorCode::kInvalidTopicName, "wildcard in topic name [MQTT-3.3.2-2]");
  return {};
}

MqttStatus validate_topic_filter(std::string_view filter, std::size_t max_length) {
  if (filter.empty()) return mqtt_error(ErrorCode::kInvalidTopicFilter, "empty topic filter [MQTT-4.7.3-1]");
  if (filter.size() > max_length) return mqtt_error(ErrorCode::kInvalidTopicFilter, "topic filter too long");
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    if (c != '+' && c != '#') continue;
    const bool starts_level = i == 0 || filter[i - 1] == '/';
    const bool ends_level = i + 1 == filter.size() || filter[i + 1] == '/';
    if (!starts_level || !ends_level) {
      return mqtt_error(ErrorCode::kInvalidTopicFilter,
                        c == '#' ? "'#' must be a whole level [MQTT-4.7.1-2]"
                                 : "'+' must be a whole level [MQTT-4.7.1-3]");
    }
    if (c == '#' && i + 1 != filter.size()) {
      return mqtt_error(ErrorCode::kInvalidTopicFilter, "'#' must be the last level [MQTT-4.7.1-2]");
    }
  }
  return validate_utf8(filter);
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  std::size_t f = 0;
  std::size_t t = 0;
  while (true) {
    const std::size_t f_end = std::min(filter.find('/', f), filter.size());
    const std::string_view f_level = filter.substr(f, f_end - f);
    if (f_level == "#") return true;  // matches the parent level and everything below
    const std::size_t t_end = std::min(topic.find('/', t), topic.size());
    const std::string_view t_level = topic.substr(t, t_end - t);
    if (f_level != "+" && f_level != t_level) return false;
    const bool f_last = f_end == filter.size();
    const bool t_last = t_end == topic.size();
    if (f_last && t_last) return true;
    if (f_last) return false;  // topic has more levels
    f = f_end + 1;
    t = t_end + 1;
    if (t_last) {
      // "a/#" matches "a": the remaining filter must be exactly "#".
      return filter.substr(f) == "#";
    }
  }
}

}  // namespace armored::mqtt

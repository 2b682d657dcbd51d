#pragma once
// Parsers for the first messages of the protocols `audit pcap` looks for,
// over reassembled TCP bytes: MQTT (CONNECT, PUBLISH), HTTP/1.x request
// heads, TLS ClientHello/ServerHello. Bounded readers only; nullopt or a
// status means "not this protocol" or "need more bytes".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace armored::audit {

// --- MQTT (3.1, 3.1.1, 5.0) ---

enum class FrameStatus : std::uint8_t { kComplete, kNeedMore, kInvalid };

struct MqttFrame {
  FrameStatus status = FrameStatus::kInvalid;
  std::uint8_t type = 0;          // control packet type (high nibble)
  std::uint8_t flags = 0;         // low nibble
  std::size_t header_len = 0;     // fixed header bytes
  std::size_t remaining_len = 0;  // bytes after the fixed header
};

// Reads an MQTT fixed header at the start of `buf`.
MqttFrame mqtt_frame(ByteSpan buf);

struct MqttConnect {
  std::uint8_t level = 0;  // 3 = 3.1, 4 = 3.1.1, 5 = 5.0
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;  // may be binary
};

// Parses a whole CONNECT packet (fixed header included).
std::optional<MqttConnect> parse_mqtt_connect(ByteSpan packet);

struct MqttPublish {
  std::string topic;
  std::size_t payload_len = 0;
};

// Parses the start of a PUBLISH packet: `packet` may be cut short after the
// topic; `declared_len` is the whole packet's length from its fixed header.
std::optional<MqttPublish> parse_mqtt_publish(ByteSpan packet, std::size_t declared_len,
                                              std::uint8_t level);

// --- HTTP/1.x ---

// True when `buf` starts like an HTTP/1.x request line (method and space).
bool looks_like_http_request(ByteSpan buf);

struct HttpCredential {
  std::string scheme;  // "Basic" or "Bearer"
  std::string user;    // Basic only
  std::string secret;  // password or token
  std::string header;  // Authorization or Proxy-Authorization
};

struct HttpRequestHead {
  std::string method;
  std::string target;
  std::vector<HttpCredential> credentials;
  std::size_t content_length = 0;
  bool chunked = false;
};

// Parses a request head ending in CRLFCRLF (head excludes the body).
std::optional<HttpRequestHead> parse_http_request_head(std::string_view head);

// Standard base64 (RFC 4648 section 4); nullopt on bad characters.
std::optional<std::string> decode_base64(std::string_view in);

// --- TLS ---

struct TlsRecordHeader {
  FrameStatus status = FrameStatus::kInvalid;
  std::uint8_t content_type = 0;
  std::uint16_t version = 0;
  std::size_t length = 0;
};
inline constexpr std::uint8_t kTlsHandshake = 22;
inline constexpr std::size_t kTlsMaxRecord = (1u << 14) + 2048;

// Reads a TLS record header at the start of `buf`.
TlsRecordHeader tls_record_header(ByteSpan buf);

struct ClientHelloInfo {
  std::uint16_t legacy_version = 0;
  std::vector<std::uint16_t> supported_versions;  // GREASE removed
  std::string sni;
  // Highest version offered (supported_versions if present, else legacy).
  std::uint16_t max_version() const;
  bool offers(std::uint16_t v) const;
};

struct ServerHelloInfo {
  std::uint16_t legacy_version = 0;
  std::optional<std::uint16_t> selected_version;  // supported_versions extension
  std::uint16_t cipher_suite = 0;
  std::uint16_t version() const { return selected_version.value_or(legacy_version); }
};

// Parse a handshake message body (after the 4-byte handshake header).
std::optional<ClientHelloInfo> parse_client_hello(ByteSpan body);
std::optional<ServerHelloInfo> parse_server_hello(ByteSpan body);

// "TLS 1.2", "SSL 3.0", "TLS 1.3 (draft)", or hex.
std::string tls_version_name(std::uint16_t v);

}  // namespace armored::audit

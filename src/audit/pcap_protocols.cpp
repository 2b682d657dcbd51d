#include "audit/pcap_protocols.h"

#include "audit/finding.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <sstream>

namespace armored::audit {

namespace {

bool read_mqtt_string(ByteReader& r, std::string& out_) {
  std::uint16_t len = 0;
  ByteSpan s;
  if (!r.read_u16be(len) || !r.read_bytes(len, s)) return false;
  out_.assign(s.begin(), s.end());
  return true;
}

// MQTT Variable Byte Integer: at most 4 bytes.
bool read_varint(ByteReader& r, std::size_t& out_) {
  std::size_t value = 0;
  for (int i = 0; i < 4; ++i) {
    std::uint8_t b = 0;
    if (!r.read_u8(b)) return false;
    value |= static_cast<std::size_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      out_ = value;
      return true;
    }
  }
  return false;
}

bool skip_properties(ByteReader& r) {
  std::size_t len = 0;
  return read_varint(r, len) && r.skip(len);
}

bool is_grease(std::uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

MqttFrame mqtt_frame(ByteSpan buf) {
  MqttFrame f;
  if (buf.empty()) {
    f.status = FrameStatus::kNeedMore;
    return f;
  }
  f.type = buf[0] >> 4;
  f.flags = buf[0] & 0x0f;
  if (f.type == 0) return f;  // reserved: not MQTT
  std::size_t value = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= buf.size()) {
      f.status = FrameStatus::kNeedMore;
      return f;
    }
    value |= static_cast<std::size_t>(buf[i] & 0x7f) << (7 * (i - 1));
    if ((buf[i] & 0x80) == 0) {
      f.header_len = i + 1;
      f.remaining_len = value;
      f.status = FrameStatus::kComplete;
      return f;
    }
  }
  return f;  // more than 4 length bytes: malformed
}

std::optional<MqttConnect> parse_mqtt_connect(ByteSpan packet) {
  auto frame = mqtt_frame(packet);
  if (frame.status != FrameStatus::kComplete || frame.type != 1 || frame.flags != 0) return std::nullopt;
  if (packet.size() < frame.header_len + frame.remaining_len) return std::nullopt;
  ByteReader r(packet.subspan(frame.header_len, frame.remaining_len));
  std::string proto;
  MqttConnect c;
  std::uint8_t flags = 0;
  std::uint16_t keepalive = 0;
  if (!read_mqtt_string(r, proto) || (proto != "MQTT" && proto != "MQIsdp")) return std::nullopt;
  if (!r.read_u8(c.level) || c.level < 3 || c.level > 5) return std::nullopt;
  if (!r.read_u8(flags) || (flags & 0x01) || !r.read_u16be(keepalive)) return std::nullopt;
  if (c.level == 5 && !skip_properties(r)) return std::nullopt;
  if (!read_mqtt_string(r, c.client_id)) return std::nullopt;
  if (flags & 0x04) {  // will flag
    std::string will_topic, will_payload;
    if (c.level == 5 && !skip_properties(r)) return std::nullopt;
    if (!read_mqtt_string(r, will_topic) || !read_mqtt_string(r, will_payload)) return std::nullopt;
  }
  if (flags & 0x80) {
    std::string u;
    if (!read_mqtt_string(r, u)) return std::nullopt;
    c.username = u;
  }
  if (flags & 0x40) {
    std::string p;
    if (!read_mqtt_string(r, p)) return std::nullopt;
    c.password = p;
  }
  return c;
}

std::optional<MqttPublish> parse_mqtt_publish(ByteSpan packet, std::size_t declared_len,
                                              std::uint8_t level) {
  auto frame = mqtt_frame(packet);
  if (frame.status != FrameStatus::kComplete || frame.type != 3) return std::nullopt;
  std::uint8_t qos = (frame.flags >> 1) & 3;
  if (qos == 3) return std::nullopt;
  ByteReader r(packet.subspan(frame.header_len));
  MqttPublish p;
  if (!read_mqtt_string(r, p.topic)) return std::nullopt;
  std::size_t used = 2 + p.topic.size();
  if (qos > 0) {
    std::uint16_t id = 0;
    if (!r.read_u16be(id)) return std::nullopt;
    used += 2;
  }
  if (level == 5) {
    std::size_t before = r.remaining();
    if (!skip_properties(r)) return std::nullopt;
    used += before - r.remaining();
  }
  std::size_t body = declared_len - frame.header_len;
  if (used > body) return std::nullopt;
  p.payload_len = body - used;
  return p;
}

bool looks_like_http_request(ByteSpan buf) {
  static const std::array<std::string_view, 9> kMethods = {
      "GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ", "CONNECT ", "TRACE "};
  auto s = as_string(buf);
  return std::any_of(kMethods.begin(), kMethods.end(),
                     [&](std::string_view m) { return s.substr(0, m.size()) == m; });
}

std::optional<std::string> decode_base64(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::optional<HttpRequestHead> parse_http_request_head(std::string_view head) {
  HttpRequestHead h;
  std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return std::nullopt;
  std::string_view request_line = head.substr(0, eol);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1 || request_line.substr(sp2 + 1, 5) != "HTTP/") {
    return std::nullopt;
  }
  h.method = std::string(request_line.substr(0, sp1));
  h.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = trim(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) {
      auto space = value.find(' ');
      std::string scheme = value.substr(0, space);
      std::string param = space == std::string::npos ? "" : trim(value.substr(space + 1));
      if (iequals(scheme, "Basic")) {
        auto decoded = decode_base64(param);
        HttpCredential c{"Basic", "", decoded.value_or(param), name};
        if (decoded) {
          auto c2 = decoded->find(':');
          if (c2 != std::string::npos) {
            c.user = decoded->substr(0, c2);
            c.secret = decoded->substr(c2 + 1);
          }
        }
        h.credentials.push_back(std::move(c));
      } else if (iequals(scheme, "Bearer")) {
        h.credentials.push_back({"Bearer", "", param, name});
      } else if (!scheme.empty()) {
        h.credentials.push_back({scheme, "", param, name});
      }
    } else if (iequals(name, "Content-Length")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc{} && p == value.data() + value.size()) h.content_length = n;
    } else if (iequals(name, "Transfer-Encoding") && value.find("chunked") != std::string::npos) {
      h.chunked = true;
    }
  }
  return h;
}

TlsRecordHeader tls_record_header(ByteSpan buf) {
  TlsRecordHeader h;
  if (buf.size() < 5) {
    // Decide early from what is there: a wrong first byte is not TLS.
    h.status = (buf.empty() || (buf[0] >= 20 && buf[0] <= 24)) ? FrameStatus::kNeedMore
                                                                : FrameStatus::kInvalid;
    if (buf.size() >= 2 && buf[1] != 3) h.status = FrameStatus::kInvalid;
    return h;
  }
  h.content_type = buf[0];
  h.version = static_cast<std::uint16_t>((buf[1] << 8) | buf[2]);
  h.length = static_cast<std::size_t>((buf[3] << 8) | buf[4]);
  if (h.content_type < 20 || h.content_type > 24 || buf[1] != 3 || buf[2] > 4 ||
      h.length > kTlsMaxRecord) {
    return h;
  }
  h.status = FrameStatus::kComplete;
  return h;
}

std::uint16_t ClientHelloInfo::max_version() const {
  if (supported_versions.empty()) return legacy_version;
  std::uint16_t best = 0;
  for (auto v : supported_versions) {
    // Drafts of TLS 1.3 (0x7fxx) count as 1.3.
    std::uint16_t norm = (v >> 8) == 0x7f ? 0x0304 : v;
    best = std::max(best, norm);
  }
  return best;
}

bool ClientHelloInfo::offers(std::uint16_t v) const {
  if (supported_versions.empty()) return legacy_version >= v;
  return std::find(supported_versions.begin(), supported_versions.end(), v) != supported_versions.end();
}

std::optional<ClientHelloInfo> parse_client_hello(ByteSpan body) {
  ByteReader r(body);
  ClientHelloInfo info;
  std::uint8_t sid_len = 0, comp_len = 0;
  std::uint16_t suites_len = 0, ext_len = 0;
  if (!r.read_u16be(info.legacy_version) || !r.skip(32) || !r.read_u8(sid_len) || sid_len > 32 ||
      !r.skip(sid_len) || !r.read_u16be(suites_len) || !r.skip(suites_len) || !r.read_u8(comp_len) ||
      !r.skip(comp_len)) {
    return std::nullopt;
  }
  if (r.empty()) return info;  // no extensions (SSL 3.0 style)
  ByteSpan exts;
  if (!r.read_u16be(ext_len) || !r.read_bytes(ext_len, exts)) return std::nullopt;
  ByteReader e(exts);
  while (!e.empty()) {
    std::uint16_t type = 0, len = 0;
    ByteSpan data;
    if (!e.read_u16be(type) || !e.read_u16be(len) || !e.read_bytes(len, data)) return std::nullopt;
    ByteReader d(data);
    if (type == 43) {  // supported_versions
      std::uint8_t list_len = 0;
      ByteSpan list;
      if (!d.read_u8(list_len) || !d.read_bytes(list_len, list) || list_len % 2) return std::nullopt;
      for (std::size_t i = 0; i + 1 < list.size(); i += 2) {
        auto v = static_cast<std::uint16_t>((list[i] << 8) | list[i + 1]);
        if (!is_grease(v)) info.supported_versions.push_back(v);
      }
    } else if (type == 0) {  // server_name
      std::uint16_t list_len = 0, name_len = 0;
      std::uint8_t name_type = 0;
      ByteSpan name;
      if (d.read_u16be(list_len) && d.read_u8(name_type) && name_type == 0 &&
          d.read_u16be(name_len) && d.read_bytes(name_len, name)) {
        info.sni = printable(as_string(name), 255);
      }
    }
  }
  return info;
}

std::optional<ServerHelloInfo> parse_server_hello(ByteSpan body) {
  ByteReader r(body);
  ServerHelloInfo info;
  std::uint8_t sid_len = 0, comp = 0;
  std::uint16_t ext_len = 0;
  if (!r.read_u16be(info.legacy_version) || !r.skip(32) || !r.read_u8(sid_len) || sid_len > 32 ||
      !r.skip(sid_len) || !r.read_u16be(info.cipher_suite) || !r.read_u8(comp)) {
    return std::nullopt;
  }
  if (r.empty()) return info;
  ByteSpan exts;
  if (!r.read_u16be(ext_len) || !r.read_bytes(ext_len, exts)) return std::nullopt;
  ByteReader e(exts);
  while (!e.empty()) {
    std::uint16_t type = 0, len = 0;
    ByteSpan data;
    if (!e.read_u16be(type) || !e.read_u16be(len) || !e.read_bytes(len, data)) return std::nullopt;
    if (type == 43) {
      ByteReader d(data);
      std::uint16_t v = 0;
      if (!d.read_u16be(v) || !d.empty()) return std::nullopt;
      info.selected_version = v;
    }
  }
  return info;
}

std::string tls_version_name(std::uint16_t v) {
  switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: break;
  }
  if ((v >> 8) == 0x7f) return "TLS 1.3 (draft)";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%04x", v);
  return buf;
}

}  // namespace armored::audit

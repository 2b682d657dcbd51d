#include "cloud/admin_protocol.h"

#include <set>
#include <vector>

namespace armored::cloud {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxDepth = 8;  // request objects are two levels deep
constexpr std::size_t kMaxDeviceId = 64;
constexpr std::size_t kMaxCommandName = 64;

Unexpected<AdminError> error(AdminErrc code, std::string message) {
  return unexpected(AdminError{code, std::move(message)});
}

// Nesting depth outside strings, so a hostile "[[[[..." never reaches the parser.
bool depth_within(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '{' || ch == '[') {
      if (++depth > limit) return false;
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// Parses JSON without exceptions; a key repeated within one object is an
// error (the last one would silently win otherwise).
std::optional<json> parse_strict(std::string_view text, bool& out_duplicate) {
  out_duplicate = false;
  std::vector<std::set<std::string>> keys;
  json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) keys.emplace_back();
    else if (ev == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (ev == json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      if (!keys.back().insert(parsed.get<std::string>()).second) out_duplicate = true;
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), cb, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

bool valid_device_id(const std::string& s) {
  if (s.empty() || s.size() > kMaxDeviceId) return false;
  for (char ch : s) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Error to_error(const AdminError& e) {
  const bool failed =
      e.code == AdminErrc::kNoRoute || e.code == AdminErrc::kTooManyRequests || e.code == AdminErrc::kInternal;
  return {e.message, "admin", to_string(e.code), failed ? ErrorKind::kFailed : ErrorKind::kBadInput};
}

const char* to_string(AdminErrc e) {
  switch (e) {
    case AdminErrc::kOversized: return "oversized";
    case AdminErrc::kBadJson: return "bad_json";
    case AdminErrc::kBadRequest: return "bad_request";
    case AdminErrc::kUnsupportedVersion: return "unsupported_version";
    case AdminErrc::kUnknownOp: return "unknown_op";
    case AdminErrc::kTooManyRequests: return "too_many_requests";
    case AdminErrc::kInvalidCommand: return "invalid_command";
    case AdminErrc::kUnknownDevice: return "unknown_device";
    case AdminErrc::kNoRoute: return "no_route";
    case AdminErrc::kInternal: return "internal";
  }
  return "internal";
}

Result<AdminRequest, AdminError> parse_admin_request(std::string_view text) {
  if (!depth_within(text, kMaxDepth)) return error(AdminErrc::kBadJson, "JSON nested too deeply");
  bool duplicate = false;
  auto parsed = parse_strict(text, duplicate);
  if (!parsed) return error(AdminErrc::kBadJson, "request is not valid UTF-8 JSON");
  if (duplicate) return error(AdminErrc::kBadRequest, "a key appears twice in one object");
  const json& j = *parsed;
  if (!j.is_object()) return error(AdminErrc::kBadJson, "request is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (key != "v" && key != "op" && key != "device" && key != "command" && key != "params" && key != "limit") {
      return error(AdminErrc::kBadRequest, "unknown field '" + key.substr(0, 32) + "'");
    }
  }
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_unsigned()) return error(AdminErrc::kBadRequest, "field 'v' missing or not an unsigned integer");
  if (v->get<std::uint64_t>() != kAdminProtocolVersion) {
    return error(AdminErrc::kUnsupportedVersion, "protocol version " + std::to_string(v->get<std::uint64_t>()) +
                                                     " (this cloud speaks 1)");
  }
  auto op = j.find("op");
  if (op == j.end() || !op->is_string()) return error(AdminErrc::kBadRequest, "field 'op' missing or not a string");
  AdminRequest r;
  const std::string op_name = op->get<std::string>();
  if (op_name == "send") r.op = AdminRequest::Op::kSend;
  else if (op_name == "status") r.op = AdminRequest::Op::kStatus;
  else return error(AdminErrc::kUnknownOp, "unknown op (expected send or status)");

  auto dev = j.find("device");
  if (dev == j.end() || !dev->is_string()) return error(AdminErrc::kBadRequest, "field 'device' missing or not a string");
  r.device = dev->get<std::string>();
  if (!valid_device_id(r.device)) {
    return error(AdminErrc::kBadRequest, "field 'device' must be 1..64 characters of A-Z a-z 0-9 . _ -");
  }
  if (r.op == AdminRequest::Op::kSend) {
    if (j.contains("limit")) return error(AdminErrc::kBadRequest, "field 'limit' belongs to op status");
    auto cmd = j.find("command");
    if (cmd == j.end() || !cmd->is_string()) return error(AdminErrc::kBadRequest, "field 'command' missing or not a string");
    r.command = cmd->get<std::string>();
    if (r.command.empty() || r.command.size() > kMaxCommandName) {
      return error(AdminErrc::kBadRequest, "field 'command' must be 1..64 bytes");
    }
    auto p = j.find("params");
    r.params = json::object();
    if (p != j.end()) {
      if (!p->is_object()) return error(AdminErrc::kBadRequest, "field 'params' is not an object");
      for (const auto& [key, value] : p->items()) {
        (void)key;
        if (!value.is_boolean() && !value.is_number() && !value.is_string()) {
          return error(AdminErrc::kBadRequest, "a parameter value is not a bool, number or string");
        }
      }
      r.params = *p;
    }
  } else {
    if (j.contains("command") || j.contains("params")) {
      return error(AdminErrc::kBadRequest, "fields 'command' and 'params' belong to op send");
    }
    auto lim = j.find("limit");
    if (lim != j.end()) {
      if (!lim->is_number_unsigned() || lim->get<std::uint64_t>() < 1 || lim->get<std::uint64_t>() > 1000) {
        return error(AdminErrc::kBadRequest, "field 'limit' must be an integer 1..1000");
      }
      r.limit = lim->get<std::size_t>();
    }
  }
  return r;
}

json admin_ok(json result) {
  json j = result.is_object() ? std::move(result) : json::object();
  j["ok"] = true;
  return j;
}

json admin_error(const AdminError& e) {
  return json{{"ok", false}, {"error", to_string(e.code)}, {"message", e.message}};
}

Bytes frame_json(const json& j) {
  // Invalid UTF-8 in a string (e.g. echoed input) is replaced, never thrown.
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto n = static_cast<std::uint32_t>(text.size());
  Bytes out{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
            static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

AdminSession::AdminSession(AdminLimits limits, AdminHandler handler, AdminCounters& counters)
    : limits_(limits), handler_(std::move(handler)), counters_(counters) {}

void AdminSession::respond(const json& body) {
  Bytes f = frame_json(body);
  out_.insert(out_.end(), f.begin(), f.end());
}

void AdminSession::refuse(const AdminError& e, bool close) {
  ++counters_.errors[static_cast<std::size_t>(e.code)];
  respond(admin_error(e));
  if (close) {
    closing_ = true;
    buf_.clear();
  }
}

void AdminSession::handle_frame(std::string_view text) {
  ++counters_.requests;
  ++requests_;
  auto req = parse_admin_request(text);
  if (!req) {
    refuse(req.error(), false);
    return;
  }
  json reply = handler_(*req);
  if (reply.value("ok", false)) {
    ++counters_.succeeded;
  } else {
    AdminErrc code = AdminErrc::kInternal;
    const std::string name = reply.value("error", std::string());
    for (std::size_t i = 0; i < kAdminErrcCount; ++i) {
      if (name == to_string(static_cast<AdminErrc>(i))) code = static_cast<AdminErrc>(i);
    }
    ++counters_.errors[static_cast<std::size_t>(code)];
  }
  respond(reply);
}

void AdminSession::receive(ByteSpan bytes) {
  if (closing_) return;
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  std::size_t pos = 0;
  while (!closing_ && buf_.size() - pos >= 4) {
    const std::uint32_t n = read_be32(buf_.data() + pos);
    if (n == 0 || n > limits_.max_request_bytes) {
      // The stream cannot be resynchronised after a bad length: answer and close.
      refuse({AdminErrc::kOversized, "frame length " + std::to_string(n) + " outside 1.." +
                                         std::to_string(limits_.max_request_bytes)},
             true);
      return;
    }
    if (buf_.size() - pos - 4 < n) break;
    if (requests_ >= limits_.max_requests_per_connection) {
      refuse({AdminErrc::kTooManyRequests, "more than " + std::to_string(limits_.max_requests_per_connection) +
                                               " requests on one connection"},
             true);
      return;
    }
    handle_frame(std::string_view(reinterpret_cast<const char*>(buf_.data() + pos + 4), n));
    pos += 4 + n;
  }
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void AdminSession::end_of_input() {
  if (!buf_.empty() && !closing_) ++counters_.truncated;
  buf_.clear();
  closing_ = true;
}

Result<std::optional<json>, AdminError> parse_admin_response(ByteSpan received, std::size_t max_bytes,
                                                             std::size_t& out_consumed) {
  out_consumed = 0;
  if (received.size() < 4) return std::optional<json>{};
  const std::uint32_t n = read_be32(received.data());
  if (n == 0 || n > max_bytes) return error(AdminErrc::kOversized, "response frame length out of range");
  if (received.size() - 4 < n) return std::optional<json>{};
  std::string_view text(reinterpret_cast<const char*>(received.data() + 4), n);
  if (!depth_within(text, 16)) return error(AdminErrc::kBadJson, "response nested too deeply");
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error(AdminErrc::kBadJson, "response is not a JSON object");
  out_consumed = 4 + n;
  return std::optional<json>{std::move(j)};
}

}  // namespace armored::cloud

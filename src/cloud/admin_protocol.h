#pragma once
// The cloud's local admin protocol (docs/commands-admin.md), sans-I/O.
// Each request and each response is one frame: a 4-byte big-endian length
// followed by that many bytes of UTF-8 JSON (one object). AdminSession takes
// the bytes read from one connection and a handler, and returns the bytes to
// write and whether to close; the socket code only moves bytes.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::cloud {

inline constexpr std::uint32_t kAdminProtocolVersion = 1;

struct AdminLimits {
  std::size_t max_request_bytes = 64 * 1024;    // one frame's JSON
  std::size_t max_requests_per_connection = 100;
};

// Why a request was refused; the wire name is to_string().
enum class AdminErrc : std::uint8_t {
  kOversized,        // frame length 0 or above max_request_bytes (connection closed)
  kBadJson,          // not UTF-8 JSON, or not an object
  kBadRequest,       // a field missing, of the wrong type, or unknown
  kUnsupportedVersion,
  kUnknownOp,
  kTooManyRequests,  // max_requests_per_connection reached (connection closed)
  kInvalidCommand,   // refused by the cloud's command schema
  kUnknownDevice,
  kNoRoute,          // the device was never seen, or its gateway is not subscribed
  kInternal,         // sealing, storage or publishing failed
};
inline constexpr std::size_t kAdminErrcCount = static_cast<std::size_t>(AdminErrc::kInternal) + 1;
const char* to_string(AdminErrc e);

struct AdminError {
  AdminErrc code;
  std::string message;
};

// The general error, component "admin", code to_string(code): a refusal the
// caller can fix (unknown device, bad command) is bad input; kNoRoute,
// kTooManyRequests and kInternal are failures.
Error to_error(const AdminError& e);

// One decoded request. Params stay JSON: the command schema checks them.
struct AdminRequest {
  enum class Op : std::uint8_t { kSend, kStatus };
  Op op = Op::kSend;
  std::string device;
  std::string command;       // kSend
  nlohmann::json params;     // kSend: an object, name -> bool / number / string
  std::size_t limit = 20;    // kStatus: newest commands to show (1..1000)
};

// Parses one request frame's JSON text. Never throws.
Result<AdminRequest, AdminError> parse_admin_request(std::string_view json_text);

// A response body: {"ok":true, ...result} or {"ok":false,"error":..,"message":..}.
nlohmann::json admin_ok(nlohmann::json result);
nlohmann::json admin_error(const AdminError& e);

// Frames one JSON value (length prefix + compact dump).
Bytes frame_json(const nlohmann::json& j);

struct AdminCounters {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;     // complete frames received
  std::uint64_t succeeded = 0;
  std::uint64_t truncated = 0;    // connection closed inside a frame
  std::uint64_t timeouts = 0;     // idle connection closed by the server
  std::array<std::uint64_t, kAdminErrcCount> errors{};
  std::uint64_t errors_for(AdminErrc e) const { return errors[static_cast<std::size_t>(e)]; }
};

using AdminHandler = std::function<nlohmann::json(const AdminRequest&)>;

// One connection's protocol state.
class AdminSession {
 public:
  AdminSession(AdminLimits limits, AdminHandler handler, AdminCounters& counters);

  // Feeds bytes read from the peer; responses accumulate in output().
  void receive(ByteSpan bytes);
  // The peer closed its side: a partial frame is counted as truncated.
  void end_of_input();

  const Bytes& output() const { return out_; }
  void consume_output() { out_.clear(); }
  // True once the session refuses further input (after the output is sent, close).
  bool closing() const { return closing_; }
  // True while part of a frame has been received.
  bool mid_frame() const { return !buf_.empty(); }

 private:
  void respond(const nlohmann::json& body);
  void refuse(const AdminError& e, bool close);
  void handle_frame(std::string_view json_text);

  AdminLimits limits_;
  AdminHandler handler_;
  AdminCounters& counters_;
  Bytes buf_;
  Bytes out_;
  std::size_t requests_ = 0;
  bool closing_ = false;
};

// Client side: reads one response frame from bytes received so far.
// nullopt while incomplete; an error for a bad length or bad JSON.
Result<std::optional<nlohmann::json>, AdminError> parse_admin_response(ByteSpan received,
                                                                       std::size_t max_bytes,
                                                                       std::size_t& out_consumed);

}  // namespace armored::cloud

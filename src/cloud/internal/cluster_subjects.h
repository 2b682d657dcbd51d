#pragma once
// The plain NATS subjects between a scaled cloud's roles
// (docs/scale-out.md, "Commands"). Outside the ingest stream's subjects,
// so JetStream never stores them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "command/codec.h"
#include "common/bytes.h"
#include "common/result.h"

namespace armored::cloud {

// A sealed command for a device, to every front; the one holding the
// connection of the device's gateway delivers it. Headers: Armored-Device,
// Armored-Front (the sender, which tried its own connections first).
inline constexpr std::string_view kCommandsDown = "armored.commands.down";
// A device's reply a worker opened, to every front; the one that sent the
// command records it. Headers: Armored-Device, Armored-Peer (the gateway,
// for people reading the bus; fronts do not need it).
inline constexpr std::string_view kCommandReplies = "armored.commands.replies";

// What a front takes from those subjects. The NATS cluster is the cloud's
// own (docs/scale-out.md, "Who may talk to NATS"), but what arrives on it
// is still network input: bounded, checked, and refused by reason, each
// refusal counted (armored_cloud_bus_refused_total) and audited.
//
// A sealed command and a reply's plaintext are each at most about 1.1 KB
// (command::kMaxMessageBytes of plaintext); 4 KiB leaves room and no more.
inline constexpr std::size_t kMaxBusMessageBytes = 4096;

enum class BusSubject : std::uint8_t { kDown, kReplies };
inline constexpr std::size_t kBusSubjectCount = 2;
std::string_view subject_name(BusSubject s);

enum class BusRefusal : std::uint8_t {
  kBadDevice,  // Armored-Device absent, or not an identity ID (pki::validate_id)
  kOversized,  // more than kMaxBusMessageBytes of data
  kMalformed,  // down: no data; replies: not a reply (command::decode_reply)
};
inline constexpr std::size_t kBusRefusalCount = 3;
// "bad_device", "oversized", "malformed": the metric's label values.
std::string_view to_string(BusRefusal r);

// What a refusal says in the front's log and the audit trail.
struct BusError {
  BusRefusal reason;
  std::string detail;  // names what was wrong, never the payload
};

struct BusCommand {
  std::string device;
  Bytes sealed;  // opened by the device alone
};
Result<BusCommand, BusError> read_command_down(const std::optional<std::string>& device, ByteSpan data);

struct BusReply {
  std::string device;
  command::Reply reply;
};
Result<BusReply, BusError> read_command_reply(const std::optional<std::string>& device, ByteSpan data);

}  // namespace armored::cloud

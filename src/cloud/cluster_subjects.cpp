#include "cloud/internal/cluster_subjects.h"

#include <fmt/format.h>

#include "pki/pki.h"

namespace armored::cloud {
namespace {

Result<std::string, BusError> checked(const std::optional<std::string>& device, ByteSpan data) {
  if (!device) return unexpected(BusError{BusRefusal::kBadDevice, "no Armored-Device header"});
  if (auto ok = pki::validate_id(*device); !ok) {
    return unexpected(BusError{BusRefusal::kBadDevice, "Armored-Device: " + ok.error().message});
  }
  if (data.size() > kMaxBusMessageBytes) {
    return unexpected(BusError{BusRefusal::kOversized,
                               fmt::format("{} bytes, at most {} allowed", data.size(), kMaxBusMessageBytes)});
  }
  return *device;
}

}  // namespace

std::string_view subject_name(BusSubject s) {
  return s == BusSubject::kDown ? kCommandsDown : kCommandReplies;
}

std::string_view to_string(BusRefusal r) {
  switch (r) {
    case BusRefusal::kBadDevice: return "bad_device";
    case BusRefusal::kOversized: return "oversized";
    case BusRefusal::kMalformed: return "malformed";
  }
  return "?";
}

Result<BusCommand, BusError> read_command_down(const std::optional<std::string>& device, ByteSpan data) {
  auto id = checked(device, data);
  if (!id) return unexpected(std::move(id.error()));
  if (data.empty()) return unexpected(BusError{BusRefusal::kMalformed, "no sealed command"});
  return BusCommand{std::move(*id), Bytes(data.begin(), data.end())};
}

Result<BusReply, BusError> read_command_reply(const std::optional<std::string>& device, ByteSpan data) {
  auto id = checked(device, data);
  if (!id) return unexpected(std::move(id.error()));
  auto reply = command::decode_reply(data);
  if (!reply) {
    return unexpected(BusError{BusRefusal::kMalformed, std::string("not a reply: ") + reply.error().message});
  }
  return BusReply{std::move(*id), std::move(*reply)};
}

}  // namespace armored::cloud

#include "device/internal/command_endpoint.h"

#include <array>

#include "command/codec.h"

namespace armored::device {

CommandEndpoint::CommandEndpoint(const command::Schema& schema, const std::string& device_type,
                                 command::DeviceSettings initial, Clock::TimePoint now,
                                 command::ProcessorConfig config)
    : device_(std::make_unique<command::SimulatedDevice>(std::move(initial), now, device_type)),
      processor_(std::make_unique<command::CommandProcessor>(schema, device_type, *device_, config)) {}

namespace {

e3::E3Result<void> seal_into(DeviceSealer& sealer, ByteSpan plaintext, std::vector<Bytes>& out_) {
  Bytes env(sealer.sealed_size(plaintext.size()));
  auto n = sealer.seal(plaintext, env);
  if (!n) return unexpected(n.error());
  env.resize(*n);
  out_.push_back(std::move(env));
  return {};
}

}  // namespace

e3::E3Result<HandledCommand> CommandEndpoint::handle(DeviceSealer& sealer, ByteSpan envelope, Clock::TimePoint now) {
  std::array<std::uint8_t, command::kMaxMessageBytes> plain{};
  auto opened = sealer.open_command(envelope, plain);
  if (!opened) return unexpected(opened.error());
  HandledCommand h;
  h.reply = processor_->handle(ByteSpan(plain.data(), opened->plaintext_size), now);
  auto wire = command::encode_reply(h.reply);
  if (!wire) {
    h.reply = command::Reply{h.reply.command_id, command::Outcome::kRefused, command::Reason::kFailed, {}};
    wire = command::encode_reply(h.reply);
  }
  // The reply is sealed like a reading, so an epoch past its limits is
  // rotated first (the announcement then goes before the reply).
  if (sealer.rotation_due()) {
    auto ann = sealer.start_epoch();
    if (!ann) return unexpected(ann.error());
    h.uplink.push_back(std::move(*ann));
    h.started_epoch = true;
  }
  if (auto s = seal_into(sealer, *wire, h.uplink); !s) return unexpected(s.error());
  auto& pending = device_->pending();
  if (pending.rotate_keys) {
    pending.rotate_keys = false;
    auto ann = sealer.start_epoch();
    if (!ann) return unexpected(ann.error());
    h.uplink.push_back(std::move(*ann));
    h.started_epoch = true;
  }
  if (pending.reboot) {
    // A simulated restart is immediate; its E3 state is already on disk.
    device_->rebooted(now);
    h.rebooted = true;
  }
  return h;
}

}  // namespace armored::device

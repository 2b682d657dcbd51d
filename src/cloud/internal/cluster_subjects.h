#pragma once
// The plain NATS subjects between a scaled cloud's roles
// (docs/scale-out.md, "Commands"). Outside the ingest stream's subjects,
// so JetStream never stores them.

#include <string_view>

namespace armored::cloud {

// A sealed command for a device, to every front; the one holding the
// connection of the device's gateway delivers it. Headers: Armored-Device,
// Armored-Front (the sender, which tried its own connections first).
inline constexpr std::string_view kCommandsDown = "armored.commands.down";
// A device's reply a worker opened, to every front; the one that sent the
// command records it. Headers: Armored-Device, Armored-Peer (the gateway).
inline constexpr std::string_view kCommandReplies = "armored.commands.replies";

}  // namespace armored::cloud

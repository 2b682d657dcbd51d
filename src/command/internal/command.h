#pragma once
// Device commands: authenticated downlink with strict validation.
// Specification: docs/commands.md. Shipped schema: config/commands.toml.
//
//   schema.h     Schema::load()/builtin(): command declarations per device type
//   validate.h   Validator::from_text() (cloud, CLI input) and check() (typed, device)
//   codec.h      encode/decode_command, encode/decode_reply, classify_uplink()
//   processor.h  CommandProcessor (device): freshness, replayed id, rate limit, action
//   simulated_device.h  the simulator's Actuator
//   error.h      Reason and its stable names
//
// Cloud:  Validator::from_text -> set id, issued_at_ms -> encode_command ->
//         e3::Opener::seal_command; on an opened uplink plaintext with
//         classify_uplink() == kReply -> decode_reply.
// Device: e3::Sealer::open_command -> CommandProcessor::handle_to_wire ->
//         e3::Sealer::seal -> uplink like a reading.

#include "command/codec.h"
#include "command/error.h"
#include "command/processor.h"
#include "command/schema.h"
#include "command/simulated_device.h"
#include "command/validate.h"
#include "command/value.h"

#pragma once
// E3: end-to-end sealed envelopes from devices to the cloud (and commands
// back) that gateways forward but cannot read, forge or replay.
// Specification: docs/e3-protocol.md.
//
//   Sealer  (device): start_epoch() -> announcement, seal(reading), open_command()
//   Opener  (cloud):  accept_announcement(), open(envelope), seal_command()
//   wire.h:           parse_header() for keyless inspection, sealed_size()
//   batch.h:          several messages in one MQTT PUBLISH

#include "e3/batch.h"
#include "e3/error.h"
#include "e3/opener.h"
#include "e3/sealer.h"
#include "e3/state_store.h"
#include "e3/wire.h"

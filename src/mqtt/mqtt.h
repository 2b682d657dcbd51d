#pragma once
// armored_mqtt: a sans-I/O MQTT 3.1.1 codec and session state machines
// (QoS 0 and 1). No sockets, no clocks: callers pass bytes and `now`.
// See docs/mqtt.md for the implemented subset, limits and state tables.

#include "mqtt/client_session.h"  // IWYU pragma: export
#include "mqtt/codec.h"           // IWYU pragma: export
#include "mqtt/decoder.h"         // IWYU pragma: export
#include "mqtt/error.h"           // IWYU pragma: export
#include "mqtt/limits.h"          // IWYU pragma: export
#include "mqtt/packets.h"         // IWYU pragma: export
#include "mqtt/server_session.h"  // IWYU pragma: export
#include "mqtt/text.h"            // IWYU pragma: export

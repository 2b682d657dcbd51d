#pragma once
// The cloud's E3 receiver as every role builds it: the cloud's E3 key, and
// each enrolled device of the registry with the identity key from its
// certificate.

#include <optional>

#include "cloud/config.h"
#include "common/clock.h"
#include "e3/opener.h"
#include "provision/registry.h"

namespace armored::cloud {

// `state_store` keeps command sequence reservations (null: this process
// never seals commands).
Expected<e3::Opener> load_opener(const CloudConfig& config, const provision::Registry& registry, Clock& clock,
                                 e3::StateStore* state_store);

}  // namespace armored::cloud

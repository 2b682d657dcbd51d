#pragma once
// Internal to src/device: the DeviceSealer over the device SDK's C library
// (device-sdk/include/armored_device.h) with its OpenSSL backend.

#include <filesystem>
#include <memory>

#include "device/device_sealer.h"
#include "e3/sealer.h"

namespace armored::device::internal {

// A sealer for `config` (kid, AEAD, cloud key id, rotation and reservation
// limits as the C++ sealer has them) whose state lives in `state_path`;
// `saved` (empty: none) is what that file held. No epoch is started.
Expected<std::unique_ptr<DeviceSealer>> make_sdk_sealer(const e3::SealerConfig& config,
                                                        crypto::EcPrivateKey identity,
                                                        const crypto::EcPublicKey& cloud_public, Clock& clock,
                                                        std::filesystem::path state_path, ByteSpan saved);

}  // namespace armored::device::internal

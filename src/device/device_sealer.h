#pragma once
// What every simulated device needs before it can seal, shared by the UDP
// fleet (fleet.cpp) and the direct-to-cloud fleet (direct.cpp): the fleet's
// enrolment facts, and per device its identity key, its persisted E3 state
// and a sealer with a current epoch.
//
// Two implementations seal: the C++ sealer of src/e3 and the device SDK's
// C library (device-sdk/, OpenSSL backend), the code firmware runs. Both
// speak the same E3 to the same cloud; the fleet chooses one per run.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "common/rng.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/sealer.h"
#include "provision/registry.h"

namespace armored::device {

struct FleetKeys {
  provision::Registry registry;
  crypto::EcPublicKey cloud_public;
  crypto::AeadAlg alg;
};

// Reads the registry and the cloud's public key from `e3_dir`, checks that
// at least `devices` are enrolled and maps `aead` ("" = the hardware default).
Expected<FleetKeys> load_fleet_keys(const std::filesystem::path& e3_dir, std::size_t devices, const std::string& aead);

// One device's end of E3, whichever code implements it. Contracts are those
// of e3::Sealer (src/e3/sealer.h): a sequence number is persisted before it
// is used, so no nonce repeats across restarts.
class DeviceSealer {
 public:
  virtual ~DeviceSealer() = default;
  // Starts epoch current+1 and returns its signed announcement.
  virtual e3::E3Result<Bytes> start_epoch() = 0;
  // The current epoch's announcement as start_epoch() returned it (to re-send).
  virtual const Bytes& announcement() const = 0;
  virtual bool rotation_due() const = 0;
  virtual std::size_t sealed_size(std::size_t plaintext_size) const = 0;
  // Seals one reading (or command reply) into out_; returns its size.
  virtual e3::E3Result<std::size_t> seal(ByteSpan plaintext, MutableByteSpan out_) = 0;
  // Opens a command from the cloud into out_; the replay window is stored first.
  virtual e3::E3Result<e3::OpenedCommand> open_command(ByteSpan envelope, MutableByteSpan out_) = 0;
  virtual std::uint32_t epoch() const = 0;
  virtual std::uint64_t next_sequence() const = 0;
};

// The C++ sealer of src/e3 as a DeviceSealer.
class CxxSealer final : public DeviceSealer {
 public:
  // A view of `sealer`, which must outlive this.
  explicit CxxSealer(e3::Sealer& sealer) : sealer_(&sealer) {}
  // Owns the sealer and the store it persists to (the sealer refers to it).
  CxxSealer(std::unique_ptr<e3::StateStore> store, e3::Sealer sealer)
      : owned_store_(std::move(store)), owned_(std::move(sealer)), sealer_(&*owned_) {}
  CxxSealer(const CxxSealer&) = delete;
  CxxSealer& operator=(const CxxSealer&) = delete;

  e3::E3Result<Bytes> start_epoch() override { return sealer_->start_epoch(); }
  const Bytes& announcement() const override { return sealer_->announcement(); }
  bool rotation_due() const override { return sealer_->rotation_due(); }
  std::size_t sealed_size(std::size_t n) const override { return sealer_->sealed_size(n); }
  e3::E3Result<std::size_t> seal(ByteSpan pt, MutableByteSpan out_) override { return sealer_->seal(pt, out_); }
  e3::E3Result<e3::OpenedCommand> open_command(ByteSpan env, MutableByteSpan out_) override {
    return sealer_->open_command(env, out_);
  }
  std::uint32_t epoch() const override { return sealer_->epoch(); }
  std::uint64_t next_sequence() const override { return sealer_->next_sequence(); }

 private:
  std::unique_ptr<e3::StateStore> owned_store_;
  std::optional<e3::Sealer> owned_;
  e3::Sealer* sealer_;
};

// Which code seals. kCxx is the default: see docs/pipeline.md ("Which sealer").
enum class SealerKind { kCxx, kDeviceSdk };
std::string_view sealer_name(SealerKind k);  // "cxx", "device-sdk"
std::optional<SealerKind> parse_sealer(std::string_view name);

// The state file of one device for this sealer: <state_dir>/<id>.e3 for the
// C++ sealer, <id>.e3sdk for the device SDK (their formats differ).
std::filesystem::path sealer_state_path(SealerKind k, const std::filesystem::path& state_dir, const std::string& id);

struct OpenedDevice {
  std::unique_ptr<SeededRng> rng;  // the device's own stream (reading generator)
  std::unique_ptr<DeviceSealer> sealer;
};

// Loads <pki_dir>/device/<id>.key, restores the device's state file when
// present and starts a new epoch (every start does, docs/e3-protocol.md 7.1).
// Refuses a state directory holding this device's state from the other
// sealer: starting over at epoch 1 would look stale to the cloud. Errors name
// the device.
Expected<OpenedDevice> open_device_sealer(SealerKind kind, const FleetKeys& keys,
                                          const provision::Enrolment& enrolment,
                                          const std::filesystem::path& pki_dir,
                                          const std::filesystem::path& state_dir, Clock& clock, Rng& sys_rng);

}  // namespace armored::device

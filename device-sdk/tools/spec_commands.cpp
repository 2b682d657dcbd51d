// armored_device_spec_commands: commands sealed by the reference cloud
// (src/e3 Opener) for the device of docs/e3-protocol.md section 13 (epoch 1,
// AES-128-GCM, ephemeral scalar 0x33..), so a device that reproduces the
// example can open them. Writes COUNT times u16 length || envelope.
//
//   armored_device_spec_commands --out FILE [--count N]

#include <fstream>
#include <iostream>
#include <string>

#include "common/clock.h"
#include "common/rng.h"
#include "e3/e3.h"

namespace {

class FixedRng final : public armored::Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), 0x33); }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace armored;
  std::string out_path;
  int count = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--out") out_path = argv[i + 1];
    else if (a == "--count") count = std::stoi(argv[i + 1]);
  }
  if (out_path.empty() || count < 1 || count > 50) {
    std::cerr << "usage: armored_device_spec_commands --out FILE [--count 1..50]\n";
    return 2;
  }
  const Bytes kid = {0x4a, 0x7f, 0x01};
  const Bytes cloud_key_id = {'c', 'l', 'o', 'u', 'd', '-', '1'};
  ManualClock clock;
  FixedRng rng;
  e3::MemoryStateStore device_store, cloud_store;
  auto identity = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x11)).value();
  auto cloud = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x22)).value();
  e3::SealerConfig scfg;
  scfg.kid = kid;
  scfg.cloud_key_id = cloud_key_id;
  scfg.alg = crypto::AeadAlg::kAes128Gcm;
  auto sealer = e3::Sealer::create(scfg, identity, cloud.public_key().value(), clock, rng, device_store).value();
  const Bytes announcement = sealer.start_epoch().value();
  e3::OpenerConfig ocfg;
  ocfg.cloud_key_id = cloud_key_id;
  auto opener = e3::Opener::create(ocfg, cloud, clock, &cloud_store).value();
  if (!opener.add_device({kid, "example-device", identity.public_key().value()}) ||
      !opener.accept_announcement(announcement)) {
    std::cerr << "the reference cloud refused the section 13 announcement\n";
    return 1;
  }
  // docs/commands.md: set_interval seconds=60, id 7 + i, issued_at 1700000000000.
  std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < count; ++i) {
    Bytes cmd = {0xd9, 0xd9, 0xf7, 0xa5, 0x00, 0x01, 0x01, static_cast<std::uint8_t>(7 + i), 0x02, 0x6c};
    for (char c : std::string("set_interval")) cmd.push_back(static_cast<std::uint8_t>(c));
    for (int b : {0x03, 0xa1, 0x67}) cmd.push_back(static_cast<std::uint8_t>(b));
    for (char c : std::string("seconds")) cmd.push_back(static_cast<std::uint8_t>(c));
    for (int b : {0x18, 0x3c, 0x04, 0x1b, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00}) cmd.push_back(static_cast<std::uint8_t>(b));
    Bytes env(cmd.size() + 64);
    auto n = opener.seal_command(kid, cmd, env);
    if (!n) {
      std::cerr << "seal_command: " << n.error().message << "\n";
      return 1;
    }
    const char len[2] = {static_cast<char>(*n >> 8), static_cast<char>(*n & 0xff)};
    f.write(len, 2);
    f.write(reinterpret_cast<const char*>(env.data()), static_cast<std::streamsize>(*n));
  }
  return f ? 0 : 1;
}

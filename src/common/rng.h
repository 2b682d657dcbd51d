#pragma once
// Randomness is injected: production uses SystemRng (the kernel CSPRNG via
// getrandom), tests may use a deterministic generator where the protocol
// allows it. Key generation inside OpenSSL uses OpenSSL's own DRBG.

#include <cstdint>
#include <span>

namespace armored {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
  std::uint64_t next_u64() {
    std::uint64_t v = 0;
    fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
  }
};

class SystemRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

// Deterministic, NOT cryptographic: for tests and simulations (jitter).
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::uint64_t state_;
};

}  // namespace armored

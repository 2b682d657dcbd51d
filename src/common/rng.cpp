#include "common/rng.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace armored {

void SystemRng::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // No randomness means no safe way to continue.
    }
    done += static_cast<std::size_t>(n);
  }
}

void SeededRng::fill(std::span<std::uint8_t> out) {
  for (auto& b : out) {
    // splitmix64
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    b = static_cast<std::uint8_t>(z ^ (z >> 31));
  }
}

}  // namespace armored

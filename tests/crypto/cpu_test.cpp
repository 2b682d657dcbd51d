// Default AEAD choice from the CPU's AES support.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "crypto/cpu.h"

namespace armored::crypto {
namespace {

TEST(Cpu, DefaultAeadFollowsAcceleration) {
  EXPECT_EQ(default_aead_for(true), AeadAlg::kAes128Gcm);
  EXPECT_EQ(default_aead_for(false), AeadAlg::kChaCha20Poly1305);
  EXPECT_EQ(default_aead(), default_aead_for(cpu_has_aes_acceleration()));
}

TEST(Cpu, DetectionMatchesKernelFlags) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string line;
  bool kernel_aes = false, kernel_clmul = false;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0 || line.rfind("Features", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::string w;
      while (words >> w) {
        kernel_aes |= (w == "aes");
        kernel_clmul |= (w == "pclmulqdq" || w == "pmull");
      }
      break;
    }
  }
  // AES-GCM is fast only with both; TLS and E3 ask this one function.
  EXPECT_EQ(cpu_has_aes_acceleration(), kernel_aes && kernel_clmul);
}

}  // namespace
}  // namespace armored::crypto

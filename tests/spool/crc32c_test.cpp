#include "spool/internal/crc32c.h"

#include <gtest/gtest.h>

#include "common/rng.h"

namespace armored::spool {
namespace {

// RFC 3720 (iSCSI) appendix B.4 test vectors, plus the customary "123456789".
TEST(Crc32c, Rfc3720Vectors) {
  Bytes zeros(32, 0x00), ones(32, 0xFF), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<std::uint8_t>(i);
    dec[i] = static_cast<std::uint8_t>(31 - i);
  }
  for (auto fn : {&crc32c, &crc32c_portable}) {
    EXPECT_EQ(fn(zeros, 0), 0x8A9136AAu);
    EXPECT_EQ(fn(ones, 0), 0x62A8AB43u);
    EXPECT_EQ(fn(inc, 0), 0x46DD794Eu);
    EXPECT_EQ(fn(dec, 0), 0x113FDB5Cu);
    EXPECT_EQ(fn(as_bytes("123456789"), 0), 0xE3069283u);
    EXPECT_EQ(fn({}, 0), 0u);
  }
}

TEST(Crc32c, HardwareAndTableAgreeAndChain) {
  SeededRng rng(3);
  Bytes data(4099);
  rng.fill(data);
  for (std::size_t n : {1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4099u}) {
    ByteSpan d(data.data(), n);
    EXPECT_EQ(crc32c(d), crc32c_portable(d)) << n;
    std::size_t half = n / 2;
    EXPECT_EQ(crc32c(d.subspan(half), crc32c(d.first(half))), crc32c(d)) << n;
  }
}

}  // namespace
}  // namespace armored::spool

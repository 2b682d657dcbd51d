// The per-epoch header and AAD templates must write exactly the bytes of the
// reference encoders (write_data_header / write_aad, docs/e3-protocol.md
// sections 3.1 and 7.4) for every kid length, partial IV length, epoch size,
// algorithm and direction.

#include <gtest/gtest.h>

#include "common/hex.h"
#include "e3/framing.h"
#include "e3/oscore.h"

namespace armored::e3 {
namespace {

const std::uint64_t kSequences[] = {0, 1, 23, 24, 255, 256, 0xffff, 0x10000, 0xffffff, 0x1000000, 0xffffffff,
                                    0x100000000, kMaxSequence};
const std::uint32_t kEpochs[] = {0, 1, 23, 24, 255, 256, 0xffff, 0x10000, 0xffffffffu};

TEST(E3Framing, MatchesReferenceEncoders) {
  std::size_t checked = 0;
  for (crypto::AeadAlg alg : crypto::kAllAeads) {
    for (std::size_t kid_len = kMinKidSize; kid_len <= kMaxKidSize; ++kid_len) {
      Bytes kid(kid_len);
      for (std::size_t i = 0; i < kid_len; ++i) kid[i] = static_cast<std::uint8_t>(0xa0 + i);
      for (std::uint32_t epoch : kEpochs) {
        for (MessageType type : {MessageType::kUplink, MessageType::kDownlink}) {
          const DataFraming framing(alg, kid, epoch, type);
          for (std::uint64_t seq : kSequences) {
            SCOPED_TRACE(testing::Message() << "alg " << static_cast<int>(alg) << " kid " << kid_len << " epoch "
                                            << epoch << " seq " << seq);
            Bytes want_hdr(kMaxHeaderSize), got_hdr(kMaxHeaderSize + 1, 0xee);
            const std::size_t want_h =
                write_data_header(type, static_cast<std::uint8_t>(epoch), kid, seq, want_hdr);
            ASSERT_EQ(framing.header_size(seq), want_h);
            ASSERT_EQ(framing.write_header(seq, got_hdr.data()), want_h);
            EXPECT_EQ(to_hex(ByteSpan(got_hdr).first(want_h)), to_hex(ByteSpan(want_hdr).first(want_h)));
            EXPECT_EQ(got_hdr[want_h], 0xee) << "wrote past the header";

            Bytes piv(oscore::partial_iv_size(seq));
            oscore::encode_partial_iv(seq, piv);
            Bytes want_aad(kMaxAadSize), got_aad(kMaxAadSize);
            const std::size_t want_a = write_aad(alg, kid, piv, epoch, type, want_aad);
            ASSERT_GT(want_a, 0u);
            ASSERT_EQ(framing.write_aad(seq, got_aad.data()), want_a);
            EXPECT_EQ(to_hex(ByteSpan(got_aad).first(want_a)), to_hex(ByteSpan(want_aad).first(want_a)));
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4u * 8 * std::size(kEpochs) * 2 * std::size(kSequences));
}

TEST(E3Framing, PartialIvLengthIsMinimal) {
  for (std::uint64_t seq : kSequences) EXPECT_EQ(DataFraming::partial_iv_length(seq), oscore::partial_iv_size(seq));
}

}  // namespace
}  // namespace armored::e3

#pragma once
// The constant parts of one epoch's data envelopes in one direction: the
// header bytes in front of the partial IV and the Enc_structure AAD around
// it (docs/e3-protocol.md sections 3.1 and 7.4). Built once when the epoch's
// keys are derived, so sealing and opening write only what changes per
// message: the partial IV, its length and the external_aad length. The
// bytes are exactly those of write_data_header() and write_aad().

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "e3/wire.h"

namespace armored::e3 {

class DataFraming {
 public:
  DataFraming() = default;
  // kid: 1..kMaxKidSize bytes.
  DataFraming(crypto::AeadAlg alg, ByteSpan kid, std::uint32_t epoch, MessageType type);

  // Header size for this sequence number (2 + kid + partial IV).
  std::size_t header_size(std::uint64_t seq) const { return 2 + kid_size_ + partial_iv_length(seq); }
  // Writes the data header of seq (seq <= kMaxSequence) to out, which holds
  // header_size(seq) bytes; returns that size.
  std::size_t write_header(std::uint64_t seq, std::uint8_t* out) const;
  // Writes the AAD of the message with this sequence number to out (kMaxAadSize
  // bytes) and returns its size. The partial IV is the minimal encoding of seq,
  // as parse_header() enforces, so seq alone fixes it.
  std::size_t write_aad(std::uint64_t seq, std::uint8_t* out) const;

  // Bytes of the minimal big-endian partial IV of seq (1 for 0).
  static std::size_t partial_iv_length(std::uint64_t seq) {
    std::size_t n = 1;
    while ((seq >> (8 * n)) != 0 && n < 8) ++n;
    return n;
  }

 private:
  static constexpr std::size_t kExtHeadMax = 16;  // 0x86 0x01 0x81 alg(<=2) bstr-head kid(<=8)
  static constexpr std::size_t kExtTailMax = 8;   // epoch (<=5) type (1)

  std::array<std::uint8_t, kMaxHeaderSize> header_{};  // flags without PIV length, epoch id, kid
  MessageType type_ = MessageType::kUplink;
  std::uint8_t kid_size_ = 0;
  // external_aad = ext_head_ || bstr(partial IV) || ext_tail_
  std::array<std::uint8_t, kExtHeadMax> ext_head_{};
  std::array<std::uint8_t, kExtTailMax> ext_tail_{};
  std::uint8_t ext_head_size_ = 0;
  std::uint8_t ext_tail_size_ = 0;
};

}  // namespace armored::e3

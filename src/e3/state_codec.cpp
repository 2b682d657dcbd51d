#include "e3/internal/state_codec.h"

#include <algorithm>

namespace armored::e3::codec {

void write_secrets(cbor::Writer& w, const EpochSecrets& s) {
  w.array(4).uint(s.epoch).integer(static_cast<std::int64_t>(s.alg)).bstr(s.master_secret).bstr(s.master_salt);
}

std::optional<EpochSecrets> read_secrets(const cbor::Item& item) {
  using cbor::Type;
  if (item.type != Type::kArray || item.children.size() != 4) return std::nullopt;
  const auto& c = item.children;
  if (c[0].type != Type::kUint || c[0].uint_value > 0xffffffffu || !c[1].is_int() || c[2].type != Type::kBstr ||
      c[2].bytes.size() != kMasterSecretSize || c[3].type != Type::kBstr || c[3].bytes.size() != kMasterSaltSize) {
    return std::nullopt;
  }
  auto alg = c[1].uint_value <= INT64_MAX ? crypto::aead_from_cose(c[1].int_value()) : std::nullopt;
  if (!alg) return std::nullopt;
  EpochSecrets s;
  s.epoch = static_cast<std::uint32_t>(c[0].uint_value);
  s.alg = *alg;
  std::copy(c[2].bytes.begin(), c[2].bytes.end(), s.master_secret.begin());
  std::copy(c[3].bytes.begin(), c[3].bytes.end(), s.master_salt.begin());
  return s;
}

void write_window(cbor::Writer& w, const ReplayWindow& win) {
  w.array(2);
  if (win.empty()) w.null(); else w.uint(win.highest());
  std::uint8_t bits[ReplayWindow::kMaxSize / 8];
  for (std::size_t i = 0; i < win.bits().size(); ++i) {
    for (std::size_t b = 0; b < 8; ++b) bits[i * 8 + b] = static_cast<std::uint8_t>(win.bits()[i] >> (56 - 8 * b));
  }
  w.bstr(bits);
}

bool read_window(const cbor::Item& item, ReplayWindow& win_) {
  using cbor::Type;
  if (item.type != Type::kArray || item.children.size() != 2) return false;
  const auto& c = item.children;
  if ((c[0].type != Type::kUint && c[0].type != Type::kNull) || c[1].type != Type::kBstr ||
      c[1].bytes.size() != ReplayWindow::kMaxSize / 8) {
    return false;
  }
  std::array<std::uint64_t, ReplayWindow::kMaxSize / 64> words{};
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (std::size_t b = 0; b < 8; ++b) words[i] = (words[i] << 8) | c[1].bytes[i * 8 + b];
  }
  const bool any = c[0].type == Type::kUint;
  return win_.restore(any, any ? c[0].uint_value : 0, words);
}

}  // namespace armored::e3::codec

#include "tls/ticket_key_file.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace armored::tls {

namespace {

constexpr std::string_view kMagic = "ARMTKEY1";
constexpr std::size_t kEntryBytes = 16 + 32 + 32 + 8;
constexpr std::size_t kDigestBytes = 32;
// Creation times beyond this (year 2223) cannot be right, and far larger
// ones would overflow the nanosecond clock.
constexpr std::uint64_t kMaxCreated = 8'000'000'000;

std::array<std::uint8_t, kDigestBytes> digest(ByteSpan data) {
  std::array<std::uint8_t, kDigestBytes> d{};
  SHA256(data.data(), data.size(), d.data());
  return d;
}

}  // namespace

Bytes encode_ticket_keys(const std::deque<TicketKey>& keys) {
  Bytes out;
  std::size_t n = std::min(keys.size(), kMaxTicketKeys);
  out.reserve(kMagic.size() + 2 + n * kEntryBytes + kDigestBytes);
  ByteWriter w(out);
  w.str(kMagic);
  w.u16be(static_cast<std::uint16_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const TicketKey& k = keys[i];
    w.bytes(k.name);
    w.bytes(k.aes_key);
    w.bytes(k.hmac_key);
    auto created = static_cast<std::uint64_t>(unix_seconds(k.created));
    w.u32be(static_cast<std::uint32_t>(created >> 32));
    w.u32be(static_cast<std::uint32_t>(created));
  }
  auto d = digest(out);
  w.bytes(d);
  return out;
}

Result<std::deque<TicketKey>, std::string> decode_ticket_keys(ByteSpan file) {
  using Fail = Result<std::deque<TicketKey>, std::string>;
  auto bad = [](std::string why) -> Fail { return unexpected(std::move(why)); };
  if (file.size() < kMagic.size() + 2 + kDigestBytes) return bad("truncated (" + std::to_string(file.size()) + " bytes)");
  ByteSpan body = file.first(file.size() - kDigestBytes);
  auto want = digest(body);
  if (CRYPTO_memcmp(want.data(), file.data() + body.size(), kDigestBytes) != 0) return bad("checksum mismatch");
  ByteReader r(body);
  ByteSpan magic;
  std::uint16_t count = 0;
  if (!r.read_bytes(kMagic.size(), magic) || as_string(magic) != kMagic) return bad("not a ticket key file");
  if (!r.read_u16be(count) || count == 0 || count > kMaxTicketKeys) {
    return bad("key count " + std::to_string(count) + " outside 1.." + std::to_string(kMaxTicketKeys));
  }
  if (r.remaining() != count * kEntryBytes) return bad("length does not match " + std::to_string(count) + " keys");
  std::deque<TicketKey> keys;
  for (std::uint16_t i = 0; i < count; ++i) {
    TicketKey k;
    ByteSpan name, aes, hmac;
    std::uint64_t created = 0;
    if (!r.read_bytes(16, name) || !r.read_bytes(32, aes) || !r.read_bytes(32, hmac) || !r.read_uint_be(8, created)) {
      return bad("truncated key " + std::to_string(i));
    }
    if (created > kMaxCreated) return bad("creation time of key " + std::to_string(i) + " out of range");
    std::copy(name.begin(), name.end(), k.name.begin());
    std::copy(aes.begin(), aes.end(), k.aes_key.begin());
    std::copy(hmac.begin(), hmac.end(), k.hmac_key.begin());
    k.created = Clock::TimePoint{std::chrono::seconds{static_cast<std::int64_t>(created)}};
    bool duplicate = std::any_of(keys.begin(), keys.end(), [&](const TicketKey& o) { return o.name == k.name; });
    if (duplicate) return bad("duplicate key name");
    keys.push_back(k);
  }
  return keys;
}

}  // namespace armored::tls

#include "cloud/internal/shared_e3_state.h"

#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/file_mode.h"
#include "common/hex.h"
#include "common/rng.h"
#include "crypto/secure_zero.h"

namespace armored::cloud {

namespace {
constexpr std::size_t kNonce = 12;
constexpr std::string_view kTicketLabel = "armored tls ticket key v1";

Bytes aad_for(std::string_view label, ByteSpan id) {
  Bytes aad(label.begin(), label.end());
  aad.push_back(static_cast<std::uint8_t>(id.size()));
  aad.insert(aad.end(), id.begin(), id.end());
  return aad;
}

}  // namespace

Expected<SharedE3State> SharedE3State::open(const std::filesystem::path& key_file) {
  std::error_code ec;
  if (!std::filesystem::exists(key_file, ec)) {
    Bytes raw(32);
    SystemRng().fill(raw);
    std::string text = to_hex(raw) + "\n";
    auto w = write_file_exclusive(key_file, ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    if (w) spdlog::info("cloud: created the shared E3 state key {} (copy it to every worker)", key_file.string());
    // Another worker created it first: read theirs.
  }
  ARMORED_TRY(check_private_file(key_file, ExposedFilePolicy::kRefuse, "E3 state key"));
  auto text = read_text_file(key_file, 1024);
  if (!text) return unexpected(text.error());
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  auto key = from_hex(hex);
  if (!key || key->size() != 32) {
    return fail(key_file.string() + ": not an E3 state key (64 hex digits)");
  }
  auto aead = crypto::AeadContext::create(crypto::AeadAlg::kAes256Gcm, *key);
  if (!aead) return fail(std::string("E3 state key: ") + crypto::to_string(aead.error()));
  return SharedE3State(std::move(*aead));
}

Bytes SharedE3State::seal_labeled(std::string_view label, ByteSpan id, ByteSpan data) {
  Bytes out(kNonce + data.size() + 16);
  SystemRng().fill(std::span<std::uint8_t>(out.data(), kNonce));
  const Bytes aad = aad_for(label, id);
  auto n = aead_.seal(ByteSpan(out.data(), kNonce), aad, data, MutableByteSpan(out.data() + kNonce, out.size() - kNonce));
  if (!n) return {};
  out.resize(kNonce + *n);
  return out;
}

std::optional<Bytes> SharedE3State::open_labeled(std::string_view label, ByteSpan id, ByteSpan sealed) const {
  if (sealed.size() < kNonce + 16) return std::nullopt;
  Bytes out(sealed.size() - kNonce - 16);
  const Bytes aad = aad_for(label, id);
  auto n = aead_.open(sealed.first(kNonce), aad, sealed.subspan(kNonce), out);
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

Expected<Bytes> SharedE3State::open_entry(ByteSpan kid, ByteSpan sealed) const {
  auto plain = open_labeled(kEntryLabel, kid, sealed);
  if (!plain) {
    return fail("E3 state entry of " + to_hex(kid) +
                " does not open: sealed under another state key, or altered in the database");
  }
  return std::move(*plain);
}

std::size_t SharedE3State::restore(e3::Opener& opener, const std::vector<store::E3DeviceState>& entries,
                                   bool only_newer) {
  std::size_t restored = 0;
  for (const auto& e : entries) {
    if (only_newer) {
      if (auto held = opener.current_epoch(e.key_id); held && *held >= e.epoch) continue;
    }
    auto plain = open_entry(e.key_id, e.entry);
    if (!plain) {
      spdlog::error("cloud: {}", plain.error().message);
      continue;
    }
    if (auto r = opener.restore_device(*plain); !r) {
      spdlog::error("cloud: E3 state entry of {} does not restore: {}", to_hex(e.key_id), r.error().message);
      continue;
    }
    ++restored;
  }
  return restored;
}

Expected<std::size_t> SharedE3State::load_all(store::Store& store, e3::Opener& opener) {
  auto entries = store.load_e3_states({});
  if (!entries) return fail("E3 state", entries.error());
  return restore(opener, *entries, false);
}

Expected<std::size_t> SharedE3State::refresh(store::Store& store, e3::Opener& opener, std::span<const Bytes> kids) {
  auto entries = store.load_e3_states(kids);
  if (!entries) return fail("E3 state", entries.error());
  return restore(opener, *entries, true);
}

Status SharedE3State::save(store::Store& store, const e3::Opener& opener, std::span<const Bytes> kids) {
  std::vector<store::E3DeviceState> rows;
  rows.reserve(kids.size());
  for (const auto& kid : kids) {
    Bytes entry = opener.serialize_device(kid);
    if (entry.empty()) continue;
    rows.push_back({kid, opener.current_epoch(kid).value_or(0), seal(kid, entry)});
  }
  if (auto r = store.save_e3_states(rows); !r) return fail("E3 state", r.error());
  return {};
}

std::optional<std::deque<tls::TicketKey>> SharedTicketKeys::open_all(const std::vector<store::SealedTicketKey>& rows) {
  std::deque<tls::TicketKey> out;
  for (const auto& r : rows) {
    auto plain = sealer_.open_labeled(kTicketLabel, r.name, r.sealed);
    tls::TicketKey k;
    if (!plain || r.name.size() != k.name.size() || plain->size() != k.aes_key.size() + k.hmac_key.size()) {
      spdlog::warn("cloud: a shared ticket key does not open (another state key, or altered); skipped");
      continue;
    }
    std::copy(r.name.begin(), r.name.end(), k.name.begin());
    std::copy(plain->begin(), plain->begin() + 32, k.aes_key.begin());
    std::copy(plain->begin() + 32, plain->end(), k.hmac_key.begin());
    k.created = Clock::TimePoint{std::chrono::milliseconds{r.created_ms}};
    out.push_back(k);
  }
  return out;
}

std::optional<std::deque<tls::TicketKey>> SharedTicketKeys::load() {
  auto rows = store_->ticket_keys();
  if (!rows) {
    spdlog::warn("cloud: cannot read the shared ticket keys: {}", rows.error().message);
    (void)store_->reconnect();
    return std::nullopt;
  }
  return open_all(*rows);
}

std::optional<std::deque<tls::TicketKey>> SharedTicketKeys::rotate(const tls::TicketKey& candidate,
                                                                   Clock::TimePoint due_before,
                                                                   Clock::TimePoint retired_before) {
  Bytes secret(candidate.aes_key.begin(), candidate.aes_key.end());
  secret.insert(secret.end(), candidate.hmac_key.begin(), candidate.hmac_key.end());
  const Bytes name(candidate.name.begin(), candidate.name.end());
  store::SealedTicketKey row{name, sealer_.seal_labeled(kTicketLabel, name, secret), unix_ms(candidate.created)};
  crypto::secure_zero(secret);
  auto rows = store_->rotate_ticket_key(row, unix_ms(due_before), unix_ms(retired_before));
  if (!rows) {
    spdlog::warn("cloud: cannot rotate the shared ticket keys: {}", rows.error().message);
    (void)store_->reconnect();
    return std::nullopt;
  }
  return open_all(*rows);
}

}  // namespace armored::cloud

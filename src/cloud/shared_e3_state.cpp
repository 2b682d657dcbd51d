#include "cloud/internal/shared_e3_state.h"

#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/file_mode.h"
#include "common/hex.h"
#include "common/rng.h"

namespace armored::cloud {

namespace {
constexpr std::size_t kNonce = 12;
constexpr std::string_view kAadLabel = "armored e3 state v1";

Bytes aad_for(ByteSpan kid) {
  Bytes aad(kAadLabel.begin(), kAadLabel.end());
  aad.push_back(static_cast<std::uint8_t>(kid.size()));
  aad.insert(aad.end(), kid.begin(), kid.end());
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

Bytes SharedE3State::seal(ByteSpan kid, ByteSpan entry) {
  Bytes out(kNonce + entry.size() + 16);
  SystemRng().fill(std::span<std::uint8_t>(out.data(), kNonce));
  const Bytes aad = aad_for(kid);
  auto n = aead_.seal(ByteSpan(out.data(), kNonce), aad, entry, MutableByteSpan(out.data() + kNonce, out.size() - kNonce));
  if (!n) return {};
  out.resize(kNonce + *n);
  return out;
}

Expected<Bytes> SharedE3State::open_entry(ByteSpan kid, ByteSpan sealed) const {
  if (sealed.size() < kNonce + 16) return fail("E3 state entry of " + to_hex(kid) + " is truncated");
  Bytes out(sealed.size() - kNonce - 16);
  const Bytes aad = aad_for(kid);
  auto n = aead_.open(sealed.first(kNonce), aad, sealed.subspan(kNonce), out);
  if (!n) {
    return fail("E3 state entry of " + to_hex(kid) +
                " does not open: sealed under another state key, or altered in the database");
  }
  out.resize(*n);
  return out;
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

}  // namespace armored::cloud

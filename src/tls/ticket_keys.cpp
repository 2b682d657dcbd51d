#include "tls/ticket_keys.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "common/file_io.h"
#include "common/log.h"
#include "tls/ticket_key_file.h"

namespace armored::tls {

namespace {
// Keys dated this far after our clock are accepted (clock steps, NTP).
constexpr auto kFutureSkew = std::chrono::minutes(5);
constexpr std::size_t kMaxKeyFileBytes = 16 * 1024;
}  // namespace

TicketKeyRing::TicketKeyRing(std::chrono::seconds rotation, std::chrono::seconds ticket_lifetime,
                             std::filesystem::path key_file, Clock::TimePoint now)
    : rotation_(rotation), lifetime_(ticket_lifetime), file_(std::move(key_file)) {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return;
  auto data = read_file(file_, kMaxKeyFileBytes);
  if (!data) {
    spdlog::warn("tls: ignoring ticket key file {}: {}", file_.string(), data.error().message);
    return;
  }
  auto keys = decode_ticket_keys(*data);
  if (!keys) {
    spdlog::warn("tls: ignoring ticket key file {}: {}", file_.string(), keys.error());
    return;
  }
  std::size_t future = 0;
  for (const TicketKey& k : *keys) {
    if (k.created > now + kFutureSkew) {
      ++future;
      continue;
    }
    keys_.push_back(k);
  }
  if (future > 0) spdlog::warn("tls: ignoring {} ticket key(s) in {} dated in the future", future, file_.string());
  std::sort(keys_.begin(), keys_.end(), [](const TicketKey& a, const TicketKey& b) { return a.created > b.created; });
  std::lock_guard lock(mu_);
  expire_locked(now);
}

TicketKeyRing::TicketKeyRing(std::chrono::seconds rotation, std::chrono::seconds ticket_lifetime,
                             std::shared_ptr<TicketKeySource> source, Clock::TimePoint now)
    : rotation_(rotation), lifetime_(ticket_lifetime), source_(std::move(source)) {
  std::lock_guard lock(mu_);
  if (auto keys = source_->load()) adopt_locked(std::move(*keys), now);
}

// The shared keys replace ours: they include every key ours could have
// sealed a live ticket with, since this server added its keys there too.
void TicketKeyRing::adopt_locked(std::deque<TicketKey> keys, Clock::TimePoint now) {
  std::erase_if(keys, [&](const TicketKey& k) { return k.created > now + kFutureSkew; });
  std::sort(keys.begin(), keys.end(), [](const TicketKey& a, const TicketKey& b) { return a.created > b.created; });
  keys_ = std::move(keys);
  expire_locked(now);
}

void TicketKeyRing::save_locked() {
  if (file_.empty()) return;
  // A failed save costs only resumption across the next restart.
  if (auto st = write_file_atomic(file_, encode_ticket_keys(keys_), 0600); !st) {
    spdlog::warn("tls: cannot save ticket keys to {}: {}", file_.string(), st.error().message);
  }
}

void TicketKeyRing::rotate_locked(Clock::TimePoint now) {
  TicketKey k;
  auto local = [&] {
    keys_.push_front(k);
    save_locked();
  };
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.aes_key.data(), static_cast<int>(k.aes_key.size())) != 1 ||
      RAND_bytes(k.hmac_key.data(), static_cast<int>(k.hmac_key.size())) != 1) {
    // Without randomness no ticket can be sealed safely; the caller then
    // issues no ticket (full handshakes only).
    throw std::runtime_error("RAND_bytes failed for ticket key");
  }
  k.created = now;
  if (!source_) return local();
  if (auto shared = source_->rotate(k, now - rotation_, now - rotation_ - lifetime_)) {
    adopt_locked(std::move(*shared), now);
    if (!keys_.empty() && keys_.front().created + rotation_ > now) return;
  }
  // The shared keys cannot be reached: tickets from this key resume only here.
  spdlog::warn("tls: shared ticket keys unavailable; this server rotates on its own until they are back");
  local();
}

void TicketKeyRing::expire_locked(Clock::TimePoint now) {
  // A key stops encrypting at created + rotation; tickets it sealed live at
  // most `lifetime_` longer.
  while (!keys_.empty() && keys_.back().created + rotation_ + lifetime_ <= now) keys_.pop_back();
}

TicketKey TicketKeyRing::encryption_key(Clock::TimePoint now) {
  std::lock_guard lock(mu_);
  expire_locked(now);
  if (keys_.empty() || keys_.front().created + rotation_ <= now) rotate_locked(now);
  return keys_.front();
}

std::optional<TicketKeyRing::Found> TicketKeyRing::decryption_key(
    const std::array<std::uint8_t, 16>& name, Clock::TimePoint now) {
  std::lock_guard lock(mu_);
  expire_locked(now);
  auto find = [&]() -> std::optional<Found> {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].name == name) {
        bool current = i == 0 && keys_[i].created + rotation_ > now;
        return Found{keys_[i], current};
      }
    }
    return std::nullopt;
  };
  if (auto f = find()) return f;
  // A key another server made since we last looked; at most once a second,
  // so a flood of made-up ticket names cannot turn into a flood of reads.
  if (source_ && now - reloaded_at_ >= std::chrono::seconds(1)) {
    reloaded_at_ = now;
    if (auto keys = source_->load()) adopt_locked(std::move(*keys), now);
    return find();
  }
  return std::nullopt;
}

std::size_t TicketKeyRing::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace armored::tls

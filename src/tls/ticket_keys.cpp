#include "tls/ticket_keys.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace armored::tls {

void TicketKeyRing::rotate_locked(Clock::TimePoint now) {
  TicketKey k;
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.aes_key.data(), static_cast<int>(k.aes_key.size())) != 1 ||
      RAND_bytes(k.hmac_key.data(), static_cast<int>(k.hmac_key.size())) != 1) {
    // Without randomness no ticket can be sealed safely; the caller then
    // issues no ticket (full handshakes only).
    throw std::runtime_error("RAND_bytes failed for ticket key");
  }
  k.created = now;
  keys_.push_front(k);
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
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].name == name) {
      bool current = i == 0 && keys_[i].created + rotation_ > now;
      return Found{keys_[i], current};
    }
  }
  return std::nullopt;
}

std::size_t TicketKeyRing::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace armored::tls

#include "tls/replay_register.h"

namespace armored::tls {

bool ReplayRegister::admit(const Key& key, Clock::TimePoint now) {
  std::lock_guard lock(mu_);
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    seen_.erase(expiry_.begin()->second);
    expiry_.erase(expiry_.begin());
  }
  if (seen_.count(key) != 0) return false;
  if (seen_.size() >= capacity_) return false;
  seen_.insert(key);
  expiry_.emplace(now + lifetime_, key);
  return true;
}

std::size_t ReplayRegister::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

}  // namespace armored::tls

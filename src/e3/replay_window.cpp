#include "e3/replay_window.h"

#include <algorithm>

namespace armored::e3 {

Result<void, E3Error> ReplayWindow::check_within(std::uint64_t seq) const {
  const std::uint64_t offset = highest_ - seq;
  if (offset >= size_) return e3_fail(E3Errc::kTooOld, "sequence number left of the replay window");
  if (test(offset)) return e3_fail(E3Errc::kReplayed, "sequence number already received");
  return {};
}

void ReplayWindow::shift(std::uint64_t by) {
  // Only the words that hold the window are live; the rest stay zero.
  const std::size_t live = (size_ + 63) / 64;
  if (by >= live * 64) {
    std::fill(bits_.begin(), bits_.begin() + live, 0);
    return;
  }
  const std::size_t words = static_cast<std::size_t>(by / 64);
  const unsigned bits = static_cast<unsigned>(by % 64);
  for (std::size_t i = live; i-- > 0;) {
    std::uint64_t v = 0;
    if (i >= words) {
      v = bits_[i - words] << bits;
      if (bits != 0 && i > words) v |= bits_[i - words - 1] >> (64 - bits);
    }
    bits_[i] = v;
  }
}

void ReplayWindow::mark_slow(std::uint64_t seq) {
  if (!any_) {
    any_ = true;
    highest_ = seq;
    bits_.fill(0);
    bits_[0] = 1;
    return;
  }
  if (seq > highest_) {
    shift(seq - highest_);
    highest_ = seq;
    bits_[0] |= 1;
    return;
  }
  const std::uint64_t offset = highest_ - seq;
  if (offset < size_) bits_[offset / 64] |= std::uint64_t{1} << (offset % 64);
}

bool ReplayWindow::restore(bool any, std::uint64_t highest, const std::array<std::uint64_t, kMaxSize / 64>& bits) {
  if (!any && (highest != 0)) return false;
  any_ = any;
  highest_ = highest;
  bits_ = bits;
  return true;
}

}  // namespace armored::e3

#pragma once
// Sliding replay window (RFC 8613 7.4, in the style of RFC 4303 3.4.3): the
// highest accepted sequence number and a bitmap of the `size` numbers at and
// below it. Checking and marking are separate so a number is marked only
// after its message authenticated.

#include <array>
#include <cstdint>

#include "e3/error.h"

namespace armored::e3 {

class ReplayWindow {
 public:
  static constexpr std::size_t kMaxSize = 1024;

  explicit ReplayWindow(std::size_t size = 64) : size_(size) {}

  std::size_t size() const { return size_; }
  // kReplayed if already seen, kTooOld if left of the window, else ok.
  // The in-order case (a number above the highest) is decided inline.
  Result<void, E3Error> check(std::uint64_t seq) const {
    if (!any_ || seq > highest_) return {};
    return check_within(seq);
  }
  // Records seq as seen (only after authentication). Any order; a number
  // left of the window is ignored.
  void mark(std::uint64_t seq) {
    // In-order arrival with one live word (the default 64) is the common case.
    if (any_ && seq > highest_ && size_ <= 64) {
      const std::uint64_t by = seq - highest_;
      bits_[0] = (by >= 64 ? 0 : bits_[0] << by) | 1u;
      highest_ = seq;
      return;
    }
    mark_slow(seq);
  }

  bool empty() const { return !any_; }
  std::uint64_t highest() const { return highest_; }
  const std::array<std::uint64_t, kMaxSize / 64>& bits() const { return bits_; }
  // Restores persisted state; false if inconsistent.
  bool restore(bool any, std::uint64_t highest, const std::array<std::uint64_t, kMaxSize / 64>& bits);

 private:
  Result<void, E3Error> check_within(std::uint64_t seq) const;
  void mark_slow(std::uint64_t seq);
  bool test(std::uint64_t offset) const { return (bits_[offset / 64] >> (offset % 64)) & 1u; }
  void shift(std::uint64_t by);

  std::size_t size_;
  bool any_ = false;
  std::uint64_t highest_ = 0;
  // Bit i set: highest_ - i was accepted.
  std::array<std::uint64_t, kMaxSize / 64> bits_{};
};

}  // namespace armored::e3

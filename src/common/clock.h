#pragma once
// Time is injected (as in fizz and ngtcp2): protocol code never asks the OS.
// Replay windows, ticket ages, keep-alives and epoch rotation take a Clock&
// so tests drive them deterministically with ManualClock.

#include <chrono>
#include <cstdint>

namespace armored {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;
  virtual ~Clock() = default;
  // Wall-clock time (used for certificates, tickets and reading timestamps).
  virtual TimePoint now() const = 0;
  // Monotonic time for intervals and timeouts.
  virtual Duration monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  Duration monotonic() const override {
    return std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{std::chrono::seconds{1'700'000'000}})
      : now_(start) {}
  TimePoint now() const override { return now_; }
  Duration monotonic() const override { return mono_; }
  void advance(Duration d) {
    now_ += d;
    mono_ += d;
  }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
  Duration mono_{0};
};

inline std::int64_t unix_seconds(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Milliseconds since 1970: the unit of every time the store keeps.
inline std::int64_t unix_ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace armored

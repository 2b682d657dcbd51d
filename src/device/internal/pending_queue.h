#pragma once
// The simulator's per-device queue of unanswered messages. At 200,000
// readings/s the fleet must not allocate per reading: a sealed reading (about
// 80 bytes) is kept inline, and the queue is a ring that only grows, so a
// device in steady state neither mallocs nor frees. Larger messages (epoch
// announcements, command replies) fall back to the heap.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace armored::device {

// Bytes with room for a sealed reading inline.
class MessageBytes {
 public:
  static constexpr std::size_t kInline = 112;

  MessageBytes() = default;
  explicit MessageBytes(ByteSpan b) { assign(b); }
  MessageBytes(MessageBytes&& o) noexcept { *this = std::move(o); }
  MessageBytes& operator=(MessageBytes&& o) noexcept {
    size_ = o.size_;
    heap_ = std::move(o.heap_);
    if (!heap_) std::memcpy(inline_.data(), o.inline_.data(), size_);
    o.size_ = 0;
    return *this;
  }
  MessageBytes(const MessageBytes&) = delete;
  MessageBytes& operator=(const MessageBytes&) = delete;

  void assign(ByteSpan b) {
    size_ = b.size();
    if (size_ <= kInline) {
      heap_.reset();
      std::copy(b.begin(), b.end(), inline_.begin());
    } else {
      heap_ = std::make_unique<std::uint8_t[]>(size_);
      std::copy(b.begin(), b.end(), heap_.get());
    }
  }
  const std::uint8_t* data() const { return heap_ ? heap_.get() : inline_.data(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::uint8_t* begin() const { return data(); }
  const std::uint8_t* end() const { return data() + size_; }
  std::uint8_t operator[](std::size_t i) const { return data()[i]; }
  ByteSpan span() const { return ByteSpan(data(), size_); }

 private:
  std::size_t size_ = 0;
  std::unique_ptr<std::uint8_t[]> heap_;
  std::array<std::uint8_t, kInline> inline_{};
};

// A FIFO over a power-of-two ring that doubles when full and halves when it
// is mostly empty again (a backlog after an outage must not pin its memory).
template <typename T>
class RingQueue {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return buf_.size(); }
  T& operator[](std::size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  const T& operator[](std::size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  T& front() { return buf_[head_]; }

  void push_back(T v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(v);
    ++size_;
  }
  void pop_front() {
    buf_[head_] = T{};  // releases a heap-held message now, not when overwritten
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
    if (buf_.size() > kKeep && size_ < buf_.size() / 8) resize(buf_.size() / 2);
  }
  // Removes element i, keeping the order of the rest (answers usually come
  // in order, so this is almost always the front).
  void erase(std::size_t i) {
    if (i == 0) return pop_front();
    for (std::size_t j = i; j + 1 < size_; ++j) (*this)[j] = std::move((*this)[j + 1]);
    (*this)[size_ - 1] = T{};
    --size_;
  }

 private:
  static constexpr std::size_t kKeep = 16;  // never shrinks below this
  void grow() { resize(std::max<std::size_t>(4, buf_.size() * 2)); }
  void resize(std::size_t capacity) {
    std::vector<T> next(capacity);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
    buf_ = std::move(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace armored::device

#pragma once
// Asking an io_context's thread for a copy of its state from another
// thread (metrics scrapes, the dashboard): the state is only ever touched
// on its own thread, and the asking thread waits a bounded time.
//
// Header-only; its users link armored_asio.

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace armored {

// Runs `f` on `io`'s thread and waits up to `timeout` for its result.
// nullopt if it did not run in time, or never will (the loop stopped and
// dropped it: the broken promise makes the future ready with an error).
// Never call it from `io`'s own thread: it would wait for itself.
template <class F>
auto call_on_loop(asio::io_context& io, F f, std::chrono::milliseconds timeout) -> std::optional<decltype(f())> {
  using R = decltype(f());
  auto done = std::make_shared<std::promise<R>>();
  auto result = done->get_future();
  asio::post(io, [done, f = std::move(f)]() mutable { done->set_value(f()); });
  if (result.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  try {
    return result.get();
  } catch (const std::future_error&) {
    return std::nullopt;
  }
}

// The thread that runs an io_context, for owners whose state other threads
// ask about (the cloud's and gateway's status for metrics and the
// dashboard). Call enter() on that thread before io.run() and leave() after.
class LoopThread {
 public:
  void enter() {
    id_ = std::this_thread::get_id();
    running_ = true;
  }
  void leave() { running_ = false; }
  // `f`'s result, computed on the loop's thread: directly when called there
  // or while the loop is not running (nothing else touches the state then),
  // else through call_on_loop. nullopt if the loop did not answer in time.
  template <class F>
  auto ask(asio::io_context& io, F f, std::chrono::milliseconds timeout) const -> std::optional<decltype(f())> {
    if (!running_ || std::this_thread::get_id() == id_) return f();
    return call_on_loop(io, std::move(f), timeout);
  }

 private:
  std::atomic<bool> running_{false};
  std::thread::id id_;
};

// What other threads are told of a loop's state (a status snapshot): a
// fresh copy when the loop answers in time, else the last copy given.
// Askers take turns, so a copy handed out is never older than one handed
// out before it: counters seen from outside never go back.
template <class T>
class LoopCopy {
 public:
  template <class F>
  T get(const LoopThread& loop, asio::io_context& io, F snapshot, std::chrono::milliseconds timeout) {
    std::lock_guard lk(mu_);
    if (auto s = loop.ask(io, std::move(snapshot), timeout)) last_ = std::move(*s);
    return last_;
  }

 private:
  std::mutex mu_;
  T last_{};
};

}  // namespace armored

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

}  // namespace armored

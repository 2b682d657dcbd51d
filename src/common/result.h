#pragma once
// Result<T, E>: the one error-returning type of Armored (C++20 has no
// std::expected). Hot paths return it instead of throwing. E is usually a
// component's Error struct: an enum class code plus a short static message;
// at a component's edge it becomes the general Error below.

#include <cassert>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace armored {

template <typename E>
struct Unexpected {
  E error;
};

template <typename E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return {std::forward<E>(e)};
}

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  template <typename G>
  Result(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& { assert(!has_value()); return std::get<1>(v_); }
  E&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

// Result<void, E>: success carries nothing.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <typename G>
  Result(Unexpected<G> u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const { assert(ok_); }
  const E& error() const& { assert(!ok_); return err_; }

 private:
  E err_{};
  bool ok_ = true;
};

// Who can fix a failure; the CLI's exit code follows from it
// (src/cli/command.h).
enum class ErrorKind : std::uint8_t {
  kBadInput,  // the caller can fix it: bad usage, a missing or malformed file,
              // a configuration value out of range. Exit 2.
  kFailed,    // the operation ran and failed: a port taken, a database that
              // would not open, a disk that refused a write. Exit 1.
};

// The general error, and the one that crosses into the CLI. A component
// error converts into it with fail(e) or fail(context, e), keeping its
// component and code; each typed error (pki::Error, store::StoreError, ...)
// declares a to_error() beside itself for that. fail("message") makes a
// message-only error: no component, no code, bad input.
struct Error {
  std::string message;
  std::string_view component = {};  // static: "store", "pki", "e3", ...; empty when message-only
  std::string_view code = {};       // static snake_case name, stable for scripts; empty when message-only
  ErrorKind kind = ErrorKind::kBadInput;
};

template <typename T>
using Expected = Result<T, Error>;
using Status = Result<void, Error>;

inline Error to_error(Error e) { return e; }

// A typed error that converts into Error: to_error(e) is found beside E.
template <typename E>
concept ConvertsToError = requires(const E& e) {
  { to_error(e) } -> std::same_as<Error>;
};

inline Unexpected<Error> fail(std::string message) { return {Error{std::move(message)}}; }

// Crosses a typed error (or an Error) into Error, code and all.
template <ConvertsToError E>
Unexpected<Error> fail(const E& e) {
  return {to_error(e)};
}

// The same, naming where it happened: the message becomes
// "<context>: <message>".
template <ConvertsToError E>
Unexpected<Error> fail(std::string_view context, const E& e) {
  Error out = to_error(e);
  out.message = std::string(context) + ": " + out.message;
  return {std::move(out)};
}

}  // namespace armored

// Propagate an error from an expression that yields a Result.
#define ARMORED_TRY(expr)                                        \
  do {                                                           \
    auto&& armored_try_r_ = (expr);                              \
    if (!armored_try_r_) return ::armored::unexpected(armored_try_r_.error()); \
  } while (0)

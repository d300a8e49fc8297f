/// @file
/// Partial results of a map step (map_step.hpp). Given `lf::keep_going`, a map step whose elements
/// fail still succeeds, and its output holds each element's outcome: its result, or the error its
/// last attempt threw. Dependents decide what a failed element means.
/// @code
///   lf::map_step<"parse", "list">(parse_csv, lf::keep_going)  // output: std::vector<lf::outcome<table>>
///   f.map("parse", "list", parse_csv, lf::keep_going);       // the same in a runtime flow
///
///   for (const lf::outcome<table>& day : days)
///     if (day) use(*day); else log(lf::describe(day.error()));
/// @endcode
/// A checkpoint keeps a failed outcome's message only: restored, its error is an lf::restored_error
/// with that message. (A cancelled run's elements that did not run still fail the step.)
#ifndef LIGHTFLOW_OUTCOME_HPP
#define LIGHTFLOW_OUTCOME_HPP

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lightflow/binary_codec.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/type_tag.hpp"

namespace lightflow {

/// The type of `lf::keep_going`, which asks a map step for its elements' outcomes.
struct keep_going_t {
  explicit keep_going_t() = default;
};
/// Asks a map step to succeed whatever its elements do, its output the outcome of each.
inline constexpr keep_going_t keep_going{};

/// One element's outcome: its result (`ok()`), or the error it failed with (`error()`).
template <class T>
class outcome {
 public:
  /// Neither a result nor an error (what a checkpoint restores a failed outcome without an error as).
  outcome() = default;
  /// A result, made from `args`.
  template <class... Args>
  explicit outcome(std::in_place_t, Args&&... args) : value_(std::in_place, std::forward<Args>(args)...) {}
  /// A failure.
  explicit outcome(std::exception_ptr error) noexcept : error_(std::move(error)) {}

  /// Whether the element succeeded.
  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }  ///< ok()
  /// The element's result; rethrows its error when it failed.
  const T& value() const& { return check(), *value_; }
  T& value() & { return check(), *value_; }               ///< The same.
  T&& value() && { return check(), std::move(*value_); }  ///< The same, moved out.
  /// The result, unchecked.
  const T& operator*() const& noexcept { return *value_; }
  T& operator*() & noexcept { return *value_; }              ///< The same.
  const T* operator->() const noexcept { return &*value_; }  ///< The result's members, unchecked.
  T* operator->() noexcept { return &*value_; }              ///< The same.
  /// Why the element failed (null when it succeeded).
  const std::exception_ptr& error() const noexcept { return error_; }

 private:
  void check() const {
    if (value_) return;
    if (error_ != nullptr) std::rethrow_exception(error_);
    throw usage_error("lightflow: an empty outcome has no value");
  }
  std::optional<T> value_;
  std::exception_ptr error_;
};

/// The outcome of an element whose callable returns nothing.
template <>
class outcome<void> {
 public:
  outcome() = default;                                                               ///< Neither.
  explicit outcome(std::in_place_t) noexcept : ok_(true) {}                          ///< A success.
  explicit outcome(std::exception_ptr error) noexcept : error_(std::move(error)) {}  ///< A failure.
  bool ok() const noexcept { return ok_; }                                           ///< Whether the element succeeded.
  explicit operator bool() const noexcept { return ok_; }                            ///< ok()
  /// Rethrows the element's error when it failed.
  void value() const {
    if (ok_) return;
    if (error_ != nullptr) std::rethrow_exception(error_);
    throw usage_error("lightflow: an empty outcome has no value");
  }
  const std::exception_ptr& error() const noexcept { return error_; }  ///< Why it failed (null: it did not).

 private:
  bool ok_ = false;
  std::exception_ptr error_;
};

/// @cond LIGHTFLOW_INTERNAL
namespace detail {
struct outcome_prefix {
  static constexpr std::string_view name = "lightflow::outcome";
};
// A failed outcome's error as a checkpoint keeps it: its message.
inline void write_failure(binary_writer& w, const std::exception_ptr& error) {
  const std::string text = error != nullptr ? lightflow::describe(error) : std::string();
  binary_codec<std::string>::write(w, text);
}
inline std::exception_ptr read_failure(binary_reader& r) {
  std::string text;
  binary_codec<std::string>::read(r, text);
  return text.empty() ? nullptr : std::make_exception_ptr(restored_error(text));
}
}  // namespace detail

template <type_tagged T>
struct type_tag<outcome<T>> : detail::template_tag<detail::outcome_prefix, T> {};
template <>
struct type_tag<outcome<void>> {
  static constexpr std::string_view name = "lightflow::outcome<void>";
};

/// An outcome in a checkpoint: a byte (1: a result, 0: a failure), then the result or the error's message.
template <class T>
struct binary_codec<outcome<T>> {
  static void write(binary_writer& w, const outcome<T>& o) {
    w.integer(static_cast<std::uint8_t>(o.ok() ? 1 : 0));
    if constexpr (std::is_void_v<T>) {
      if (!o.ok()) detail::write_failure(w, o.error());
    } else {
      if (o.ok())
        binary_codec<T>::write(w, *o);
      else
        detail::write_failure(w, o.error());
    }
  }
  static void read(binary_reader& r, outcome<T>& o) {
    bool ok = false;
    binary_codec<bool>::read(r, ok);
    if (!ok) {
      o = outcome<T>(detail::read_failure(r));
    } else if constexpr (std::is_void_v<T>) {
      o = outcome<T>(std::in_place);
    } else {
      T value{};
      binary_codec<T>::read(r, value);
      o = outcome<T>(std::in_place, std::move(value));
    }
  }
};
/// @endcond

}  // namespace lightflow

#endif

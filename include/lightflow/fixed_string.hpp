// A string usable as a template argument: the names of steps and flows.
#ifndef LIGHTFLOW_FIXED_STRING_HPP
#define LIGHTFLOW_FIXED_STRING_HPP

#include <cstddef>
#include <string_view>

#include "lightflow/config.hpp"

namespace lightflow {

/// A compile-time string of N bytes (UTF-8 welcome); `step<"name">` takes these.
template <std::size_t N>
struct fixed_string {
  /// The bytes and a final '\0'; public so the type is structural (usable as a template argument).
  char chars[N + 1]{};

  constexpr fixed_string() noexcept = default;
  /// From a string literal (implicit, so `step<"load">` works).
  constexpr fixed_string(const char (&text)[N + 1]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i != N + 1; ++i) chars[i] = text[i];
  }
  /// N, the length without the final '\0'.
  static constexpr std::size_t size() noexcept { return N; }
  /// The text.
  constexpr std::string_view view() const noexcept { return {chars, N}; }
  /// The text, '\0'-terminated.
  constexpr const char* c_str() const noexcept { return chars; }
  /// The text.
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT

  /// Same text (of any length).
  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

/// A literal of N chars (its final '\0' included) makes a fixed_string<N - 1>.
template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

}  // namespace lightflow

#endif

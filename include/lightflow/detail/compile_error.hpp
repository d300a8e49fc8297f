// How lightflow reports a mistake at compile time: the message is spelled inside the name of a type
// that is never defined, so the compiler's error line carries it.
#ifndef LIGHTFLOW_DETAIL_COMPILE_ERROR_HPP
#define LIGHTFLOW_DETAIL_COMPILE_ERROR_HPP

#include <cstddef>
#include <string_view>
#include <utility>

#include "lightflow/config.hpp"
#include "lightflow/fixed_string.hpp"

namespace lightflow {

/// Types a step's callable was offered, listed in a compile error when it cannot take them.
template <class... Types>
struct offered {};

#if LIGHTFLOW_CLANG
// clang 14 prints a string template argument as a list of numbers, but a pack of chars as
// characters, so on clang the message is spelled one character at a time.
template <class Details, char... Message>
struct compile_error;  // never defined: read the message in its template arguments
#else
template <fixed_string Message, class... Details>
struct compile_error;  // never defined: read the message in its template arguments
#endif

namespace detail {

/// A growable-in-place text for composing messages in constant evaluation.
struct text_buffer {
  static constexpr std::size_t capacity = 2048;
  char data[capacity]{};
  std::size_t size = 0;

  constexpr text_buffer& operator<<(std::string_view s) noexcept {
    for (char c : s) {
      if (size + 4 >= capacity) {  // keep room for the ellipsis
        if (size + 3 < capacity) data[size++] = '.', data[size++] = '.', data[size++] = '.';
        return *this;
      }
      data[size++] = c;
    }
    return *this;
  }
  constexpr text_buffer& quoted(std::string_view s) noexcept { return *this << "\"" << s << "\""; }
};

template <text_buffer Text>
consteval auto to_fixed_string() {
  fixed_string<Text.size> out{};
  for (std::size_t i = 0; i != Text.size; ++i) out.chars[i] = Text.data[i];
  return out;
}

#if LIGHTFLOW_CLANG
template <class Details, fixed_string Message, std::size_t... I>
auto spell(std::index_sequence<I...>) -> compile_error<Details, Message.chars[I]...>;
/// The never-defined type whose name carries `Message`; `Details` (an `offered<...>`) is listed beside it.
template <fixed_string Message, class Details>
using error_type = decltype(spell<Details, Message>(std::make_index_sequence<Message.size()>{}));
#else
template <fixed_string Message, class Details>
using error_type = compile_error<Message, Details>;
#endif

/// The error that carries `Message`.
template <fixed_string Message, class Details>
constexpr void report() {
  error_type<Message, Details>::see_the_message_in_this_type_name();  // <- what is wrong, in words
}

/// Stops compilation with `Message` (and `Details`), from a check that is being evaluated at compile
/// time: the call itself is valid in a constant expression, so the check still returns its answer
/// (false) and its caller stops quietly, and the message is the one error printed. It names report<>
/// without calling it, which makes the compiler instantiate report, and print the message, later
/// (g++: at the end of the file, with the chain of instantiations that led to it).
template <fixed_string Message, class Details = offered<>>
constexpr void fail() {
  (void)&report<Message, Details>;
}

/// What an operation returns after it has reported a compile error: it converts to anything (the
/// conversion is never defined), so that the caller's code adds no error of its own.
struct no_value {
  template <class T>
  operator T() const;
};

/// Stops compilation with `Message` (and `Details`) at once, from code that is not evaluated at
/// compile time (a function a user calls: flow(), result.get<>()): its deduced return type makes the
/// compiler instantiate it where it is called, so the message comes before any error in the caller's
/// code. Returns a `Result` for the caller to return (a no_value, an invalid_flow).
template <fixed_string Message, class Details = offered<>, class Result = no_value>
constexpr auto raise() {
  error_type<Message, Details>::see_the_message_in_this_type_name();  // <- what is wrong, in words
  return Result{};
}

}  // namespace detail
}  // namespace lightflow

#endif

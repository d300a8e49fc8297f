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
/// Stops compilation with `Message`; `Details` (an `offered<...>`) is listed beside it.
template <fixed_string Message, class Details = offered<>>
constexpr void fail() {
  using error = decltype(spell<Details, Message>(std::make_index_sequence<Message.size()>{}));
  error::see_the_message_in_this_type_name();  // <- the error's template arguments spell what is wrong
}
#else
/// Stops compilation with `Message`; `Details` (an `offered<...>`) is listed beside it.
template <fixed_string Message, class Details = offered<>>
constexpr void fail() {
  compile_error<Message, Details>::see_the_message_in_this_type_name();  // <- what is wrong, in words
}
#endif

}  // namespace detail
}  // namespace lightflow

#endif

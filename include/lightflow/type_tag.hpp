/// @file
/// The name a checkpoint gives a type: declared by the program, the same from every compiler, so
/// that a checkpoint written by a g++ build resumes under a clang build (and after an upgrade). The
/// compiler's own spelling of a type differs between compilers (`std::__cxx11::basic_string<char>`
/// and `std::basic_string<char>`, `long int` and `long`), so it is never used unless asked for.
///
/// Built in: the arithmetic types ("int", "unsigned long", "double", ...), `std::byte`, the
/// standard strings ("std::string", ...), and the standard containers the binary serializer knows
/// ("std::vector<int>", "std::map<std::string, double>", "std::array<int, 3>", "std::optional<...>",
/// "std::pair<...>", "std::tuple<...>", "std::variant<...>", with their default allocators,
/// comparators and hashes). A type of your own is named by one of:
/// @code
///   struct order {
///     static constexpr std::string_view lightflow_type_name = "shop.order";   // a member, or
///     ...
///   };
///   template <> struct lightflow::type_tag<other::invoice> {                   // for a type you
///     static constexpr std::string_view name = "billing.invoice";              // cannot change
///   };
///   template <> struct lightflow::type_tag<legacy::thing>                       // the compiler's
///       : lightflow::compiler_type_tag<legacy::thing> {};                      // spelling (opt-in)
/// @endcode
/// A name must be unique in the program and must not change while checkpoints that hold it exist.
#ifndef LIGHTFLOW_TYPE_TAG_HPP
#define LIGHTFLOW_TYPE_TAG_HPP

#include <array>
#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "lightflow/detail/type_name.hpp"

namespace lightflow {

/// A type's checkpoint name: specialize with `static constexpr std::string_view name`. The primary
/// has no name; the built-in names are listed at the top of this file.
template <class T>
struct type_tag {};

/// A type whose checkpoint name is its member `lightflow_type_name`.
template <class T>
  requires requires {
    { T::lightflow_type_name } -> std::convertible_to<std::string_view>;
  }
struct type_tag<T> {
  static constexpr std::string_view name = T::lightflow_type_name;  ///< T's own name.
};

/// Derive a `type_tag` specialization from this to name a type by the compiler's spelling: not
/// portable between compilers or their versions.
template <class T>
struct compiler_type_tag {
  static constexpr std::string_view name = detail::type_name<T>();  ///< The compiler's spelling of T.
};

/// T has a checkpoint name.
template <class T>
concept type_tagged = requires {
  { type_tag<T>::name } -> std::convertible_to<std::string_view>;
};

namespace detail {

/// A constant text made of parts, each a type with a `name`.
template <class... Parts>
struct joined_tag {
  static constexpr std::size_t size = (std::string_view(Parts::name).size() + ... + 0);
  static constexpr std::array<char, size + 1> chars = [] {
    std::array<char, size + 1> out{};
    std::size_t at = 0;
    const auto append = [&](std::string_view part) {
      for (char c : part) out[at++] = c;
    };
    (append(Parts::name), ...);
    return out;
  }();
  static constexpr std::string_view name{chars.data(), size};
};

template <char... C>
struct literal_tag {
  static constexpr char chars[] = {C..., '\0'};
  static constexpr std::string_view name{chars, sizeof...(C)};
};

template <std::size_t V, char... C>
constexpr auto number_tag_of() {
  if constexpr (V < 10) return literal_tag<static_cast<char>('0' + V), C...>{};
  else return number_tag_of<V / 10, static_cast<char>('0' + V % 10), C...>();
}
template <std::size_t V>
using number_tag = decltype(number_tag_of<V>());

struct open_tag { static constexpr std::string_view name = "<"; };
struct comma_tag { static constexpr std::string_view name = ", "; };
struct close_tag { static constexpr std::string_view name = ">"; };

/// `Prefix<A, B, ...>`: the name of a template of tagged arguments.
template <class Prefix, class First, class... Rest>
struct template_tag : joined_tag<Prefix, open_tag, type_tag<First>, joined_tag<comma_tag, type_tag<Rest>>..., close_tag> {};

#define LIGHTFLOW_DETAIL_NAME_TYPE(type, text)          \
  template <>                                           \
  struct lightflow::type_tag<type> {                    \
    static constexpr std::string_view name = text;      \
  }

}  // namespace detail
}  // namespace lightflow

// The built-in names (listed at the top of this file).
/// @cond LIGHTFLOW_TYPE_TAGS
LIGHTFLOW_DETAIL_NAME_TYPE(bool, "bool");
LIGHTFLOW_DETAIL_NAME_TYPE(char, "char");
LIGHTFLOW_DETAIL_NAME_TYPE(signed char, "signed char");
LIGHTFLOW_DETAIL_NAME_TYPE(unsigned char, "unsigned char");
LIGHTFLOW_DETAIL_NAME_TYPE(wchar_t, "wchar_t");
LIGHTFLOW_DETAIL_NAME_TYPE(char8_t, "char8_t");
LIGHTFLOW_DETAIL_NAME_TYPE(char16_t, "char16_t");
LIGHTFLOW_DETAIL_NAME_TYPE(char32_t, "char32_t");
LIGHTFLOW_DETAIL_NAME_TYPE(short, "short");
LIGHTFLOW_DETAIL_NAME_TYPE(unsigned short, "unsigned short");
LIGHTFLOW_DETAIL_NAME_TYPE(int, "int");
LIGHTFLOW_DETAIL_NAME_TYPE(unsigned, "unsigned int");
LIGHTFLOW_DETAIL_NAME_TYPE(long, "long");
LIGHTFLOW_DETAIL_NAME_TYPE(unsigned long, "unsigned long");
LIGHTFLOW_DETAIL_NAME_TYPE(long long, "long long");
LIGHTFLOW_DETAIL_NAME_TYPE(unsigned long long, "unsigned long long");
LIGHTFLOW_DETAIL_NAME_TYPE(float, "float");
LIGHTFLOW_DETAIL_NAME_TYPE(double, "double");
LIGHTFLOW_DETAIL_NAME_TYPE(long double, "long double");
LIGHTFLOW_DETAIL_NAME_TYPE(std::byte, "std::byte");
LIGHTFLOW_DETAIL_NAME_TYPE(std::string, "std::string");
LIGHTFLOW_DETAIL_NAME_TYPE(std::wstring, "std::wstring");
LIGHTFLOW_DETAIL_NAME_TYPE(std::u8string, "std::u8string");
LIGHTFLOW_DETAIL_NAME_TYPE(std::u16string, "std::u16string");
LIGHTFLOW_DETAIL_NAME_TYPE(std::u32string, "std::u32string");

#undef LIGHTFLOW_DETAIL_NAME_TYPE

namespace lightflow {
namespace detail {
#define LIGHTFLOW_DETAIL_PREFIX(id, text) \
  struct id {                             \
    static constexpr std::string_view name = text; \
  }
LIGHTFLOW_DETAIL_PREFIX(vector_prefix, "std::vector");
LIGHTFLOW_DETAIL_PREFIX(deque_prefix, "std::deque");
LIGHTFLOW_DETAIL_PREFIX(set_prefix, "std::set");
LIGHTFLOW_DETAIL_PREFIX(map_prefix, "std::map");
LIGHTFLOW_DETAIL_PREFIX(unordered_map_prefix, "std::unordered_map");
LIGHTFLOW_DETAIL_PREFIX(array_prefix, "std::array");
LIGHTFLOW_DETAIL_PREFIX(optional_prefix, "std::optional");
LIGHTFLOW_DETAIL_PREFIX(pair_prefix, "std::pair");
LIGHTFLOW_DETAIL_PREFIX(tuple_prefix, "std::tuple");
LIGHTFLOW_DETAIL_PREFIX(variant_prefix, "std::variant");
#undef LIGHTFLOW_DETAIL_PREFIX
}  // namespace detail

template <type_tagged T>
struct type_tag<std::vector<T>> : detail::template_tag<detail::vector_prefix, T> {};
template <type_tagged T>
struct type_tag<std::deque<T>> : detail::template_tag<detail::deque_prefix, T> {};
template <type_tagged T>
struct type_tag<std::set<T>> : detail::template_tag<detail::set_prefix, T> {};
template <type_tagged K, type_tagged V>
struct type_tag<std::map<K, V>> : detail::template_tag<detail::map_prefix, K, V> {};
template <type_tagged K, type_tagged V>
struct type_tag<std::unordered_map<K, V>> : detail::template_tag<detail::unordered_map_prefix, K, V> {};
template <type_tagged T>
struct type_tag<std::optional<T>> : detail::template_tag<detail::optional_prefix, T> {};
template <type_tagged A, type_tagged B>
struct type_tag<std::pair<A, B>> : detail::template_tag<detail::pair_prefix, A, B> {};
template <type_tagged... T>
  requires(sizeof...(T) > 0)
struct type_tag<std::tuple<T...>> : detail::template_tag<detail::tuple_prefix, T...> {};
template <type_tagged... T>
  requires(sizeof...(T) > 0)
struct type_tag<std::variant<T...>> : detail::template_tag<detail::variant_prefix, T...> {};
template <type_tagged T, std::size_t N>
struct type_tag<std::array<T, N>>
    : detail::joined_tag<detail::array_prefix, detail::open_tag, type_tag<T>, detail::comma_tag, detail::number_tag<N>,
                         detail::close_tag> {};

/// @endcond

namespace detail {
/// T's checkpoint name, or an empty view when it has none.
template <class T>
constexpr std::string_view type_tag_or_empty() noexcept {
  if constexpr (std::is_void_v<T>) return "void";
  else if constexpr (type_tagged<T>) return type_tag<T>::name;
  else return {};
}
}  // namespace detail

}  // namespace lightflow

#endif

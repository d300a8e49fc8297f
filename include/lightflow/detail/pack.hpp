// Working over a parameter pack of any length, such as a flow's steps. No fold expressions: clang
// limits a fold to 256 operands (-fbracket-depth), and a flow may have more steps than that. A pack
// is expanded into an array instead, which any compiler takes at any length.
#ifndef LIGHTFLOW_DETAIL_PACK_HPP
#define LIGHTFLOW_DETAIL_PACK_HPP

#include <cstddef>

namespace lightflow::detail {

/// Evaluates a pack expansion for its effects, in order: `(void)expand{0, ((void)effect, 0)...};`.
using expand = int[];

/// True when every value is: `all_of({condition<T>..., true})`.
template <std::size_t N>
consteval bool all_of(const bool (&values)[N]) noexcept {
  for (const bool v : values)
    if (!v) return false;
  return true;
}

/// The sum of the values: `sum_of({count<T>..., std::size_t{0}})`.
template <std::size_t N>
consteval std::size_t sum_of(const std::size_t (&values)[N]) noexcept {
  std::size_t sum = 0;
  for (const std::size_t v : values) sum += v;
  return sum;
}

}  // namespace lightflow::detail

#endif

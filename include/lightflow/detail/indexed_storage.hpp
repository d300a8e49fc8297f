// A flat tuple: one base per element, found by index without recursive instantiation.
#ifndef LIGHTFLOW_DETAIL_INDEXED_STORAGE_HPP
#define LIGHTFLOW_DETAIL_INDEXED_STORAGE_HPP

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lightflow/detail/pack.hpp"

namespace lightflow::detail {

template <std::size_t I, class T>
struct indexed_item {
  T value;
};

template <class Indices, class... T>
struct indexed_storage;

template <std::size_t... I, class... T>
struct indexed_storage<std::index_sequence<I...>, T...> : indexed_item<I, T>... {
  constexpr indexed_storage() = default;
  template <class... A>
  constexpr explicit indexed_storage(std::in_place_t, A&&... values) : indexed_item<I, T>{std::forward<A>(values)}... {}

  /// Stores the address of every element's `callable` member in out[index]: one pack expansion, no
  /// lookup by index and no function per element (a large flow's symbols are long).
  constexpr void callable_addresses(const void** out) const noexcept {
    (void)expand{0, ((void)(out[I] = &static_cast<const indexed_item<I, T>&>(*this).value.callable), 0)...};
  }
  /// The same for every element's `rules` (a shared pointer): the raw pointers; true if any is set.
  template <class Policy>
  bool policy_addresses(const Policy** out) const noexcept {
    (void)expand{0, ((void)(out[I] = static_cast<const indexed_item<I, T>&>(*this).value.rules.get()), 0)...};
    bool any = false;
    for (std::size_t k = 0; k != sizeof...(T); ++k) any = any || out[k] != nullptr;
    return any;
  }
};

template <std::size_t I, class T>
constexpr const T& get(const indexed_item<I, T>& item) noexcept {
  return item.value;
}

template <std::size_t I, class T>
T type_at(const indexed_item<I, T>&);  // only for decltype

/// The type of element I: one overload resolution, no recursion over the pack. (Measured with g++ 12:
/// cheaper than std::tuple_element and than a table of per-element overloads at 256 elements; each
/// lookup is linear in the number of elements, so a 1,000-step flow spends ~15 s here.)
template <std::size_t I, class Storage>
using element_t = decltype(type_at<I>(std::declval<const Storage&>()));

}  // namespace lightflow::detail

#endif

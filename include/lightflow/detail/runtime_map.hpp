// A runtime flow's map step (map_step.hpp; `f.map(name, source, fn)`): a runtime step whose body
// reads its source step's result, a std::vector of the elements `fn` takes, and runs `fn` on each
// through the one engine both kinds of flow share (map_elements.hpp).
#ifndef LIGHTFLOW_DETAIL_RUNTIME_MAP_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_MAP_HPP

#include <string>
#include <type_traits>
#include <vector>

#include "lightflow/detail/map_elements.hpp"
#include "lightflow/detail/signature_check.hpp"
#include "lightflow/detail/step_signature.hpp"

namespace lightflow::detail {

/// The element type a map callable takes: `E` when given, else its first parameter's (decayed).
template <class E, class F>
struct map_element {
  using type = E;
};
template <class F, class Params = parameters_of<F>, bool Known = Params::known>
struct first_parameter {
  using type = void;
};
template <class F, class Params>
struct first_parameter<F, Params, true> {
  template <class First, class... Rest>
  static First first(type_list<First, Rest...>);
  static void first(type_list<>);
  using type = std::remove_cvref_t<decltype(first(typename Params::type{}))>;
};
template <class F>
struct map_element<void, F> {
  using type = typename first_parameter<F>::type;
  static_assert(!std::is_void_v<type>,
                "lightflow: a runtime map step's callable takes `auto` (or nothing): give the element type, "
                "f.map<E>(name, source, callable)");
};

/// The body of a runtime map step over `source`'s result, a std::vector<E>; `Keep`: lf::keep_going.
template <class E, class F, bool Keep>
struct runtime_map {
  std::string source;
  F fn;
  template <class Context>
  auto operator()(Context& ctx) const {
    return map_elements<Keep>(ctx, ctx.template result<std::vector<E>>(source), fn);
  }
};

}  // namespace lightflow::detail

#endif

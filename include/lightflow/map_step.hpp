// Map steps: one step that runs its callable on each element of a range that its dependency
// produced (or of the run's input), in parallel on the executor, and whose output is the vector of
// the results in input order:
//
//   lf::map_step<"parse", "list">([](const std::filesystem::path& p) { return parse(p); })  // static
//   f.map("parse", "list", [](const std::filesystem::path& p) { return parse(p); });       // runtime
//
// The callable takes a const reference to an element (or an element and a std::stop_token); a
// callable that cannot is a compile error naming the step. Dependents receive the vector, typed
// (nothing when the callable returns void). The step's retries and timeout apply to each element:
// each element is an attempt of its own; every element has its chance, and when any failed the
// step fails with an lf::map_error listing each failed element's index and error (or, given
// lf::keep_going, succeeds with each element's lf::outcome: outcome.hpp). A cancelled run runs no
// more elements. The elements run in parallel (detail/map_elements.hpp: one engine for both
// kinds of flow); a concurrency limit on the step (`.concurrency(n)`, `.limit(l)`) bounds how many
// of them run at once. With a checkpoint, each element is saved as it succeeds, and a resumed run
// runs only the elements that had not (detail/element_session.hpp).
#ifndef LIGHTFLOW_MAP_STEP_HPP
#define LIGHTFLOW_MAP_STEP_HPP

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/map_elements.hpp"
#include "lightflow/detail/policy_setters.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/outcome.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow {
namespace detail {

/// What a map step over a `Range` with callable F outputs, and whether it can be one.
template <class F, class Range, bool IsRange = element_range<Range>>
struct map_output {
  static constexpr bool range = false, callable = false;
  using element = Range;
  using type = unusable_output;
};
template <class F, class Range>
struct map_output<F, Range, true> {
  static constexpr bool range = true;
  using element = element_reference_t<Range>;
  static constexpr bool callable = takes_element<F, element> || takes_element_and_token<F, element>;
  using type =
      typename std::conditional_t<callable, element_output<F, element>, std::type_identity<unusable_output>>::type;
};

/// A map step's compile error, naming it.
template <fixed_string Name, bool Range>
consteval text_buffer map_step_error() {
  text_buffer t{};
  t << "lightflow: map step ", t.quoted(Name.view());
  if (Range)
    t << ": its callable cannot be called with an element of its input (a const reference to the type listed "
         "after this message; or that and a std::stop_token)";
  else
    t << " runs its callable on each element of its input (its dependency's output, or the run's input), which "
         "must be a sized random-access range (a std::vector, std::array, std::span, std::deque...), not the type "
         "listed after this message";
  return t;
}

/// A map step's callable as the step machinery calls it: with its input and its step_context.
/// `Keep`: the step keeps going (lf::keep_going), its output its elements' outcomes.
template <fixed_string Name, class F, bool Keep>
struct map_callable {
  F fn;

  template <class Range, class Out = map_output<F, Range>>
  auto operator()(const Range& range, step_context& ctx) const
      -> std::conditional_t<Out::callable, map_output_t<Keep, typename Out::type>, unusable_output> {
    if constexpr (Out::callable) {
      return map_elements<Keep>(ctx, range, fn);
    } else {
      fail<to_fixed_string<map_step_error<Name, Out::range>()>(),
           offered<std::remove_cvref_t<typename Out::element>>>();
      return {};
    }
  }
};

/// The policy every map step starts with: its retries and timeout apply to each element.
inline std::shared_ptr<const policy> element_policy() { return policy::changed(nullptr, policy_change::elements()); }

}  // namespace detail

/// Declares a map step called `Name` over the output of `Dependency` (a sized random-access range;
/// without one, over the run's input): `callable` runs on each element, and the step's output is the
/// std::vector of what it returns, in input order (see the top of this header). The step takes the
/// setters of any step (`.retry`, `.timeout`: per element; `.after<...>()`, `.when`, callbacks, `.limit`).
template <fixed_string Name, fixed_string... Dependency, class F>
requires(sizeof...(Dependency) <= 1) auto map_step(F&& callable) {
  return step_definition<Name, detail::map_callable<Name, std::decay_t<F>, false>, after_names<>, detail::policy_ref,
                         Dependency...>{{}, {std::forward<F>(callable)}, detail::element_policy()};
}
/// The same, keeping going (outcome.hpp): the step succeeds whatever its elements do, and its output
/// is the std::vector of their lf::outcome, in input order.
template <fixed_string Name, fixed_string... Dependency, class F>
requires(sizeof...(Dependency) <= 1) auto map_step(F&& callable, keep_going_t) {
  return step_definition<Name, detail::map_callable<Name, std::decay_t<F>, true>, after_names<>, detail::policy_ref,
                         Dependency...>{{}, {std::forward<F>(callable)}, detail::element_policy()};
}

}  // namespace lightflow

#endif

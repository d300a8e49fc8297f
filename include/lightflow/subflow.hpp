// Subflows: a flow, static or runtime, as a step of another, run as part of the same run.
//
//   auto parse = lf::flow<"parse">(lf::step<"read">(read), lf::step<"check", "read">(check));
//   auto nightly = lf::flow<"nightly">(lf::step<"list">(list),
//                                      lf::subflow<"files", "list">(parse),     // static
//                                      lf::step<"report", "files.check">(report));
//   f.subflow("files", parse).after("list");                                    // runtime
//
// A subflow is expanded into the flow, not run as a flow of its own: its steps become steps of the
// flow named "<subflow>.<step>" ("files.read", "files.check"), and the subflow's own step ("files")
// runs after all of them. So they run on the same executor as every other step, are cancelled,
// paused, stopped and timed out with the run (and, as the namespace "files", with a process:
// process.hpp), are checkpointed under the run's id in its store (a resumed run resumes inside the
// subflow), and are reachable by name in the result (`result.get<"files.check">()`). When a step of
// the subflow fails (or times out, or is cancelled by its process's time limit), the subflow's step
// fails with an lf::subflow_error that names that step and keeps its error; when the subflow did not
// run because a dependency of it failed, it is skipped like any step.
//
// The subflow's dependencies ("list") are offered to its steps that take the run's input when the
// flow runs alone (those without data dependencies): each is called with their outputs if it takes
// them, else with nothing (or only its step_context), and runs after them either way. A subflow with
// no dependency leaves them the run's input. The subflow's own step has no output: dependents name
// the step whose output they take ("files.check"), or run after "files".
//
// Why expansion and not Taskflow's run-time `Subflow` (a step adding steps while it runs): a step
// that waits for steps it added would hold a worker thread, or need to be suspended; its steps could
// not be checked, typed, drawn, or resumed from a checkpoint before it ran; and work whose size is
// known only at run time has map steps (map_step.hpp) for the common case.
#ifndef LIGHTFLOW_SUBFLOW_HPP
#define LIGHTFLOW_SUBFLOW_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/detail/subflow_join.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/merge.hpp"
#include "lightflow/step.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow {

/// A static flow as a step of another static flow: made by `lightflow::subflow<"name", "dependency"...>(flow)`
/// and given to `lightflow::flow`, which adds its steps (see the top of this header).
template <fixed_string Name, class Inner, fixed_string... Dependencies>
struct subflow_definition {
  static constexpr auto name = Name;  ///< The subflow's name: its step's, and its steps' prefix.
  Inner flow;                         ///< The flow it runs.
};

/// Declares subflow `Name` of a static flow: the steps of `inner` (a static flow, copied) run as
/// steps "<Name>.<step>" after `Dependencies`, and step `Name` after them (see the top of this header).
template <fixed_string Name, fixed_string... Dependencies, class Inner>
constexpr auto subflow(Inner&& inner) {
  if constexpr (!detail::is_static_flow<std::remove_cvref_t<Inner>>) {
    return detail::raise<
        "lightflow: lightflow::subflow<\"name\", \"dependency\"...>(flow) takes a static flow (made by "
        "lightflow::flow); a runtime flow is made a subflow of a runtime flow by runtime_flow::subflow",
        offered<std::remove_cvref_t<Inner>>, detail::invalid_flow>();
  } else {
    return subflow_definition<Name, std::remove_cvref_t<Inner>, Dependencies...>{std::forward<Inner>(inner)};
  }
}

namespace detail {

template <fixed_string Name, class Inner, fixed_string... Dependencies>
inline constexpr bool is_subflow<subflow_definition<Name, Inner, Dependencies...>> = true;

/// A subflow's step that takes the run's input when its flow runs alone, as it is called in the
/// subflow: with the outputs of the subflow's dependencies (then the step_context) if it takes them,
/// else with nothing, else with the step_context alone.
template <class F>
struct subflow_root {
  F fn;

  template <class... A>
    requires callable_with<F, type_list<A&&...>>
  decltype(auto) operator()(A&&... a) const {
    return fn(static_cast<A&&>(a)...);
  }
  template <class... A>
    requires(!callable_with<F, type_list<A&&...>> && callable_with<F, type_list<>>)
  decltype(auto) operator()(A&&...) const {
    return fn();
  }
  template <class... A>
    requires(sizeof...(A) > 1 && !callable_with<F, type_list<A&&...>> && !callable_with<F, type_list<>> &&
             std::is_same_v<std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>, step_context&> &&
             callable_with<F, type_list<step_context&>>)
  decltype(auto) operator()(A&&... a) const {
    return fn(std::get<sizeof...(A) - 1>(std::forward_as_tuple(a...)));
  }
};

/// Step `Step` of a subflow `Prefix` with dependencies `Outer`, renamed "<Prefix>.<step>"; one
/// without data dependencies takes the outputs of `Outer` (if any) through a subflow_root.
template <fixed_string Prefix, class Step, fixed_string... Outer>
struct subflow_step;
template <fixed_string Prefix, fixed_string Name, class F, fixed_string... Ordered, class Rules, fixed_string... Deps,
          fixed_string... Outer>
struct subflow_step<Prefix, step_definition<Name, F, after_names<Ordered...>, Rules, Deps...>, Outer...> {
  static constexpr bool offered_outer = sizeof...(Deps) == 0 && sizeof...(Outer) != 0;
  using type = std::conditional_t<
      offered_outer,
      step_definition<joined<Prefix, Name>, subflow_root<F>, after_names<joined<Prefix, Ordered>...>, policy_ref, Outer...>,
      step_definition<joined<Prefix, Name>, F, after_names<joined<Prefix, Ordered>...>, policy_ref, joined<Prefix, Deps>...>>;

  /// The renamed step: its own policy, with its flow's defaults where it has none (as merge does).
  static type make(const step_definition<Name, F, after_names<Ordered...>, Rules, Deps...>& s, const policy* defaults) {
    if constexpr (offered_outer)
      return type{{}, subflow_root<F>{s.callable}, policy::inherit(s.rules.shared(), defaults)};
    else
      return type{{}, s.callable, policy::inherit(s.rules.shared(), defaults)};
  }
};

/// The steps of a subflow, renamed, then its own step after its sinks (an empty subflow's: after its
/// dependencies).
template <fixed_string Name, class Inner, fixed_string... Outer>
struct subflow_expansion {
  static constexpr auto sinks = [] {
    std::array<std::uint32_t, Inner::size + 1> out{};
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i != Inner::size; ++i)
      if (Inner::graph.out_offsets[i] == Inner::graph.out_offsets[i + 1]) out[n++] = i;
    out[Inner::size] = n;
    return out;
  }();
  template <std::size_t... K>
  static auto join_of(std::index_sequence<K...>)
      -> step_definition<Name, subflow_join, after_names<joined<Name, Inner::template step_at<sinks[K]>::name>...>,
                         policy_ref>;
  static auto join_of(std::index_sequence<>) -> step_definition<Name, subflow_join, after_names<Outer...>, policy_ref>;
  using join = decltype(join_of(std::make_index_sequence<sinks[Inner::size]>{}));

  template <std::size_t... I>
  static auto steps(const Inner& inner, std::index_sequence<I...>) {
    return std::tuple<typename subflow_step<Name, typename Inner::template step_at<I>, Outer...>::type..., join>(
        subflow_step<Name, typename Inner::template step_at<I>, Outer...>::make(inner.template step<I>(),
                                                                                inner.defaults())...,
        join{{}, {}, subflow_policy()});
  }
};

/// What an argument of `lightflow::flow` adds: a step, or a subflow's steps and its own step.
template <class Arg>
  requires(!is_subflow<std::remove_cvref_t<Arg>>)
auto as_steps(Arg&& arg) {
  return std::tuple<std::remove_cvref_t<Arg>>(std::forward<Arg>(arg));
}
template <fixed_string Name, class Inner, fixed_string... Outer>
auto as_steps(const subflow_definition<Name, Inner, Outer...>& s) {
  return subflow_expansion<Name, Inner, Outer...>::steps(s.flow, std::make_index_sequence<Inner::size>{});
}

/// `lightflow::flow`'s work when a subflow is among its arguments.
template <fixed_string Name, class... Args>
constexpr auto flatten_subflows(Args&&... args) {
  return std::apply(
      [](auto&&... steps) { return make_flow<Name, std::remove_cvref_t<decltype(steps)>...>(std::move(steps)...); },
      std::tuple_cat(as_steps(std::forward<Args>(args))...));
}

}  // namespace detail
}  // namespace lightflow

#endif

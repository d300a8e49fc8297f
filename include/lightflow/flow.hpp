// A static flow: a named set of steps whose graph is checked and ordered at compile time.
#ifndef LIGHTFLOW_FLOW_HPP
#define LIGHTFLOW_FLOW_HPP

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string_view>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/graph.hpp"
#include "lightflow/detail/indexed_storage.hpp"
#include "lightflow/detail/pack.hpp"
#include "lightflow/detail/policy_setters.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/summary.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step.hpp"

namespace lightflow {

namespace detail {

template <class... Steps>
consteval auto analyze_steps() {
  constexpr std::size_t n = sizeof...(Steps);
  constexpr std::size_t e = sum_of({Steps::dependency_count..., std::size_t{0}});
  std::array<std::string_view, n + 1> names{Steps::name.view()...};
  const std::array<std::size_t, n + 1> counts{Steps::dependency_count..., 0};
  const std::array<const std::string_view*, n + 1> lists{Steps::dependency_names.data()..., nullptr};
  std::array<std::uint32_t, n + 1> offsets{};
  std::array<std::string_view, e + 1> dependencies{};
  std::uint32_t edge = 0;
  for (std::size_t step = 0; step != n; ++step) {
    offsets[step] = edge;
    for (std::size_t k = 0; k != counts[step]; ++k) dependencies[edge++] = lists[step][k];
  }
  offsets[n] = edge;
  const std::array<std::uint32_t, n + 1> data{static_cast<std::uint32_t>(Steps::data_dependency_count)..., 0};
  return analyze<n, e>(names, offsets, dependencies, &data);
}

}  // namespace detail

/// A flow whose steps and graph are known at compile time; made by `lightflow::flow<"name">(steps...)`.
template <fixed_string Name, class... Steps>
  requires(detail::all_of({step_type<Steps>..., true}))  // not `step_type... Steps`: clang folds that
class static_flow : public detail::copied_policy_setters<static_flow<Name, Steps...>, true> {
  using storage = detail::indexed_storage<std::make_index_sequence<sizeof...(Steps)>, Steps...>;

 public:
  static constexpr auto name = Name;                        ///< The flow's name (a fixed_string).
  static constexpr std::uint32_t size = sizeof...(Steps);  ///< The number of steps.
  /// The checked graph: names, dependencies, dependents, in-degrees, a topological order.
  static constexpr auto graph = detail::analyze_steps<Steps...>();
  /// The same graph as the scheduler reads it.
  static constexpr detail::graph_view view{Name.view(),        size,
                                           graph.names.data(), graph.dep_offsets.data(),
                                           graph.deps.data(),  graph.data_count.data(),
                                           graph.out_offsets.data(),
                                           graph.outs.data(),
                                           graph.roots.data(), graph.root_count,
                                           graph.sink_count};

  /// The index of the step called `step_name`, or detail::npos.
  static constexpr std::uint32_t index_of(std::string_view step_name) noexcept { return graph.index_of(step_name); }

  /// The type of step I (in the order given to `flow()`).
  template <std::size_t I>
  using step_at = detail::element_t<I, storage>;

  /// Made by `flow()`: each step is copied or moved once, straight into the flow (a large flow's steps
  /// are not passed on through by-value parameters).
  template <class... Args>
  constexpr explicit static_flow(std::in_place_t, Args&&... steps) : steps_(std::in_place, std::forward<Args>(steps)...) {}

  /// Step I (in the order given to `flow()`).
  template <std::size_t I>
  constexpr const auto& step() const noexcept {
    return detail::get<I>(steps_);
  }
  /// Stores the address of every step's callable in out[step].
  constexpr void callable_addresses(const void** out) const noexcept { steps_.callable_addresses(out); }
  /// Stores every step's policy (or null) in out[step]; true when any step has one.
  bool policy_addresses(const policy** out) const noexcept { return steps_.policy_addresses(out); }

  /// `std::cout << flow` writes its name and steps, each with its dependencies (`flow "orders", 3
  /// steps: load; charge <- load; ship <- load, charge`): the same text as fmt's `{}`.
  template <class Traits>
  friend std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& out, const static_flow&) {
    return out << detail::graph_text(view);
  }

  /// The flow's default policy (retries), which a step's own setting overrides; null for none.
  const policy* defaults() const noexcept { return defaults_.get(); }
  // retry, timeout and the four callbacks (see callback.hpp: before or after each run, before or
  // after each step; they follow the executor's and come before each step's own): a changed copy of
  // the flow each, from detail::copied_policy_setters.

 private:
  friend detail::copied_policy_setters<static_flow, true>;
  template <class Change>
  static_flow with_policy(Change&& change) const& {
    static_flow copy(*this);
    copy.defaults_ = policy::changed(defaults_, change);
    return copy;
  }
  template <class Change>
  static_flow with_policy(Change&& change) && {
    static_flow copy(std::move(*this));
    copy.defaults_ = policy::changed(copy.defaults_, change);
    return copy;
  }

  storage steps_;
  std::shared_ptr<const policy> defaults_;
};

namespace detail {
template <class T>
inline constexpr bool is_static_flow = false;
template <fixed_string Name, class... Steps>
inline constexpr bool is_static_flow<static_flow<Name, Steps...>> = true;

/// What `flow()` returns after reporting a compile error, so that the error is not followed by others.
struct invalid_flow {};
}  // namespace detail

namespace detail {
// flow()'s work: Steps are the arguments' types without references.
template <fixed_string Name, class... Steps, class... Args>
constexpr auto make_flow(Args&&... args) {
  if constexpr (!detail::all_of({step_type<Steps>..., true})) {
    return detail::raise<
        "lightflow: every argument of lightflow::flow must be made by lightflow::step<\"name\", "
        "\"dependency\"...>(callable); the arguments' types are listed after this message",
        offered<Steps...>, invalid_flow>();
  } else if constexpr (!static_flow<Name, Steps...>::graph.ok()) {
    return detail::raise<detail::to_fixed_string<detail::describe(static_flow<Name, Steps...>::graph, Name.view())>(),
                         offered<>, invalid_flow>();
  } else {
    return static_flow<Name, Steps...>(std::in_place, std::forward<Args>(args)...);
  }
}
}  // namespace detail

namespace detail {
/// Subflows (subflow.hpp, which defines these for its subflow_definition).
template <class T>
inline constexpr bool is_subflow = false;
template <fixed_string Name, class... Args>
constexpr auto flatten_subflows(Args&&... args);
}  // namespace detail

/// Declares a flow named `Name` made of `steps` (and subflows: subflow.hpp). A wrong graph (duplicate
/// names, a dependency that is not a step, a step that depends on itself, a cycle) is a compile error
/// that names the steps.
template <fixed_string Name, class... Args>
constexpr auto flow(Args&&... args) {
  if constexpr (!detail::all_of({!detail::is_subflow<std::remove_cvref_t<Args>>..., true}))  // (no fold: pack.hpp)
    return detail::flatten_subflows<Name>(std::forward<Args>(args)...);
  else
    return detail::make_flow<Name, std::remove_cvref_t<Args>...>(std::forward<Args>(args)...);
}

}  // namespace lightflow

#endif

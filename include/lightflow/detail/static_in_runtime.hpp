// A static flow's step run as a step of a runtime flow (what runtime_flow::merge does with a static
// flow): its callable is called with its dependencies' results, found by name in the runtime run.
#ifndef LIGHTFLOW_DETAIL_STATIC_IN_RUNTIME_HPP
#define LIGHTFLOW_DETAIL_STATIC_IN_RUNTIME_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/context.hpp"
#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/pack.hpp"
#include "lightflow/detail/runtime_merge.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/detail/signature_check.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/key.hpp"

namespace lightflow::detail {

/// The result of the static step `D` that step `step` (static step `I`) depends on. Its runtime name
/// is found from the step's own: both carry the same prefix ("<flow>.", or more after further merges).
template <class Flow, std::uint32_t I, std::uint32_t D, class T>
const T& static_dependency_result(const runtime_run& run, std::uint32_t step) {
  const runtime_graph& g = run.graph_data();
  const std::string_view own = g.name(step);
  const std::string_view own_static = Flow::graph.names[I];
  const std::string name = std::string(own.substr(0, own.size() - own_static.size())) + std::string(Flow::graph.names[D]);
  const std::uint32_t d = g.find(name);
  const step_data* data = d == runtime_graph::none ? nullptr : run.data_of(d);
  const std::string who = "lightflow: step \"" + std::string(own) + "\" (of static flow \"" +
                          std::string(Flow::name.view()) + "\") needs the result of step \"" + name + "\"";
  if (data == nullptr || !data->result.has_value()) throw key_error(who + ", which returned nothing");
  if (const T* value = data->result.get<T>()) return *value;
  throw key_error(who + ", which returned " + with_article(data->result.type()) + ", not the " +
                  std::string(erased_type_of<T>.name) + " its parameter takes");
}

template <class T>
void register_static_output() {
  if constexpr (!std::is_void_v<T>) register_type<T>();
}

/// Calls a static step inside a runtime flow with its dependencies' results (D: their steps, T: their
/// output types); every template parameter deduced (see step_signature).
template <class Flow, std::uint32_t I, class F, std::uint32_t... D, class... T, class... Context>
decltype(auto) call_with_dependencies(std::type_identity<Flow>, constant<I>, const F& fn, runtime_run& run,
                                      std::uint32_t step, positions<D...>, type_list<T...>, Context&... ctx) {
  return fn(static_dependency_result<Flow, I, D, T>(run, step)..., ctx...);
}

template <class Flow, std::uint32_t I>
void invoke_static_step(run_state_base& base, std::uint32_t step, step_context& sc) {
  using sig = step_signature<Flow, values, I>;
  using output = typename sig::output;
  auto& run = static_cast<runtime_run&>(base);
  const auto& fn = static_cast<const Flow*>(base.callable(step))->template step<I>().callable;
  context ctx(run, sc);
  auto call = [&]() -> decltype(auto) {
    if constexpr (sig::form::value == call_form::nothing) {
      return fn();
    } else if constexpr (sig::form::value == call_form::context) {
      return fn(static_cast<step_context&>(ctx));
    } else if constexpr (sig::is_root::value) {
      if constexpr (sig::form::value == call_form::inputs_and_context)
        return fn(run.input_values(), static_cast<step_context&>(ctx));
      else
        return fn(run.input_values());
    } else {
      if constexpr (sig::form::value == call_form::inputs_and_context)
        return detail::call_with_dependencies(std::type_identity<Flow>{}, constant<I>{}, fn, run, step,
                                              typename sig::kept_steps{}, typename sig::kept_outputs{},
                                              static_cast<step_context&>(ctx));
      else
        return detail::call_with_dependencies(std::type_identity<Flow>{}, constant<I>{}, fn, run, step,
                                              typename sig::kept_steps{}, typename sig::kept_outputs{});
    }
  };
  if constexpr (std::is_void_v<output>)
    call();
  else
    run.own(step).result = erased_value::make<output>(call());
}

/// Merges the static flow `source` (copied) into the runtime graph `g` (runtime_flow::merge,
/// subflow): its steps named prefix + name, by name when `unify`, each called by invoke_static_step.
template <class Graph, fixed_string Name, class... Steps>
void merge_static_flow(Graph& g, const static_flow<Name, Steps...>& source, const std::string& prefix, bool unify) {
  using source_type = static_flow<Name, Steps...>;
  static_assert(check_signatures<source_type, values>(),
                "lightflow: the static flow's steps cannot be called in a runtime flow (see the message above)");
  auto copy = std::make_shared<const source_type>(source);
  const graph_view& sv = source_type::view;
  constexpr auto invokers = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<run_state_base::invoke_fn, sizeof...(I) + 1>{&invoke_static_step<source_type, I>..., nullptr};
  }(std::make_index_sequence<source_type::size>{});
  constexpr auto types = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<const erased_type*, sizeof...(I) + 1>{
        result_type_of<typename step_signature<source_type, values, I>::output>()..., nullptr};
  }(std::make_index_sequence<source_type::size>{});
  []<std::size_t... I>(std::index_sequence<I...>) {  // the output types, for checkpoints
    (void)expand{
        0, (register_static_output<typename step_signature<source_type, values, I>::output>(), 0)...};
  }(std::make_index_sequence<source_type::size>{});
  std::vector<const policy*> own_rules(sv.size + 1);  // each step's policy, kept alive by `copy`
  copy->policy_addresses(own_rules.data());
  (void)merge_steps(
      g, sv.size, prefix, unify, [&](std::uint32_t i) { return sv.name(i); },
      [&](std::uint32_t i) {
        std::shared_ptr<const policy> own = own_rules[i] == nullptr ? nullptr : std::shared_ptr<const policy>(copy, own_rules[i]);
        return merged_step{invokers[i], types[i], copy.get(), copy, policy::inherit(own, copy->defaults())};
      },
      [&](std::uint32_t i) { return std::span<const std::uint32_t>(sv.deps + sv.dep_offsets[i], sv.deps + sv.dep_offsets[i + 1]); });
}

}  // namespace lightflow::detail

#endif

// Merging a flow's steps into a runtime flow, whichever kind the source is (runtime_flow::merge):
// each source step is added under its new name, or, when merging by name (merge_mode::unify), a step
// the target already has is kept and gets the dependencies it lacks and the source step's policy
// where its own says nothing (policy::unified). One loop for both kinds; what differs (how a source
// step is called, who owns its callable) comes in through `step_of`.
#ifndef LIGHTFLOW_DETAIL_RUNTIME_MERGE_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_MERGE_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lightflow/detail/runtime_graph.hpp"
#include "lightflow/policy.hpp"

namespace lightflow::detail {

/// What a merge adds of one source step.
struct merged_step {
  run_state_base::invoke_fn invoke;
  const erased_type* result_type;            // null: void
  const void* callable;                       // null: stateless
  std::shared_ptr<const void> owner;          // keeps `callable` alive
  std::shared_ptr<const policy> rules;        // its own policy, with its flow's defaults (or null)
};

/// Where each source step went in the target, and whether it was added (else: kept from the target).
struct merge_map {
  std::vector<std::uint32_t> index;
  std::vector<bool> added;
};

/// Merges the `n` steps of a source into `g`: step i is named prefix + name_of(i); step_of(i) gives
/// what to add, deps_of(i) its dependencies (source indices). Throws flow_error as runtime_graph::add
/// does (a name taken, in namespaced mode).
template <class Graph, class NameOf, class StepOf, class DepsOf>
merge_map merge_steps(Graph& g, std::uint32_t n, const std::string& prefix, bool unify, const NameOf& name_of,
                      const StepOf& step_of, const DepsOf& deps_of) {
  merge_map m{std::vector<std::uint32_t>(n), std::vector<bool>(n, false)};
  for (std::uint32_t i = 0; i != n; ++i) {
    const std::string name = prefix + std::string(name_of(i));
    if (const std::uint32_t existing = g.find(name); existing != Graph::none && unify) {
      m.index[i] = existing;  // kept: the target's callable, with the source's policy where it has none
      if (merged_step s = step_of(i); s.rules) g.set_rules(existing, policy::unified(g.rules_of(existing), s.rules));
      continue;
    }
    merged_step s = step_of(i);
    m.index[i] = g.add(name, s.invoke, s.result_type, s.callable, std::move(s.owner));
    m.added[i] = true;
    if (s.rules) g.set_rules(m.index[i], std::move(s.rules));
  }
  // An added step gets its dependencies; a kept one, those of the source that it lacks (the union).
  for (std::uint32_t i = 0; i != n; ++i)
    for (std::uint32_t d : deps_of(i)) m.added[i] ? g.depend(m.index[i], m.index[d]) : g.depend_once(m.index[i], m.index[d]);
  g.compiled = false;
  return m;
}

}  // namespace lightflow::detail

#endif

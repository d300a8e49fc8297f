// Merging a flow's steps into a runtime flow, whichever kind the source is (runtime_flow::merge):
// each source step is added under its new name, or, when merging by name (merge_mode::unify), a step
// the target already has is kept and gets the dependencies it lacks and the source step's policy
// where its own says nothing (policy::unified). One loop for both kinds; what differs (how a source
// step is called, who owns its callable) comes in through `step_of`.
#ifndef LIGHTFLOW_DETAIL_RUNTIME_MERGE_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_MERGE_HPP

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
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

/// Merges the runtime flow `s` into `g` (runtime_flow::merge, subflow): its steps named prefix + name,
/// by name when `unify`; its dependencies by name, key restrictions and sensitive keys too.
template <class Graph>
void merge_runtime_flow(Graph& g, const Graph& s, const std::string& prefix, bool unify) {
  std::unordered_map<const void*, std::shared_ptr<const void>> states;  // the owners of stateful callables
  for (const auto& o : s.owned) states.emplace(o.get(), o);
  const detail::merge_map m = detail::merge_steps(
      g, s.size(), prefix, unify, [&](std::uint32_t i) { return s.name(i); },
      [&](std::uint32_t i) {
        // The step keeps its policy, with its flow's default retries where it has none of its own.
        return detail::merged_step{s.invokers[i], s.result_type(i), s.callable(i),
                                   s.callable(i) != nullptr ? states.at(s.callable(i)) : nullptr,
                                   policy::inherit(s.rules_of(i), s.defaults.get())};
      },
      [&](std::uint32_t i) { return s.dependencies_of(i); });
  // Dependencies declared by name (not yet resolved in the source) and key restrictions.
  for (const auto& [step, dep] : s.added_by_name) {
    const std::uint32_t known = g.find(prefix + dep);
    if (!m.added[step] && known != Graph::none)
      g.depend_once(m.index[step], known);
    else
      g.depend(m.index[step], prefix + dep);
  }
  // A kept step keeps the source's restrictions, except of the keys the target restricts itself.
  const std::size_t target_restrictions = g.restrictions.size();
  for (const auto& r : s.restrictions) {
    const std::uint32_t step = m.index[r.step];
    const auto first = g.restrictions.begin(), last = first + static_cast<std::ptrdiff_t>(target_restrictions);
    if (!m.added[r.step] &&
        std::any_of(first, last, [&](const detail::restriction& t) { return t.step == step && t.key == r.key; }))
      continue;
    g.restrictions.push_back({step, r.key, prefix + r.ancestor_name, 0});
  }
  for (const std::string& k : s.sensitive_keys)
    if (std::find(g.sensitive_keys.begin(), g.sensitive_keys.end(), k) == g.sensitive_keys.end()) g.sensitive_keys.push_back(k);
}

/// After a subflow's steps were added behind its own step `join` (runtime_flow::subflow): `join`
/// runs after those that no other of them runs after; returns those that run after none of them
/// (the subflow's first steps).
template <class Graph>
std::vector<std::uint32_t> join_subflow(Graph& g, std::uint32_t join) {
  const std::uint32_t first = join + 1, n = static_cast<std::uint32_t>(g.size());
  std::vector<bool> followed(n - first, false);
  std::vector<std::uint32_t> roots;
  for (std::uint32_t i = first; i != n; ++i) {
    const std::vector<std::uint32_t> deps = g.dependencies_of(i);
    bool any = false;
    for (std::uint32_t d : deps)
      if (d >= first) followed[d - first] = any = true;
    for (const auto& [step, dep] : g.added_by_name) any = any || step == i;  // (an unknown name: a flow_error later)
    if (!any) roots.push_back(i);
  }
  for (std::uint32_t i = first; i != n; ++i)
    if (!followed[i - first]) g.depend(join, i);
  return roots;
}

}  // namespace lightflow::detail

#endif

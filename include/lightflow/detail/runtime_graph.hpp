// The storage of a runtime flow: names, callables, dependencies; and its compiled form (dependents,
// in-degrees, roots), checked before any step runs by the rules a static flow's are checked by at
// compile time (graph.hpp: the same name index, link_graph, the same messages).
//
// Built for size (a million steps is an ordinary flow): names live in shared chunks of characters,
// dependencies in arrays of 32-bit indices, a stateless callable costs no allocation, and the name
// index is an open-addressing table of indices. Runs share the data they run (copy on write).
#ifndef LIGHTFLOW_DETAIL_RUNTIME_GRAPH_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_GRAPH_HPP

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "lightflow/detail/graph.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/policy.hpp"

namespace lightflow::detail {

struct erased_type;  // erased_value.hpp

inline std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// A key restricted, for one step's reads, to what one of its ancestors sees.
struct restriction {
  std::uint32_t step;
  std::string key;
  std::string ancestor_name;
  std::uint32_t ancestor = 0;  // resolved when compiled
};

template <class Tag>
struct basic_runtime_graph {
  // The containers' code waits for this template's use (runtime_names.hpp: deferred_t).
  template <class T>
  using vector = deferred_t<std::vector<T>, Tag>;
  template <class T>
  using shared_ptr = deferred_t<std::shared_ptr<T>, Tag>;
  using invoke_fn = run_state_base::invoke_fn;
  static constexpr std::uint32_t none = 0xffffffffu;

  std::string flow_name;
  // Step i: its name, how to call it, and its callable's state (null for a stateless callable).
  vector<const char*> packed_names;  // each a length-prefixed run of characters (unpack_name): 8 bytes a step
  vector<invoke_fn> invokers;
  vector<const void*> callables;  // empty while every step's callable is stateless (8 bytes a step saved)
  vector<shared_ptr<const void>> owned;  // keeps stateful callables alive; shared by copies
  vector<shared_ptr<char[]>> chunks;     // the characters of the names; shared by copies
  std::size_t chunk_used = 0, chunk_size = 0;
  std::size_t name_bytes = 0;        // the names' sizes, summed (a checkpoint's size is guessed from it)
  vector<std::uint32_t> slots;  // the name index: open addressing, `none` = empty
  // Each kind of step's result type (null: void), by its invoker: steps made from one callable
  // type share both, so this stays as short as the program's list of step callables.
  vector<std::pair<invoke_fn, const erased_type*>> result_types;

  // Dependencies: those compiled (dep_offsets/deps), plus those declared since.
  vector<std::uint32_t> dep_offsets{0}, deps;
  vector<std::pair<std::uint32_t, std::uint32_t>> added;          // (step, dependency)
  vector<std::pair<std::uint32_t, std::string>> added_by_name;    // (step, dependency's name)
  vector<restriction> restrictions;                                // sorted by (step, key) when compiled
  // Policies: each step's own (empty until one is set, so that flows without any pay nothing), and
  // the flow's default.
  vector<shared_ptr<const policy>> rules;
  shared_ptr<const policy> defaults;
  vector<const policy*> rule_table;  // compiled: rules' raw pointers, or empty
  vector<std::string> sensitive_keys;  // sealed in checkpoints (runtime_flow::sensitive)

  // Compiled: valid while `compiled`.
  bool compiled = false;
  vector<std::uint32_t> out_offsets, outs, roots;  // a step's in-degree: dep_offsets[i + 1] - dep_offsets[i]
  std::uint32_t sink_count = 0;
  graph_view view{};

  basic_runtime_graph() = default;
  // A copy shares the characters of the names and the callables' states; its own new names go to a
  // chunk of its own.
  basic_runtime_graph(const basic_runtime_graph& o)
      : flow_name(o.flow_name), packed_names(o.packed_names), invokers(o.invokers), callables(o.callables), owned(o.owned),
        chunks(o.chunks), chunk_used(0), chunk_size(0), name_bytes(o.name_bytes), slots(o.slots),
        result_types(o.result_types), dep_offsets(o.dep_offsets), deps(o.deps),
        added(o.added), added_by_name(o.added_by_name), restrictions(o.restrictions), rules(o.rules),
        defaults(o.defaults), sensitive_keys(o.sensitive_keys) {}
  basic_runtime_graph& operator=(const basic_runtime_graph&) = delete;

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(packed_names.size()); }
  std::string_view name(std::uint32_t i) const noexcept { return unpack_name(packed_names[i]); }
  /// Step i's callable's state (null for a stateless callable).
  const void* callable(std::uint32_t i) const noexcept { return callables.empty() ? nullptr : callables[i]; }

  std::uint32_t find(std::string_view name) const noexcept {
    if (slots.empty()) return none;
    return find_name(slots.data(), slots.size(), name, [this](std::uint32_t i) { return this->name(i); });
  }

  /// Step i's result type (null: void).
  const erased_type* result_type(std::uint32_t i) const noexcept {
    for (const auto& [invoke, type] : result_types)
      if (invoke == invokers[i]) return type;
    return nullptr;
  }

  /// Adds a step whose result is a `result_type`; throws flow_error when the name is taken.
  std::uint32_t add(std::string_view name, invoke_fn invoke, const erased_type* result_type, const void* callable,
                    shared_ptr<const void> state) {
    if (name.empty()) throw graph_failure(graph_error::empty_name, flow_name, name);
    if (find(name) != none) throw graph_failure(graph_error::duplicate_name, flow_name, name);
    if (packed_names.size() >= none - 1) throw flow_error("lightflow: flow " + detail::quoted(flow_name) + " has too many steps");
    const auto i = static_cast<std::uint32_t>(packed_names.size());
    packed_names.push_back(store(name));
    if (packed_names.size() * 2 > slots.size())
      grow_index();  // indexes every step, this one too
    else
      insert(i);
    name_bytes += name.size();
    if (!rules.empty()) rules.emplace_back();
    invokers.push_back(invoke);
    if (result_types.empty() || result_types.back().first != invoke) {
      auto known = std::find_if(result_types.begin(), result_types.end(), [&](const auto& t) { return t.first == invoke; });
      if (known == result_types.end()) result_types.emplace_back(invoke, result_type);
    }
    if (callable != nullptr || !callables.empty()) {  // from the first stateful step on, every step has an entry
      callables.resize(i, nullptr);
      callables.push_back(callable);
    }
    if (state) owned.push_back(std::move(state));
    compiled = false;
    return i;
  }

  /// Sets step i's policy.
  void set_rules(std::uint32_t i, shared_ptr<const policy> p) {
    if (rules.empty()) rules.resize(size());
    rules[i] = std::move(p);
    compiled = false;
  }
  shared_ptr<const policy> rules_of(std::uint32_t i) const { return i < rules.size() ? rules[i] : nullptr; }

  void depend(std::uint32_t step, std::uint32_t dep) {
    if (step >= size() || dep >= size())
      throw flow_error("lightflow: flow " + detail::quoted(flow_name) + ": a dependency between steps " + std::to_string(step) +
                       " and " + std::to_string(dep) + ", which are not both steps of the flow (a handle of another flow?)");
    added.emplace_back(step, dep);
    compiled = false;
  }
  void depend(std::uint32_t step, std::string_view dep) {
    if (const std::uint32_t d = find(dep); d != none)
      depend(step, d);
    else {
      added_by_name.emplace_back(step, std::string(dep));
      compiled = false;
    }
  }

  /// True when step `step` already depends on `dep` (compiled, added, or added by name).
  bool has_dependency(std::uint32_t step, std::uint32_t dep) const {
    if (step + 1 < dep_offsets.size() && std::find(deps.begin() + dep_offsets[step], deps.begin() + dep_offsets[step + 1], dep) !=
                                             deps.begin() + dep_offsets[step + 1])
      return true;
    for (const auto& [s, d] : added)
      if (s == step && d == dep) return true;
    for (const auto& [s, n] : added_by_name)
      if (s == step && n == name(dep)) return true;
    return false;
  }
  /// Adds the dependency unless the step has it already: a unifying merge gives a step that both
  /// flows have the union of their dependencies (a repeat declared by the user is an error).
  void depend_once(std::uint32_t step, std::uint32_t dep) {
    if (!has_dependency(step, dep)) depend(step, dep);
  }

  /// The dependencies of step i declared so far (compiled or not), without repeats.
  vector<std::uint32_t> dependencies_of(std::uint32_t i) const {
    vector<std::uint32_t> out;
    if (i + 1 < dep_offsets.size()) out.assign(deps.begin() + dep_offsets[i], deps.begin() + dep_offsets[i + 1]);
    for (const auto& [s, d] : added)
      if (s == i) out.push_back(d);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  /// Makes step `s` depend on every step added before it that it does not already depend on.
  void sync_all(std::uint32_t s) {
    vector<bool> listed(s, false);
    for (std::uint32_t d : dependencies_of(s))
      if (d < s) listed[d] = true;
    for (const auto& [from, dep] : added_by_name)
      if (const std::uint32_t d = find(dep); from == s && d < s) listed[d] = true;
    for (std::uint32_t d = 0; d != s; ++d)
      if (!listed[d]) depend(s, d);
  }

  /// Resolves dependencies given by name, builds dependents, in-degrees and roots, and checks for
  /// unknown names, cycles and bad restrictions. Throws flow_error; leaves the graph as it was then.
  void compile() {
    if (compiled) return;
    const std::uint32_t n = size();
    for (const auto& [s, name] : added_by_name)
      if (find(name) == none) throw graph_failure(graph_error::unknown_dependency, flow_name, this->name(s), name);
    // All dependencies, by step (counting sort), without repeats.
    vector<std::uint32_t> count(n + 1, 0);
    const std::uint32_t old_n = static_cast<std::uint32_t>(dep_offsets.size() - 1);
    for (std::uint32_t i = 0; i != old_n; ++i) count[i] += dep_offsets[i + 1] - dep_offsets[i];
    for (const auto& e : added) ++count[e.first];
    for (const auto& e : added_by_name) ++count[e.first];
    vector<std::uint32_t> offsets(n + 1, 0);
    for (std::uint32_t i = 0; i != n; ++i) offsets[i + 1] = offsets[i] + count[i];
    vector<std::uint32_t> all(offsets[n]);
    vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::uint32_t i = 0; i != old_n; ++i)
      for (std::uint32_t e = dep_offsets[i]; e != dep_offsets[i + 1]; ++e) all[fill[i]++] = deps[e];
    for (const auto& [s, d] : added) all[fill[s]++] = d;
    for (const auto& [s, name] : added_by_name) all[fill[s]++] = find(name);
    fill.clear();
    fill.shrink_to_fit();
    // Each step's dependencies sorted (the manifest lists them so), then link_graph's checks and tables.
    for (std::uint32_t i = 0; i != n; ++i) {
      const std::uint32_t deg = offsets[i + 1] - offsets[i];
      if (deg > pending_count_mask)  // a run counts a step's unfinished dependencies in 30 bits
        throw flow_error("lightflow: step " + detail::quoted(this->name(i)) + " of flow " + detail::quoted(flow_name) + " has " +
                         std::to_string(deg) + " dependencies; at most " + std::to_string(pending_count_mask) +
                         " are allowed");
      if (deg > 1) std::sort(all.begin() + offsets[i], all.begin() + offsets[i + 1]);
    }
    vector<std::uint32_t> outs_offsets(n + 1), dependents(offsets[n]), root_list(n);
    std::uint32_t sinks = 0;
    {
      vector<std::uint32_t> order(n), scratch(n);
      graph_tables t{n, offsets.data(), all.data(), outs_offsets.data(), dependents.data(), root_list.data(),
                     order.data(), scratch.data()};
      const graph_fault fault = link_graph(t);
      if (fault.error == graph_error::cycle)
        throw graph_failure(fault.error, flow_name, {}, {}, fault.cycle_length,
                            [&](std::uint32_t k) { return name(order[k]); });
      if (fault.error != graph_error::none)
        throw graph_failure(fault.error, flow_name, name(fault.step), fault.other != none ? name(fault.other) : std::string_view{});
      root_list.resize(t.root_count);
      root_list.shrink_to_fit();
      sinks = t.sink_count;
    }
    // Restrictions: to a strict ancestor only.
    for (auto& r : restrictions) {
      r.ancestor = find(r.ancestor_name);
      const std::string what = "step " + detail::quoted(this->name(r.step)) + " of flow " + detail::quoted(flow_name) + " restricts key " +
                               detail::quoted(r.key) + " to " + detail::quoted(r.ancestor_name);
      if (r.ancestor == none) throw flow_error("lightflow: " + what + ", which is not a step of the flow");
      if (r.ancestor == r.step) throw flow_error("lightflow: " + what + ": a step cannot restrict a key to itself");
      if (!reaches(offsets, all, r.step, r.ancestor))
        throw flow_error("lightflow: " + what + ", which is not one of its ancestors");
    }
    std::sort(restrictions.begin(), restrictions.end(),
              [](const restriction& a, const restriction& b) { return std::tie(a.step, a.key) < std::tie(b.step, b.key); });

    dep_offsets = std::move(offsets);
    deps = std::move(all);
    added.clear();
    added.shrink_to_fit();
    added_by_name.clear();
    added_by_name.shrink_to_fit();
    out_offsets = std::move(outs_offsets);
    outs = std::move(dependents);
    roots = std::move(root_list);
    sink_count = sinks;
    view = graph_view{};
    view.flow_name = flow_name;
    view.size = n;
    view.packed_names = packed_names.data();
    view.dep_offsets = dep_offsets.data();
    view.deps = deps.data();
    view.out_offsets = out_offsets.data();
    view.outs = outs.data();
    view.roots = roots.data();
    view.root_count = static_cast<std::uint32_t>(roots.size());
    view.sink_count = sinks;
    rule_table.clear();
    for (const auto& r : rules) rule_table.push_back(r.get());
    view.index = this;
    view.lookup = [](const void* self, std::string_view name) noexcept {
      const auto* g = static_cast<const basic_runtime_graph*>(self);
      const std::uint32_t i = g->find(name);
      return i == none ? g->size() : i;
    };
    compiled = true;
  }

  /// True when `ancestor` is reached from `step` by following dependencies (compiled graph).
  bool is_ancestor(std::uint32_t ancestor, std::uint32_t step) const { return reaches(dep_offsets, deps, step, ancestor); }

  /// The restriction of `key` for `step`, if any (compiled graph).
  const restriction* restriction_of(std::uint32_t step, std::string_view key) const noexcept {
    if (restrictions.empty()) return nullptr;
    auto it = std::lower_bound(restrictions.begin(), restrictions.end(), step,
                               [](const restriction& r, std::uint32_t s) { return r.step < s; });
    for (; it != restrictions.end() && it->step == step; ++it)
      if (it->key == key) return &*it;
    return nullptr;
  }

 private:
  const char* store(std::string_view name) {
    const std::size_t need = name.size() + max_name_prefix;
    if (need > chunk_size - chunk_used || chunks.empty() || chunk_size == 0) {
      // Chunks double from 1 KiB to 64 KiB: a small flow does not hold 64 KiB for a few names.
      chunk_size = std::max(need, std::clamp<std::size_t>(chunk_size * 2, 1024, 64 * 1024));
      chunks.push_back(shared_ptr<char[]>(new char[chunk_size]));
      chunk_used = 0;
    }
    char* const at = chunks.back().get() + chunk_used;
    chunk_used += pack_name(at, name);
    return at;
  }
  void insert(std::uint32_t i) {
    insert_name(slots.data(), slots.size(), i, [this](std::uint32_t k) { return name(k); });
  }
  void grow_index() {
    slots.assign(std::max<std::size_t>(16, slots.size() * 2), none);
    for (std::uint32_t i = 0; i != size(); ++i) insert(i);
  }

  static bool reaches(const vector<std::uint32_t>& offsets, const vector<std::uint32_t>& edges,
                      std::uint32_t from, std::uint32_t target) {
    vector<std::uint32_t> stack(edges.begin() + offsets[from], edges.begin() + offsets[from + 1]);
    vector<bool> seen;
    while (!stack.empty()) {
      const std::uint32_t s = stack.back();
      stack.pop_back();
      if (s == target) return true;
      if (seen.empty()) seen.assign(offsets.size(), false);
      if (seen[s]) continue;
      seen[s] = true;
      stack.insert(stack.end(), edges.begin() + offsets[s], edges.begin() + offsets[s + 1]);
    }
    return false;
  }
};

}  // namespace lightflow::detail

#endif

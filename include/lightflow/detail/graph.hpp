// The graph algorithms that run at compile time: name lookup, validation, topological order,
// dependents. Plain consteval functions over std::array, no recursive templates. And the rules'
// messages, written once for a static flow's compile errors and a runtime flow's flow_errors.
#ifndef LIGHTFLOW_DETAIL_GRAPH_HPP
#define LIGHTFLOW_DETAIL_GRAPH_HPP

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/fnv1a.hpp"
#include "lightflow/errors.hpp"

namespace lightflow::detail {

inline constexpr std::uint32_t npos = 0xffffffffu;

enum class graph_error : std::uint8_t {
  none,
  empty_name,
  duplicate_name,
  unknown_dependency,
  self_dependency,
  repeated_dependency,
  cycle,
};

/// Everything lightflow knows about a flow's shape. Arrays get one spare slot so that a flow with no
/// steps or no edges still has addressable storage.
template <std::size_t N, std::size_t E>
struct graph_info {
  std::array<std::string_view, N + 1> names{};
  std::array<std::uint32_t, N + 1> dep_offsets{};  // dependencies of i: deps[dep_offsets[i], dep_offsets[i+1])
  std::array<std::uint32_t, E + 1> deps{};
  // How many of i's dependencies, first in its list, hand it their outputs; the rest only order it.
  std::array<std::uint32_t, N + 1> data_count{};
  std::array<std::uint32_t, N + 1> out_offsets{};  // dependents of i: outs[out_offsets[i], out_offsets[i+1])
  std::array<std::uint32_t, E + 1> outs{};
  std::array<std::uint32_t, N + 1> indegree{};
  std::array<std::uint32_t, N + 1> order{};  // a topological order
  std::array<std::uint32_t, N + 1> roots{};  // steps without dependencies, in declaration order
  std::uint32_t root_count = 0;
  std::uint32_t sink_count = 0;

  graph_error error = graph_error::none;
  std::uint32_t error_step = npos;           // the step the error is about
  std::uint32_t error_other = npos;          // the other step involved (duplicate)
  std::string_view error_name{};             // the dependency name involved
  std::array<std::uint32_t, N + 1> cycle{};  // the steps on a cycle, each running before the next
  std::uint32_t cycle_length = 0;

  constexpr bool ok() const noexcept { return error == graph_error::none; }
  constexpr std::uint32_t index_of(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i != N; ++i)
      if (names[i] == name) return i;
    return npos;
  }
};

/// Analyses a graph given each step's name and the names of its dependencies, flattened; the first
/// `(*data_counts)[i]` of step i's dependencies hand it their outputs (all of them when null).
template <std::size_t N, std::size_t E>
consteval graph_info<N, E> analyze(const std::array<std::string_view, N + 1>& names,
                                   const std::array<std::uint32_t, N + 1>& dep_offsets,
                                   const std::array<std::string_view, E + 1>& dep_names,
                                   const std::array<std::uint32_t, N + 1>* data_counts = nullptr) {
  graph_info<N, E> g{};
  g.names = names;
  g.dep_offsets = dep_offsets;
  auto fail = [&](graph_error e, std::uint32_t step, std::uint32_t other = npos, std::string_view name = {}) {
    g.error = e, g.error_step = step, g.error_other = other, g.error_name = name;
    return g;
  };

  for (std::uint32_t i = 0; i != N; ++i)
    if (names[i].empty()) return fail(graph_error::empty_name, i);

  // Names hashed once into an open-addressing table (twice as many slots as steps), so that each
  // dependency is found in a probe or two: sorting and binary search cost clang's constant evaluator
  // over a million steps (its limit) at 512 steps. A repeated name is reported at its second
  // occurrence, as a runtime flow reports it when the second is added.
  constexpr std::size_t slots = std::bit_ceil(2 * N + 1);
  std::array<std::uint32_t, slots> table{};
  for (auto& t : table) t = npos;
  std::array<std::uint64_t, N + 1> hashes{};
  for (std::uint32_t i = 0; i != N; ++i) {
    hashes[i] = fnv1a(names[i]);
    std::size_t slot = hashes[i] & (slots - 1);
    for (; table[slot] != npos; slot = (slot + 1) & (slots - 1))
      if (hashes[table[slot]] == hashes[i] && names[table[slot]] == names[i])
        return fail(graph_error::duplicate_name, i, table[slot]);
    table[slot] = i;
  }
  const auto find = [&](std::string_view name) -> std::uint32_t {
    const std::uint64_t h = fnv1a(name);
    for (std::size_t slot = h & (slots - 1); table[slot] != npos; slot = (slot + 1) & (slots - 1))
      if (hashes[table[slot]] == h && names[table[slot]] == name) return table[slot];
    return npos;
  };

  std::array<std::uint32_t, N + 1> listed_by{};  // the last step that listed each step as a dependency
  for (auto& l : listed_by) l = npos;
  for (std::uint32_t i = 0; i != N; ++i) {
    for (std::uint32_t e = dep_offsets[i]; e != dep_offsets[i + 1]; ++e) {
      const std::uint32_t d = find(dep_names[e]);
      if (d == npos) return fail(graph_error::unknown_dependency, i, npos, dep_names[e]);
      if (d == i) return fail(graph_error::self_dependency, i);
      if (listed_by[d] == i) return fail(graph_error::repeated_dependency, i, d, dep_names[e]);
      listed_by[d] = i;
      g.deps[e] = d;
    }
    g.indegree[i] = dep_offsets[i + 1] - dep_offsets[i];
    g.data_count[i] = data_counts != nullptr ? (*data_counts)[i] : g.indegree[i];
    if (g.indegree[i] == 0) g.roots[g.root_count++] = i;
  }

  // Dependents, as compressed rows.
  std::array<std::uint32_t, N + 1> fill{};
  for (std::uint32_t e = 0; e != E; ++e) ++g.out_offsets[g.deps[e] + 1];
  for (std::uint32_t i = 0; i != N; ++i) g.out_offsets[i + 1] += g.out_offsets[i];
  for (std::uint32_t i = 0; i != N; ++i) fill[i] = g.out_offsets[i];
  for (std::uint32_t i = 0; i != N; ++i)
    for (std::uint32_t e = dep_offsets[i]; e != dep_offsets[i + 1]; ++e) g.outs[fill[g.deps[e]]++] = i;
  for (std::uint32_t i = 0; i != N; ++i) g.sink_count += g.out_offsets[i] == g.out_offsets[i + 1] ? 1u : 0u;

  // Kahn's algorithm; what it cannot order lies on or behind a cycle.
  std::array<std::uint32_t, N + 1> remaining = g.indegree;
  std::uint32_t head = 0, tail = 0;
  for (std::uint32_t r = 0; r != g.root_count; ++r) g.order[tail++] = g.roots[r];
  while (head != tail) {
    const std::uint32_t v = g.order[head++];
    for (std::uint32_t e = g.out_offsets[v]; e != g.out_offsets[v + 1]; ++e)
      if (--remaining[g.outs[e]] == 0) g.order[tail++] = g.outs[e];
  }
  if (tail != N) {
    // Every unordered step has an unordered dependency: walk those back until a step repeats.
    std::array<std::uint32_t, N + 1> seen_at{};
    for (auto& s : seen_at) s = npos;
    std::array<std::uint32_t, N + 1> walk{};
    std::uint32_t v = 0;
    while (remaining[v] == 0) ++v;
    std::uint32_t len = 0;
    while (seen_at[v] == npos) {
      seen_at[v] = len;
      walk[len++] = v;
      for (std::uint32_t e = dep_offsets[v]; e != dep_offsets[v + 1]; ++e)
        if (remaining[g.deps[e]] != 0) {
          v = g.deps[e];
          break;
        }
    }
    // walk[seen_at[v] .. len) is the cycle, each step depending on the next; reverse it into run order.
    for (std::uint32_t k = len; k-- > seen_at[v];) g.cycle[g.cycle_length++] = walk[k];
    return fail(graph_error::cycle, v);
  }
  return g;
}

/// Writes the one-line message for a graph error into `t`, in plain words that name the steps: one
/// text for both kinds of flow. `Text` is a text_buffer at compile time (a static flow's error) and
/// a string-backed text at run time (a runtime flow's flow_error); both have `<<` and `quoted`.
/// `step` is the step the error is about, `name` the dependency's (unknown or repeated), and
/// `cycle_name(k)` the k-th of `cycle_length` steps on a cycle, each running before the next.
template <class Text, class CycleName>
constexpr void write_graph_error(Text& t, graph_error error, std::string_view flow, std::string_view step,
                                 std::string_view name, std::uint32_t cycle_length, CycleName&& cycle_name) {
  t << "lightflow: flow ";
  t.quoted(flow);
  switch (error) {
    case graph_error::none:
      t << " is valid";
      break;
    case graph_error::empty_name:
      t << ": a step has an empty name";
      break;
    case graph_error::duplicate_name:
      t << " has two steps named ", t.quoted(step);
      break;
    case graph_error::unknown_dependency:
      t << ": step ", t.quoted(step), t << " depends on ", t.quoted(name), t << ", which is not a step of this flow";
      break;
    case graph_error::self_dependency:
      t << ": step ", t.quoted(step), t << " depends on itself";
      break;
    case graph_error::repeated_dependency:
      t << ": step ", t.quoted(step), t << " lists dependency ", t.quoted(name), t << " twice";
      break;
    case graph_error::cycle:
      t << " has a cycle: ";
      for (std::uint32_t k = 0; k != cycle_length; ++k) t.quoted(cycle_name(k)), t << " -> ";
      t.quoted(cycle_name(0));
      t << " (each step depends on the one before it)";
      break;
  }
}

/// The message for a static flow's graph error.
template <std::size_t N, std::size_t E>
consteval text_buffer describe(const graph_info<N, E>& g, std::string_view flow) {
  text_buffer t{};
  const std::string_view step = g.error_step == npos ? std::string_view{} : g.names[g.error_step];
  write_graph_error(t, g.error, flow, step, g.error_name, g.cycle_length,
                    [&](std::uint32_t k) { return g.names[g.cycle[k]]; });
  return t;
}

/// write_graph_error's text at run time.
struct string_text {
  std::string text;
  string_text& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  string_text& quoted(std::string_view s) { return *this << "\"" << s << "\""; }
};

/// A runtime flow's graph error, in the words of a static flow's compile error.
template <class CycleName>
flow_error graph_failure(graph_error error, std::string_view flow, std::string_view step, std::string_view name,
                         std::uint32_t cycle_length, CycleName&& cycle_name) {
  string_text t;
  write_graph_error(t, error, flow, step, name, cycle_length, cycle_name);
  return flow_error(std::move(t.text));
}
inline flow_error graph_failure(graph_error error, std::string_view flow, std::string_view step, std::string_view name = {}) {
  return graph_failure(error, flow, step, name, 0, [](std::uint32_t) { return std::string_view{}; });
}

}  // namespace lightflow::detail

#endif

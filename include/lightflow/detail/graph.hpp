// The graph's rules, written once for both kinds of flow: the name index, the checks, dependents and
// a topological order (constexpr functions over arrays, run at compile time for a static flow and at
// run time for a runtime flow; no recursive templates), and the messages (a static flow's compile
// errors, a runtime flow's flow_errors).
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

/// A table of step indices by name, written once for both kinds of flow: open addressing with
/// linear probing over `size` slots (a power of two, at least twice the steps), FNV-1a, `npos` for
/// an empty slot. `name_of(i)` is step i's name. A static flow's lives in a constant evaluation, a
/// runtime flow's in its storage, grown as steps are added.
template <class NameOf>
constexpr std::uint32_t find_name(const std::uint32_t* slots, std::size_t size, std::string_view name,
                                  const NameOf& name_of) noexcept {
  const std::size_t mask = size - 1;
  for (std::size_t s = fnv1a(name) & mask; slots[s] != npos; s = (s + 1) & mask)
    if (name_of(slots[s]) == name) return slots[s];
  return npos;
}
/// Adds step i to the table; when a step of that name is there already, returns it and adds nothing
/// (else npos).
template <class NameOf>
constexpr std::uint32_t insert_name(std::uint32_t* slots, std::size_t size, std::uint32_t i,
                                    const NameOf& name_of) noexcept {
  const std::size_t mask = size - 1;
  const std::string_view name = name_of(i);
  std::size_t s = fnv1a(name) & mask;
  for (; slots[s] != npos; s = (s + 1) & mask)
    if (name_of(slots[s]) == name) return slots[s];
  slots[s] = i;
  return npos;
}

/// What link_graph found wrong, if anything.
struct graph_fault {
  graph_error error = graph_error::none;
  std::uint32_t step = npos;       // the step the error is about
  std::uint32_t other = npos;      // the dependency involved (repeated)
  std::uint32_t cycle_length = 0;  // a cycle's steps: order[0, cycle_length), each running before the next
};

/// The arrays link_graph reads and fills, owned by the caller (std::array in a constant evaluation,
/// std::vector at run time). In: `n` steps and their dependencies by index, step i's being
/// deps[dep_offsets[i], dep_offsets[i + 1]). Out: the dependents as compressed rows (out_offsets,
/// n + 1; outs, one per dependency), the steps without dependencies in index order (roots, n), a
/// topological order (order, n), and scratch space (n).
struct graph_tables {
  std::uint32_t n = 0;
  const std::uint32_t* dep_offsets = nullptr;
  const std::uint32_t* deps = nullptr;
  std::uint32_t* out_offsets = nullptr;
  std::uint32_t* outs = nullptr;
  std::uint32_t* roots = nullptr;
  std::uint32_t* order = nullptr;
  std::uint32_t* scratch = nullptr;
  std::uint32_t root_count = 0;
  std::uint32_t sink_count = 0;
};

/// The checks of a graph whose names are resolved, and its derived tables: written once, run at
/// compile time for a static flow and at run time for a runtime flow. Checks, in step order, that no
/// step depends on itself or lists a dependency twice; then orders the steps (Kahn's algorithm) and,
/// when some cannot be ordered, puts a cycle in `order`, in run order. A step has fewer than 2^31
/// dependencies (a runtime flow checks it before).
constexpr graph_fault link_graph(graph_tables& t) noexcept {
  const std::uint32_t n = t.n;
  const std::uint32_t* const offsets = t.dep_offsets;
  const std::uint32_t* const deps = t.deps;
  std::uint32_t* const scratch = t.scratch;
  for (std::uint32_t i = 0; i != n; ++i) scratch[i] = npos;  // the last step that listed i
  for (std::uint32_t i = 0; i != n; ++i)
    for (std::uint32_t e = offsets[i]; e != offsets[i + 1]; ++e) {
      const std::uint32_t d = deps[e];
      if (d == i) return {graph_error::self_dependency, i};
      if (scratch[d] == i) return {graph_error::repeated_dependency, i, d};
      scratch[d] = i;
    }

  // Dependents, as compressed rows (`order` holds where each row's next entry goes).
  for (std::uint32_t i = 0; i <= n; ++i) t.out_offsets[i] = 0;
  for (std::uint32_t e = 0; e != offsets[n]; ++e) ++t.out_offsets[deps[e] + 1];
  for (std::uint32_t i = 0; i != n; ++i) t.out_offsets[i + 1] += t.out_offsets[i];
  for (std::uint32_t i = 0; i != n; ++i) t.order[i] = t.out_offsets[i];
  for (std::uint32_t i = 0; i != n; ++i)
    for (std::uint32_t e = offsets[i]; e != offsets[i + 1]; ++e) t.outs[t.order[deps[e]]++] = i;
  t.root_count = t.sink_count = 0;
  for (std::uint32_t i = 0; i != n; ++i) {
    if (offsets[i] == offsets[i + 1]) t.roots[t.root_count++] = i;
    if (t.out_offsets[i] == t.out_offsets[i + 1]) ++t.sink_count;
  }

  // Kahn's algorithm, `order` its queue and `scratch` each step's unordered dependencies.
  for (std::uint32_t i = 0; i != n; ++i) scratch[i] = offsets[i + 1] - offsets[i];
  std::uint32_t head = 0, tail = 0;
  for (std::uint32_t r = 0; r != t.root_count; ++r) t.order[tail++] = t.roots[r];
  while (head != tail) {
    const std::uint32_t v = t.order[head++];
    for (std::uint32_t e = t.out_offsets[v]; e != t.out_offsets[v + 1]; ++e)
      if (--scratch[t.outs[e]] == 0) t.order[tail++] = t.outs[e];
  }
  if (tail == n) return {};

  // What could not be ordered lies on or behind a cycle, and each such step has an unordered
  // dependency: walk those back from the first one, marking the steps passed, until one repeats.
  constexpr std::uint32_t passed = 0x80000000u;
  std::uint32_t v = 0;
  while (scratch[v] == 0) ++v;
  std::uint32_t len = 0;
  while ((scratch[v] & passed) == 0) {
    scratch[v] |= passed;
    t.order[len++] = v;
    for (std::uint32_t e = offsets[v]; e != offsets[v + 1]; ++e)
      if (scratch[deps[e]] != 0) {
        v = deps[e];
        break;
      }
  }
  // order[start, len) is the cycle, each step depending on the next: reverse it into run order and
  // move it to the front.
  std::uint32_t start = len;
  while (t.order[start - 1] != v) --start;
  --start;
  for (std::uint32_t a = start, b = len - 1; a < b; ++a, --b) {
    const std::uint32_t x = t.order[a];
    t.order[a] = t.order[b];
    t.order[b] = x;
  }
  for (std::uint32_t k = 0; k != len - start; ++k) t.order[k] = t.order[start + k];
  return {graph_error::cycle, v, npos, len - start};
}

/// Everything lightflow knows about a static flow's shape. Arrays get one spare slot so that a flow
/// with no steps or no edges still has addressable storage.
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
  std::array<std::uint32_t, N + 1> order{};  // a topological order; with a cycle, the cycle (see cycle())
  std::array<std::uint32_t, N + 1> roots{};  // steps without dependencies, in declaration order
  std::uint32_t root_count = 0;
  std::uint32_t sink_count = 0;

  graph_error error = graph_error::none;
  std::uint32_t error_step = npos;   // the step the error is about
  std::uint32_t error_other = npos;  // the other step involved (duplicate, repeated dependency)
  std::string_view error_name{};     // the dependency name involved
  std::uint32_t cycle_length = 0;

  constexpr bool ok() const noexcept { return error == graph_error::none; }
  /// The k-th of cycle_length steps on a cycle, each running before the next.
  constexpr std::uint32_t cycle(std::uint32_t k) const noexcept { return order[k]; }
  constexpr std::uint32_t index_of(std::string_view name) const noexcept {
    for (std::uint32_t i = 0; i != N; ++i)
      if (names[i] == name) return i;
    return npos;
  }
};

/// Analyses a static flow's graph given each step's name and the names of its dependencies,
/// flattened; the first `(*data_counts)[i]` of step i's dependencies hand it their outputs (all of
/// them when null). The rules in the order a runtime flow applies them: names (empty, then repeated,
/// reported at the second occurrence), unknown dependencies, then link_graph's.
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
  constexpr std::size_t slots = std::bit_ceil(2 * N + 1);
  std::array<std::uint32_t, slots> table{};
  for (auto& t : table) t = npos;
  const auto name_of = [&](std::uint32_t i) { return names[i]; };
  for (std::uint32_t i = 0; i != N; ++i)
    if (const std::uint32_t first = insert_name(table.data(), slots, i, name_of); first != npos)
      return fail(graph_error::duplicate_name, i, first);
  for (std::uint32_t i = 0; i != N; ++i) {
    for (std::uint32_t e = dep_offsets[i]; e != dep_offsets[i + 1]; ++e) {
      g.deps[e] = find_name(table.data(), slots, dep_names[e], name_of);
      if (g.deps[e] == npos) return fail(graph_error::unknown_dependency, i, npos, dep_names[e]);
    }
    g.indegree[i] = dep_offsets[i + 1] - dep_offsets[i];
    g.data_count[i] = data_counts != nullptr ? (*data_counts)[i] : g.indegree[i];
  }

  std::array<std::uint32_t, N + 1> scratch{};
  graph_tables t{N,
                 g.dep_offsets.data(),
                 g.deps.data(),
                 g.out_offsets.data(),
                 g.outs.data(),
                 g.roots.data(),
                 g.order.data(),
                 scratch.data()};
  const graph_fault fault = link_graph(t);
  g.root_count = t.root_count;
  g.sink_count = t.sink_count;
  g.cycle_length = fault.cycle_length;
  if (fault.error != graph_error::none)
    return fail(fault.error, fault.step, fault.other, fault.other != npos ? names[fault.other] : std::string_view{});
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
                    [&](std::uint32_t k) { return g.names[g.cycle(k)]; });
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
inline flow_error graph_failure(graph_error error, std::string_view flow, std::string_view step,
                                std::string_view name = {}) {
  return graph_failure(error, flow, step, name, 0, [](std::uint32_t) { return std::string_view{}; });
}

}  // namespace lightflow::detail

#endif

// Merging static flows into one: each flow's steps are renamed "<flow>.<step>", ordering edges
// between them are added, and the merged graph is checked again at compile time.
//
//   auto main = lf::merge<"main">(billing, shipping, lf::edge<"billing.charge", "shipping.pack">);
//
// An edge makes its second step run after its first without handing it the first's output (the
// second step's callable keeps its parameters). A cycle made by the edges fails to compile with the
// cycle's steps named.
#ifndef LIGHTFLOW_MERGE_HPP
#define LIGHTFLOW_MERGE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/indexed_storage.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/step.hpp"

namespace lightflow {

/// An ordering edge of a merge: step `After` runs after step `Before` (both named "<flow>.<step>").
template <fixed_string Before, fixed_string After>
struct edge_definition {
  static constexpr auto before = Before;  ///< The step that runs first.
  static constexpr auto after = After;    ///< The step that waits for it.
};
/// `lf::edge<"sub1.A", "sub2.B">`: in the merged flow, "sub2.B" runs after "sub1.A".
template <fixed_string Before, fixed_string After>
inline constexpr edge_definition<Before, After> edge{};

namespace detail {

template <class T>
inline constexpr bool is_edge = false;
template <fixed_string B, fixed_string A>
inline constexpr bool is_edge<edge_definition<B, A>> = true;

/// "<prefix>.<name>".
template <fixed_string Prefix, fixed_string Name>
inline constexpr auto joined = [] {
  fixed_string<Prefix.size() + 1 + Name.size()> out{};
  std::size_t k = 0;
  for (char c : Prefix.view()) out.chars[k++] = c;
  out.chars[k++] = '.';
  for (char c : Name.view()) out.chars[k++] = c;
  return out;
}();

template <class... T>
struct step_list {};

/// Which of `Edges` end at the step named `name` and are not already among its dependencies
/// `deps`: their positions, then their count in the last slot.
template <class... Edges>
consteval auto edges_into(std::string_view name, const std::string_view* deps, std::size_t dep_count) {
  std::array<std::uint32_t, sizeof...(Edges) + 1> out{};
  const std::array<std::string_view, sizeof...(Edges) + 1> befores{Edges::before.view()..., {}};
  const std::array<std::string_view, sizeof...(Edges) + 1> afters{Edges::after.view()..., {}};
  std::uint32_t n = 0;
  for (std::uint32_t e = 0; e != sizeof...(Edges); ++e) {
    if (afters[e] != name) continue;
    bool known = false;
    for (std::size_t d = 0; d != dep_count; ++d) known = known || deps[d] == befores[e];
    for (std::uint32_t k = 0; k != n; ++k) known = known || befores[out[k]] == befores[e];
    if (!known) out[n++] = e;
  }
  out[sizeof...(Edges)] = n;
  return out;
}

template <fixed_string Prefix, class Step, class EdgeStorage, class... Edges>
struct renamed_step;

template <fixed_string Prefix, fixed_string Name, class F, fixed_string... Ordered, class Rules, fixed_string... Deps,
          class EdgeStorage, class... Edges>
struct renamed_step<Prefix, step_definition<Name, F, after_names<Ordered...>, Rules, Deps...>, EdgeStorage, Edges...> {
  static constexpr auto name = joined<Prefix, Name>;
  static constexpr std::array<std::string_view, sizeof...(Deps) + sizeof...(Ordered) + 1> deps{
      joined<Prefix, Deps>.view()..., joined<Prefix, Ordered>.view()..., std::string_view{}};
  static constexpr auto picked = edges_into<Edges...>(name.view(), deps.data(), deps.size() - 1);

  template <std::size_t... K>
  static auto make(std::index_sequence<K...>)
      -> step_definition<name, F,
                         after_names<joined<Prefix, Ordered>...,
                                     std::remove_cvref_t<element_t<picked[K], EdgeStorage>>::before...>,
                         policy_ref, joined<Prefix, Deps>...>;
  using type = decltype(make(std::make_index_sequence<picked[sizeof...(Edges)]>{}));
};

/// The steps of one flow, renamed and given the edges that end at them.
template <class Flow, class EdgeStorage, class... Edges>
struct renamed_flow {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>)
      -> step_list<typename renamed_step<Flow::name, typename Flow::template step_at<I>, EdgeStorage, Edges...>::type...>;
  using type = decltype(make(std::make_index_sequence<Flow::size>{}));

  template <std::size_t... I>
  static constexpr auto steps(const Flow& flow, std::index_sequence<I...>) {
    using result = std::tuple<typename renamed_step<Flow::name, typename Flow::template step_at<I>, EdgeStorage, Edges...>::type...>;
    // A step keeps its own policy; where it has none, its flow's default retries apply.
    return result(std::tuple_element_t<I, result>{{}, flow.template step<I>().callable,
                                                   policy::inherit(flow.template step<I>().rules.shared(), flow.defaults())}...);
  }
};

struct bad_edge {
  std::uint32_t edge = npos;  // the first edge with an end that is not a step, or npos
  bool before_unknown = false;
};
/// Every edge's two ends must be steps of the merged flow.
template <class... Edges>
consteval bad_edge edge_with_unknown_end(const std::string_view* names, std::size_t n) {
  const std::array<std::string_view, sizeof...(Edges) + 1> befores{Edges::before.view()..., {}};
  const std::array<std::string_view, sizeof...(Edges) + 1> afters{Edges::after.view()..., {}};
  for (std::uint32_t e = 0; e != sizeof...(Edges); ++e) {
    bool b = false, a = false;
    for (std::size_t i = 0; i != n; ++i) b = b || names[i] == befores[e], a = a || names[i] == afters[e];
    if (!b || !a) return {e, !b};
  }
  return {};
}

/// The message for an edge one of whose ends is not a step of the merged flow.
template <fixed_string Flow, class Edge>
consteval text_buffer describe_bad_edge(bool before_unknown) {
  text_buffer t{};
  t << "lightflow: merge ", t.quoted(Flow.view()), t << ": edge from ", t.quoted(Edge::before.view());
  t << " to ", t.quoted(Edge::after.view()), t << " names ";
  t.quoted(before_unknown ? Edge::before.view() : Edge::after.view());
  t << ", which is not a step of the merged flow (its steps are named \"<flow>.<step>\")";
  return t;
}

/// Checks the edges' ends, then makes the merged flow (whose own check finds cycles).
template <fixed_string Name, class... Edges, class... Steps>
constexpr auto merged_flow(step_list<Edges...>, Steps... steps) {
  constexpr std::array<std::string_view, sizeof...(Steps) + 1> names{Steps::name.view()..., {}};
  constexpr bad_edge bad = edge_with_unknown_end<Edges...>(names.data(), sizeof...(Steps));
  if constexpr (bad.edge != npos) {
    using edge = element_t<bad.edge, indexed_storage<std::make_index_sequence<sizeof...(Edges)>, Edges...>>;
    return raise<to_fixed_string<describe_bad_edge<Name, edge>(bad.before_unknown)>(), offered<>, invalid_flow>();
  } else {
    return flow<Name>(std::move(steps)...);
  }
}

/// Sorts merge's arguments into flows and edges, renames the flows' steps, adds the edges.
template <fixed_string Name, class... Parts>
struct merger {
  using parts = indexed_storage<std::index_sequence_for<Parts...>, Parts...>;
  static constexpr std::size_t flow_count = (std::size_t{0} + ... + (is_static_flow<Parts> ? 1 : 0));
  static constexpr std::size_t edge_count = (std::size_t{0} + ... + (is_edge<Parts> ? 1 : 0));
  static constexpr bool valid = flow_count + edge_count == sizeof...(Parts);
  // Positions among the arguments: the flows', then the edges'.
  static constexpr auto positions = [] {
    constexpr std::array<bool, sizeof...(Parts) + 1> flows{is_static_flow<Parts>..., false};
    std::array<std::uint32_t, sizeof...(Parts) + 1> out{};
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i != sizeof...(Parts); ++i)
      if (flows[i]) out[n++] = i;
    for (std::uint32_t i = 0; i != sizeof...(Parts); ++i)
      if (!flows[i]) out[n++] = i;
    return out;
  }();
  template <std::size_t K>
  using part = std::remove_cvref_t<element_t<positions[K], parts>>;

  template <std::size_t... E>
  static auto edges(std::index_sequence<E...>) -> step_list<part<flow_count + E>...>;
  using edge_list = decltype(edges(std::make_index_sequence<edge_count>{}));

  template <class Tuple, std::size_t... F, class... Edges>
  static constexpr auto make(const Tuple& args, std::index_sequence<F...>, step_list<Edges...> edge_types) {
    using edge_storage = indexed_storage<std::make_index_sequence<sizeof...(Edges)>, Edges...>;
    auto steps = std::tuple_cat(renamed_flow<part<F>, edge_storage, Edges...>::steps(
        std::get<positions[F]>(args), std::make_index_sequence<part<F>::size>{})...);
    return std::apply([&](auto&... s) { return merged_flow<Name>(edge_types, std::move(s)...); }, steps);
  }
};

}  // namespace detail

/// Merges static flows into one named `Name`: every step of a flow `f` becomes "<f>.<step>", with
/// its dependencies renamed alike; `lf::edge<"a.x", "b.y">` arguments add ordering edges between the
/// flows' steps. The merged graph is checked at compile time like any flow's: a cycle made by the
/// edges fails to compile and names its steps. The flows passed are copied, not changed; merged
/// flows can be merged again ("top.main.a.x").
template <fixed_string Name, class... Parts>
constexpr auto merge(const Parts&... parts) {
  using m = detail::merger<Name, Parts...>;
  if constexpr (!m::valid) {
    return detail::raise<
        "lightflow: every argument of lightflow::merge must be a static flow (made by lightflow::flow) or an edge "
        "(lightflow::edge<\"flow.step\", \"flow.step\">); the arguments' types are listed after this message",
        offered<Parts...>, detail::invalid_flow>();
  } else {
    return m::make(std::forward_as_tuple(parts...), std::make_index_sequence<m::flow_count>{}, typename m::edge_list{});
  }
}

}  // namespace lightflow

#endif

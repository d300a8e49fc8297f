// The compile-time graph algorithms, checked by static_assert and again at run time.
#include <lightflow/lightflow.hpp>

#include <array>
#include <string>
#include <string_view>

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace lf = lightflow;
using lf::detail::graph_error;
using lf::detail::npos;

namespace {

template <class G>
constexpr bool is_topological(const G& g, std::size_t n) {
  std::array<std::size_t, 1024> position{};
  for (std::size_t k = 0; k != n; ++k) position[g.order[k]] = k;
  for (std::uint32_t i = 0; i != n; ++i)
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      if (position[g.deps[e]] >= position[i]) return false;
  return true;
}

template <std::size_t N, std::size_t E>
consteval auto analyze(std::array<std::string_view, N + 1> names, std::array<std::uint32_t, N + 1> offsets,
                       std::array<std::string_view, E + 1> deps) {
  return lf::detail::analyze<N, E>(names, offsets, deps);
}

// a; b <- a; c <- a; d <- b, c
constexpr auto diamond = analyze<4, 4>({"a", "b", "c", "d", ""}, {0, 0, 1, 2, 4}, {"a", "a", "b", "c", ""});

constexpr bool diamond_is_analyzed() {
  const auto& g = diamond;
  return g.ok() && g.root_count == 1 && g.roots[0] == 0 && g.sink_count == 1 && g.indegree[3] == 2 &&
         g.indegree[0] == 0 && g.out_offsets[1] - g.out_offsets[0] == 2 && is_topological(g, 4) &&
         g.index_of("c") == 2 && g.index_of("zz") == npos;
}
static_assert(diamond_is_analyzed());

constexpr auto cyclic = analyze<4, 4>({"a", "b", "c", "d", ""}, {0, 1, 2, 3, 4}, {"d", "a", "b", "c", ""});
constexpr bool cycle_is_found_in_run_order() {
  const auto& g = cyclic;
  if (g.error != graph_error::cycle || g.cycle_length != 4) return false;
  // each step on the cycle depends on the one before it
  for (std::uint32_t k = 0; k != g.cycle_length; ++k) {
    const std::uint32_t later = g.cycle((k + 1) % g.cycle_length);
    const std::uint32_t earlier = g.cycle(k);
    if (g.deps[g.dep_offsets[later]] != earlier) return false;
  }
  return true;
}
static_assert(cycle_is_found_in_run_order());

// A cycle behind a step that is not on it: x -> (p <-> q)
constexpr auto tail_cycle = analyze<3, 3>({"x", "p", "q", ""}, {0, 0, 2, 3}, {"x", "q", "p", ""});
static_assert(tail_cycle.error == graph_error::cycle && tail_cycle.cycle_length == 2);
// The first step that cannot run is behind the cycle (t -> p <-> q): the cycle alone is named, in run order.
constexpr auto behind_cycle = analyze<3, 3>({"t", "p", "q", ""}, {0, 1, 2, 3}, {"p", "q", "p", ""});
static_assert(behind_cycle.error == graph_error::cycle && behind_cycle.cycle_length == 2 &&
              behind_cycle.cycle(0) == 2 && behind_cycle.cycle(1) == 1);

constexpr auto duplicate = analyze<3, 0>({"a", "b", "a", ""}, {0, 0, 0, 0}, {""});
static_assert(duplicate.error == graph_error::duplicate_name && duplicate.error_step == 2 &&
              duplicate.error_other == 0);

constexpr auto unknown = analyze<2, 1>({"a", "b", ""}, {0, 0, 1}, {"nope", ""});
static_assert(unknown.error == graph_error::unknown_dependency && unknown.error_step == 1 &&
              unknown.error_name == "nope");

constexpr auto self = analyze<2, 1>({"a", "b", ""}, {0, 0, 1}, {"b", ""});
static_assert(self.error == graph_error::self_dependency && self.error_step == 1);

constexpr auto repeated = analyze<2, 2>({"a", "b", ""}, {0, 0, 2}, {"a", "a", ""});
static_assert(repeated.error == graph_error::repeated_dependency && repeated.error_step == 1);

constexpr auto empty_name = analyze<2, 0>({"a", "", ""}, {0, 0, 0}, {""});
static_assert(empty_name.error == graph_error::empty_name);

constexpr auto nothing = analyze<0, 0>({""}, {0}, {""});
static_assert(nothing.ok() && nothing.root_count == 0 && nothing.sink_count == 0);

constexpr bool messages_name_the_steps() {
  const auto c = lf::detail::describe(cyclic, "f");
  const auto u = lf::detail::describe(unknown, "f");
  const auto d = lf::detail::describe(duplicate, "f");
  const auto s = lf::detail::describe(self, "f");
  const auto r = lf::detail::describe(repeated, "f");
  return std::string_view(c.data, c.size) ==
             "lightflow: flow \"f\" has a cycle: \"b\" -> \"c\" -> \"d\" -> \"a\" -> \"b\" (each step depends on the "
             "one "
             "before it)" &&
         std::string_view(u.data, u.size) ==
             "lightflow: flow \"f\": step \"b\" depends on \"nope\", which is not a step of this flow" &&
         std::string_view(d.data, d.size) == "lightflow: flow \"f\" has two steps named \"a\"" &&
         std::string_view(s.data, s.size) == "lightflow: flow \"f\": step \"b\" depends on itself" &&
         std::string_view(r.data, r.size) == "lightflow: flow \"f\": step \"b\" lists dependency \"a\" twice";
}
static_assert(messages_name_the_steps());

// Generated shapes: ordered, with the expected roots and sinks.
using wave = decltype(generated::make_flow<generated::wavefront<16, 16>>([](const auto&...) {}));
static_assert(wave::graph.ok() && wave::size == 256 && wave::graph.root_count == 1 && wave::graph.sink_count == 1);
static_assert(is_topological(wave::graph, 256));
using fan = decltype(generated::make_flow<generated::fan_out<32>>([](const auto&...) {}));
static_assert(fan::graph.root_count == 1 && fan::graph.sink_count == 1 && fan::graph.indegree[33] == 32);

}  // namespace

TEST_CASE("graph analysis also holds when evaluated at run time", "[graph]") {
  CHECK(diamond_is_analyzed());
  CHECK(cycle_is_found_in_run_order());
  CHECK(messages_name_the_steps());
  CHECK(is_topological(wave::graph, 256));
}

TEST_CASE("a flow's graph is computed from its steps", "[graph]") {
  auto f =
      lf::flow<"订单">(lf::step<"验证">([](int x) { return x; }), lf::step<"支付", "验证">([](int x) { return x; }),
                       lf::step<"发货", "验证", "支付">([](int a, int b) { return a + b; }));
  using F = decltype(f);
  STATIC_REQUIRE(F::size == 3);
  STATIC_REQUIRE(F::index_of("发货") == 2);
  STATIC_REQUIRE(F::graph.indegree[2] == 2);
  STATIC_REQUIRE(F::graph.order[0] == 0);
  CHECK(F::view.flow_name == "订单");
  CHECK(F::view.names[1] == "支付");
}

// One rule set and one text for both kinds of flow: each mistake made in a runtime flow throws the
// words a static flow's compile error prints (computed here by the same consteval analysis).
TEST_CASE("a runtime flow's graph mistakes are worded as a static flow's compile errors", "[graph][runtime][parity]") {
  auto runtime_message = [](auto&& make) -> std::string {
    try {
      lf::runtime_flow f{"f"};
      make(f);
      f.check();
    } catch (const lf::flow_error& e) {
      return e.what();
    }
    return "no error";
  };
  auto text = [](const lf::detail::text_buffer& t) { return std::string(t.data, t.size); };
  auto body = [] {};

  CHECK(runtime_message([&](lf::runtime_flow& f) { f.add("a", body); f.add("b", body); f.add("a", body); }) ==
        text(lf::detail::describe(duplicate, "f")));
  CHECK(runtime_message([&](lf::runtime_flow& f) { f.add("a", body); f.add("b", body).after("nope"); }) ==
        text(lf::detail::describe(unknown, "f")));
  CHECK(runtime_message([&](lf::runtime_flow& f) { f.add("a", body); f.add("b", body).after("b"); }) ==
        text(lf::detail::describe(self, "f")));
  CHECK(runtime_message([&](lf::runtime_flow& f) { f.add("a", body); f.add("b", body).after("a", "a"); }) ==
        text(lf::detail::describe(repeated, "f")));
  CHECK(runtime_message([&](lf::runtime_flow& f) { f.add("a", body); f.add("", body); }) ==
        text(lf::detail::describe(empty_name, "f")));
  // A cycle a -> b -> c -> a, each step with one dependency: the same path, in the same direction.
  constexpr auto ring = analyze<3, 3>({"a", "b", "c", ""}, {0, 1, 2, 3}, {"c", "a", "b", ""});
  static_assert(ring.error == graph_error::cycle);
  CHECK(runtime_message([&](lf::runtime_flow& f) {
          f.add("a", body).after("c");
          f.add("b", body).after("a");
          f.add("c", body).after("b");
        }) == text(lf::detail::describe(ring, "f")));
  CHECK(runtime_message([&](lf::runtime_flow& f) {
          f.add("t", body).after("p");
          f.add("p", body).after("q");
          f.add("q", body).after("p");
        }) == text(lf::detail::describe(behind_cycle, "f")));
}

// Running generated static flows of many shapes and sizes: every step runs once, after all of its
// dependencies; outputs flow through the graph; a flow longer than a fold expression may be runs,
// alone and merged into a runtime flow. (Apart from run_test.cpp: these flows are the slowest code
// of the tests to compile, and two smaller files build in parallel.)
#include <lightflow/lightflow.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace lf = lightflow;

namespace {

// Records, for every step, when it started and ended on one global sequence.
template <std::size_t N>
struct recorder {
  std::atomic<int> clock{0};
  std::array<std::atomic<int>, N> started{}, ended{}, runs{};
  void reset() {
    clock = 0;
    for (std::size_t i = 0; i != N; ++i) started[i] = ended[i] = runs[i] = 0;
  }
  void record(lf::step_context& ctx) {
    const auto i = static_cast<std::size_t>(std::stoi(std::string(ctx.name().substr(1))));
    started[i] = ++clock;
    runs[i].fetch_add(1);
    ended[i] = ++clock;
  }
};

template <class Flow, std::size_t N>
void check_order(const recorder<N>& rec) {
  constexpr auto& g = Flow::graph;
  for (std::uint32_t i = 0; i != Flow::size; ++i) {
    REQUIRE(rec.runs[i] == 1);
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      REQUIRE(rec.ended[g.deps[e]] < rec.started[i]);
  }
}

template <class Shape>
void runs_every_step_once_after_its_dependencies(lf::executor& pool, int repetitions) {
  static recorder<Shape::size> rec;
  auto f = generated::make_flow<Shape>([](lf::step_context& ctx) { rec.record(ctx); });
  for (int r = 0; r != repetitions; ++r) {
    rec.reset();
    auto result = pool.run(f);
    REQUIRE(result.ok());
    check_order<decltype(f)>(rec);
  }
}

}  // namespace

TEST_CASE("every step runs exactly once and after all of its dependencies", "[run][order]") {
  lf::executor pool{3};
  SECTION("diamond") { runs_every_step_once_after_its_dependencies<generated::layered<3, 2>>(pool, 300); }
  SECTION("wide fan-out") { runs_every_step_once_after_its_dependencies<generated::fan_out<100>>(pool, 300); }
  SECTION("layers") { runs_every_step_once_after_its_dependencies<generated::layered<8, 8>>(pool, 300); }
  SECTION("wavefront") { runs_every_step_once_after_its_dependencies<generated::wavefront<8, 8>>(pool, 100); }
  SECTION("chain") { runs_every_step_once_after_its_dependencies<generated::chain<64>>(pool, 100); }
}

TEST_CASE("outputs flow through a generated graph", "[run]") {
  lf::executor pool{2};
  auto f = generated::make_flow<generated::layered<6, 3>>(
      [](const auto&... in) -> std::uint64_t { return (std::uint64_t{1} + ... + static_cast<std::uint64_t>(in)); });
  using F = decltype(f);
  for (int x : {0, 1, 7}) {
    auto result = pool.run(f, x);
    REQUIRE(result.ok());
    std::array<std::uint64_t, F::size> expect{};
    for (std::uint32_t k = 0; k != F::size; ++k) {
      const std::uint32_t i = F::graph.order[k];
      std::uint64_t v = 1;
      if (F::graph.indegree[i] == 0) v += static_cast<std::uint64_t>(x);
      for (std::uint32_t e = F::graph.dep_offsets[i]; e != F::graph.dep_offsets[i + 1]; ++e)
        v += expect[F::graph.deps[e]];
      expect[i] = v;
    }
    CHECK(result.get<"s00017">() == expect[17]);
    CHECK(result.get<"s00000">() == static_cast<std::uint64_t>(x) + 1);
  }
}

namespace {
int depth_of(int x) { return x; }
int depth_of(const lf::values&) { return 0; }  // a root step merged into a runtime flow is offered the run's values
}  // namespace

TEST_CASE("a flow of more steps than a fold expression may have runs, alone and merged into a runtime flow",
          "[run][large]") {
  // 300 steps: clang limits a fold expression to 256 operands (a pack of steps once went through
  // folds), and its constant evaluator to a million steps (sorting 512 names once took more).
  auto chain =
      generated::make_flow<generated::chain<300>>([](const auto&... in) -> int { return (1 + ... + depth_of(in)); });
  lf::executor pool{2};
  auto alone = pool.run(chain);
  REQUIRE(alone.ok());
  CHECK(alone.get<"s00299">() == 300);
  CHECK(alone.get<"s00000">() == 1);

  lf::runtime_flow merged{"merged"};
  merged.merge(chain);
  CHECK(merged.size() == 300);
  auto result = pool.run(merged);
  REQUIRE(result.ok());
  CHECK(result.get<int>("generated.s00299") == 300);
}

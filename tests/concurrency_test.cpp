// Many runs of one flow, from many threads, at the same time, on one executor; each scenario through
// a static flow and a runtime flow of the same shape.
#include <lightflow/lightflow.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/generated_flows.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using two_kinds::runtime_flows;
using two_kinds::static_flows;

namespace {

auto sum_step = [](const auto&... in) -> std::uint64_t {
  return (std::uint64_t{1} + ... + static_cast<std::uint64_t>(in));
};

template <class F>
std::uint64_t expected_sink(std::uint64_t x) {
  std::array<std::uint64_t, F::size> value{};
  for (std::uint32_t k = 0; k != F::size; ++k) {
    const std::uint32_t i = F::graph.order[k];
    std::uint64_t v = 1 + (F::graph.indegree[i] == 0 ? x : 0);
    for (std::uint32_t e = F::graph.dep_offsets[i]; e != F::graph.dep_offsets[i + 1]; ++e) v += value[F::graph.deps[e]];
    value[i] = v;
  }
  return value[F::size - 1];
}

const lf::key<std::uint64_t> x_key{"x"};

/// The runtime flow of static flow F's shape: each step returns 1 + its dependencies' results (+ the
/// input for a step without dependencies), read by name.
template <class F>
lf::runtime_flow runtime_copy() {
  lf::runtime_flow f{std::string(F::name.view())};
  for (std::uint32_t i = 0; i != F::size; ++i) {
    std::vector<std::string> deps;
    for (std::uint32_t e = F::graph.dep_offsets[i]; e != F::graph.dep_offsets[i + 1]; ++e)
      deps.emplace_back(F::graph.names[F::graph.deps[e]]);
    auto h = f.add(F::graph.names[i], [deps](lf::context& ctx) {
      std::uint64_t v = 1 + (deps.empty() ? ctx.get(x_key) : 0);
      for (const auto& d : deps) v += ctx.result<std::uint64_t>(d);
      return v;
    });
    for (const auto& d : deps) h.after(d);
  }
  return f;
}

template <class Kind>
auto input(std::uint64_t x) {
  return two_kinds::input<Kind>(x, x_key);
}

}  // namespace

TEMPLATE_TEST_CASE("1,000 runs of a 62-step flow issued concurrently from several threads", "[concurrency]",
                   static_flows, runtime_flows) {
  lf::executor pool{2};
  auto made = generated::make_flow<generated::layered<31, 2>>(sum_step);
  using F = decltype(made);
  STATIC_REQUIRE(F::size == 62);
  auto f = [&] {
    if constexpr (TestType::is_static) return made;
    else return runtime_copy<F>();
  }();
  constexpr int threads = 4, per_thread = 250;
  std::atomic<int> wrong{0}, done{0};
  {
    std::vector<std::jthread> issuers;
    for (int t = 0; t != threads; ++t)
      issuers.emplace_back([&, t] {
        std::vector<decltype(pool.submit(f, input<TestType>(0)))> pending;
        for (int i = 0; i != per_thread; ++i) {
          const auto x = static_cast<std::uint64_t>(t * per_thread + i);
          if (i % 2 == 0) {
            auto result = pool.run(f, input<TestType>(x));
            if (!result.ok() || two_kinds::value_of<"s00061", std::uint64_t>(result) != expected_sink<F>(x)) ++wrong;
            ++done;
          } else {
            pending.push_back(pool.submit(f, input<TestType>(x)));
          }
        }
        for (std::size_t k = 0; k != pending.size(); ++k) {
          const auto x = static_cast<std::uint64_t>(t * per_thread + 2 * static_cast<int>(k) + 1);
          auto result = pending[k].get();
          if (!result.ok() || two_kinds::value_of<"s00061", std::uint64_t>(result) != expected_sink<F>(x)) ++wrong;
          ++done;
        }
      });
  }
  CHECK(done == threads * per_thread);
  CHECK(wrong == 0);
}

TEMPLATE_TEST_CASE("runs with failures interleave without interfering", "[concurrency]", static_flows, runtime_flows) {
  lf::executor pool{3};
  const auto b = [](int x) -> int {
    if (x % 3 == 0) throw std::runtime_error("third");
    return x;
  };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"mixed">(lf::step<"a">([](int x) { return x; }), lf::step<"b", "a">(b),
                               lf::step<"c", "a">([](int x) { return x * 2; }),
                               lf::step<"d", "b", "c">([](int from_b, int from_c) { return from_b + from_c; }));
    } else {
      lf::runtime_flow g{"mixed"};
      g.add("a", [](lf::context& ctx) { return ctx.get(two_kinds::input_key); });
      g.add("b", [b](lf::context& ctx) { return b(ctx.result<int>("a")); }).after("a");
      g.add("c", [](lf::context& ctx) { return ctx.result<int>("a") * 2; }).after("a");
      g.add("d", [](lf::context& ctx) { return ctx.result<int>("b") + ctx.result<int>("c"); }).after("b", "c");
      return g;
    }
  }();
  std::atomic<int> wrong{0};
  {
    std::vector<std::jthread> issuers;
    for (int t = 0; t != 3; ++t)
      issuers.emplace_back([&, t] {
        for (int i = 0; i != 300; ++i) {
          const int x = t * 1000 + i;
          auto result = pool.run(f, two_kinds::input<TestType>(x));
          const bool should_fail = x % 3 == 0;
          if (result.ok() == should_fail) ++wrong;
          if (!should_fail && two_kinds::value_of<"d", int>(result) != 3 * x) ++wrong;
          if (should_fail && result.status("d") != lf::step_status::skipped) ++wrong;
          if (result.status("c") != lf::step_status::succeeded) ++wrong;
        }
      });
  }
  CHECK(wrong == 0);
}

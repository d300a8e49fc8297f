// Many runs of one flow, from many threads, at the same time, on one executor.
#include <lightflow/lightflow.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace lf = lightflow;

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

}  // namespace

TEST_CASE("1,000 runs of a 62-step flow issued concurrently from several threads", "[concurrency]") {
  lf::executor pool{2};
  auto f = generated::make_flow<generated::layered<31, 2>>(sum_step);
  using F = decltype(f);
  STATIC_REQUIRE(F::size == 62);
  constexpr int threads = 4, per_thread = 250;
  std::atomic<int> wrong{0}, done{0};
  {
    std::vector<std::jthread> issuers;
    for (int t = 0; t != threads; ++t)
      issuers.emplace_back([&, t] {
        std::vector<lf::run_handle<F, std::uint64_t>> pending;
        for (int i = 0; i != per_thread; ++i) {
          const auto x = static_cast<std::uint64_t>(t * per_thread + i);
          if (i % 2 == 0) {
            auto result = pool.run(f, x);
            if (!result.ok() || result.get<"s00061">() != expected_sink<F>(x)) ++wrong;
            ++done;
          } else {
            pending.push_back(pool.submit(f, x));
          }
        }
        for (std::size_t k = 0; k != pending.size(); ++k) {
          const auto x = static_cast<std::uint64_t>(t * per_thread + 2 * static_cast<int>(k) + 1);
          auto result = pending[k].get();
          if (!result.ok() || result.get<"s00061">() != expected_sink<F>(x)) ++wrong;
          ++done;
        }
      });
  }
  CHECK(done == threads * per_thread);
  CHECK(wrong == 0);
}

TEST_CASE("runs with failures and cancellations interleave without interfering", "[concurrency]") {
  lf::executor pool{3};
  auto f = lf::flow<"mixed">(lf::step<"a">([](int x) { return x; }), lf::step<"b", "a">([](int x) -> int {
                               if (x % 3 == 0) throw std::runtime_error("third");
                               return x;
                             }),
                             lf::step<"c", "a">([](int x) { return x * 2; }),
                             lf::step<"d", "b", "c">([](int b, int c) { return b + c; }));
  std::atomic<int> wrong{0};
  {
    std::vector<std::jthread> issuers;
    for (int t = 0; t != 3; ++t)
      issuers.emplace_back([&, t] {
        for (int i = 0; i != 300; ++i) {
          const int x = t * 1000 + i;
          auto result = pool.run(f, x);
          const bool should_fail = x % 3 == 0;
          if (result.ok() == should_fail) ++wrong;
          if (!should_fail && result.get<"d">() != 3 * x) ++wrong;
          if (should_fail && result.status<"d">() != lf::step_status::skipped) ++wrong;
          if (result.status<"c">() != lf::step_status::succeeded) ++wrong;
        }
      });
  }
  CHECK(wrong == 0);
}

// A run of a static flow allocates one block (its state) and nothing per step; a run of a runtime
// flow allocates a few blocks whatever its size, and per step only what its steps hand on.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace {
std::atomic<long> allocations{0};
}

// Counting allocations. clang's ThreadSanitizer runtime defines the global operator new and delete
// in its static library (so a program cannot replace them) and counts through its allocator's hooks
// instead; everywhere else the test replaces the operators.
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LIGHTFLOW_TEST_ALLOCATOR_HOOKS 1
#endif
#endif

#ifdef LIGHTFLOW_TEST_ALLOCATOR_HOOKS
#include <sanitizer/allocator_interface.h>
namespace {
void count_allocation(const volatile void*, std::size_t) { allocations.fetch_add(1, std::memory_order_relaxed); }
void ignore_free(const volatile void*) {}
[[maybe_unused]] const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(count_allocation, ignore_free);
}  // namespace
#else
// These replacements pair malloc/aligned_alloc with free, which is right; g++ cannot see that they
// replace the global operators and warns about a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace lf = lightflow;

namespace {

template <class Flow>
long allocations_for(lf::executor& pool, const Flow& f, int runs) {
  auto input = [](int r) {
    if constexpr (std::is_same_v<Flow, lf::runtime_flow>) return (void)r, lf::values{};
    else return r;
  };
  for (int r = 0; r != 10; ++r) (void)pool.run(f, input(1));  // warm up: thread-locals, deques
  const long before = allocations.load();
  long sum = 0;
  for (int r = 0; r != runs; ++r) {
    auto result = pool.run(f, input(r));
    sum += result.ok() ? 1 : 0;
  }
  const long after = allocations.load();
  REQUIRE(sum == runs);
  return after - before;
}

auto add = [](const auto&... in) -> long { return (1L + ... + static_cast<long>(in)); };

}  // namespace

TEST_CASE("a run allocates its state block and nothing per step", "[allocation]") {
  lf::executor pool{2};
  auto small = generated::make_flow<generated::chain<4>>(add);
  auto wide = generated::make_flow<generated::fan_out<62>>(add);
  auto grid = generated::make_flow<generated::wavefront<8, 8>>(add);
  // exactly one allocation per run, whatever the number of steps
  CHECK(allocations_for(pool, small, 500) == 500);
  CHECK(allocations_for(pool, wide, 500) == 500);
  CHECK(allocations_for(pool, grid, 500) == 500);
}

/// A runtime flow: `n` steps in a chain (`fan_out`: n - 1 steps after the first), returning a value
/// or nothing.
lf::runtime_flow runtime_shape(int n, bool fan_out, bool returns) {
  lf::runtime_flow f{"shape"};
  for (int i = 0; i != n; ++i) {
    auto h = returns ? f.add("s" + std::to_string(i), [] { return 1L; }) : f.add("s" + std::to_string(i), [] {});
    if (i != 0) h.after(fan_out ? "s0" : "s" + std::to_string(i - 1));
  }
  f.check();
  return f;
}

TEST_CASE("a runtime flow's run allocates the same few blocks whatever its size, and per step only results",
          "[allocation][runtime]") {
  lf::executor pool{2};
  constexpr int runs = 200;
  // Steps that hand on nothing: the same number of allocations per run for 4 and 64 steps, chain or fan-out.
  const long small = allocations_for(pool, runtime_shape(4, false, false), runs);
  CHECK(small % runs == 0);
  CHECK(small / runs <= 4);  // the run, its per-step arrays, its result
  CHECK(allocations_for(pool, runtime_shape(64, false, false), runs) == small);
  CHECK(allocations_for(pool, runtime_shape(64, true, false), runs) == small);
  // Steps that return a value: each result is kept (two blocks a step at most, its record and the value,
  // and one table of them a run).
  const long with_results = allocations_for(pool, runtime_shape(64, false, true), runs);
  CHECK(with_results > small);
  CHECK(with_results - small <= 2L * 64 * runs + runs);
}

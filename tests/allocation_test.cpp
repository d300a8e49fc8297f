// A run of a static flow allocates one block (its state) and nothing per step.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace {
std::atomic<long> allocations{0};
}

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

namespace lf = lightflow;

namespace {

template <class Flow>
long allocations_for(lf::executor& pool, const Flow& f, int runs) {
  for (int r = 0; r != 10; ++r) (void)pool.run(f, 1);  // warm up: thread-locals, deques
  const long before = allocations.load();
  long sum = 0;
  for (int r = 0; r != runs; ++r) {
    auto result = pool.run(f, r);
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

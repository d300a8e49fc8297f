// The optional headers used beside the single header, as a user who copied
// single_include/lightflow.hpp, lightflow/fmt.hpp, lightflow/sqlite_store.hpp and lightflow/sodium.hpp
// into one directory would: the build copies them into one directory and compiles this file against
// it alone.
#include "lightflow.hpp"
// Included after the single header here; each also works first (it includes lightflow.hpp itself).
#include "fmt.hpp"
#ifdef LIGHTFLOW_TEST_SQLITE
#include "sqlite_store.hpp"
#endif
#ifdef LIGHTFLOW_TEST_SODIUM
#include "sodium.hpp"
#endif

#include <cstdio>
#include <string>

namespace lf = lightflow;

int main() {
  auto f = lf::flow<"extras">(lf::step<"a">([](int x) { return x + 1; }), lf::step<"b", "a">([](int a) { return a * 2; }));
  lf::executor pool{2};
#ifdef LIGHTFLOW_TEST_SQLITE
  lf::sqlite_store store(":memory:");
  auto result = pool.run(f, 20, lf::checkpoint{store, "run-1"});
  auto again = pool.resume<int>(f, lf::checkpoint{store, "run-1"});  // every step restored
  if (!again.ok() || again.get<"b">() != 42) return 1;
#else
  auto result = pool.run(f, 20);
#endif
#ifdef LIGHTFLOW_TEST_SODIUM
  {  // a sealed checkpoint (the input is sealed whenever a cipher is given), resumed with the same key
    lf::memory_store sealed_store;
    const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
    const lf::checkpoint_options sealing{.cipher = &cipher};
    if (!pool.run(f, 20, lf::checkpoint{sealed_store, "sealed-1", sealing}).ok()) return 1;
    auto reopened = pool.resume<int>(f, lf::checkpoint{sealed_store, "sealed-1", sealing});
    if (!reopened.ok() || reopened.restored() != 2 || reopened.get<"b">() != 42) return 1;
  }
#endif
  fmt::print("{} b={}\n", lf::step_status::succeeded, result.get<"b">());
  return result.ok() ? 0 : 1;
}

// The optional headers used beside the single header, as a user who copied
// single_include/lightflow.hpp, lightflow/fmt.hpp and lightflow/sqlite_store.hpp into one directory
// would: the build copies them into one directory and compiles this file against it alone.
#include "lightflow.hpp"
// Included after the single header here; each also works first (it includes lightflow.hpp itself).
#include "fmt.hpp"
#ifdef LIGHTFLOW_TEST_SQLITE
#include "sqlite_store.hpp"
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
  fmt::print("{} b={}\n", lf::step_status::succeeded, result.get<"b">());
  return result.ok() ? 0 : 1;
}

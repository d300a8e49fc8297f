// A map step over a dependency whose output is not a sized random-access range.
// expected-error: lightflow: map step "parse" runs its callable on each element of its input
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
#include <lightflow/map_step.hpp>
#include <vector>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"nightly">(
#ifdef LIGHTFLOW_NO_MISTAKE
      lf::step<"list">([] {
        return std::vector<int>{1, 2};
      }),
#else
      lf::step<"list">([] { return 2; }),
#endif
      lf::map_step<"parse", "list">([](int x) { return x; }));
  lf::executor pool{1};
  return pool.run(f).ok() ? 0 : 1;
}

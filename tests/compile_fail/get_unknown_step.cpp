// result.get of a name that is not a step.
// expected-error: lightflow: flow "order" has no step named "shipping"
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"order">(lf::step<"ship">([] { return 1; }));
  lf::executor pool{1};
  auto result = pool.run(f);
#ifdef LIGHTFLOW_NO_MISTAKE
  return result.get<"ship">();
#else
  return result.get<"shipping">();
#endif
}

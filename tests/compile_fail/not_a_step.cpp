// Something that is not a step, passed to lightflow::flow.
// expected-error: lightflow: every argument of lightflow::flow must be made by lightflow::step<"name", "dependency"...>(callable)
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"order">(lf::step<"ship">([] { return 1; }));
#else
  auto f = lf::flow<"order">(lf::step<"ship">([] { return 1; }), [] { return 2; });
#endif
  (void)f;
}

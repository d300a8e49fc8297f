// Two steps with one name.
// expected-error: lightflow: flow "order" has two steps named "pay"
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"order">(lf::step<"pay">([] { return 1; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                             lf::step<"ship">([] { return 2; }));
#else
                             lf::step<"pay">([] { return 2; }));
#endif
  (void)f;
}

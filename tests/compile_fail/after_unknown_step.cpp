// An ordering-only dependency is checked like any other.
// expected-error: lightflow: flow "etl": step "load" depends on "cleanup", which is not a step of this flow
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"etl">(lf::step<"extract">([] { return 1; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                           lf::step<"load", "extract">([](int x) { return x; }).after<"extract2">(),
                           lf::step<"extract2">([] { return 2; }));
#else
                           lf::step<"load", "extract">([](int x) { return x; }).after<"cleanup">(),
                           lf::step<"extract2">([] { return 2; }));
#endif
  (void)f;
}

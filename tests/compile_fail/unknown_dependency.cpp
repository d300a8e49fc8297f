// A dependency that names no step of the flow.
// expected-error: lightflow: flow "order": step "pay" depends on "validat", which is not a step of this flow
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"order">(lf::step<"validate">([] { return 1; }), lf::step<"pay", "validate">([](int x) { return x; }));
#else
  auto f = lf::flow<"order">(lf::step<"validate">([] { return 1; }), lf::step<"pay", "validat">([](int x) { return x; }));
#endif
  (void)f;
}

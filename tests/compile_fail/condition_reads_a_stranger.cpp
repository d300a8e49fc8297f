// A static step's condition reads the output of a step it does not depend on (the words of the
// runtime flow's key_error: policy_test.cpp).
// expected-error: lightflow: the condition of step "ship" reads the output of step "refund", which is not one of its dependencies
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"order">(lf::step<"charge">([] { return 10.0; }), lf::step<"refund">([] { return 0.0; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                             lf::step<"ship", "charge">([](double) {}).when(lf::at_least(lf::output<"charge">(), 5)));
#else
                             lf::step<"ship", "charge">([](double) {}).when(lf::at_least(lf::output<"refund">(), 5)));
#endif
  (void)f;
}

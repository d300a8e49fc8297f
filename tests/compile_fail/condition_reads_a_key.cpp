// Keys are values of runtime flows: a static step's condition cannot read one.
// expected-error: lightflow: the condition of step "ship" reads a key, but keys are values of runtime flows: a static step's condition compares the output of one of its dependencies (lightflow::output<"name">())
#include <lightflow/flow.hpp>
#include <lightflow/key.hpp>
namespace lf = lightflow;
int main() {
  const lf::key<double> paid{"paid"};
  (void)paid;
  auto f = lf::flow<"order">(lf::step<"charge">([] { return 10.0; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                             lf::step<"ship", "charge">([](double) {}).when(lf::greater(lf::output<"charge">(), 0)));
#else
                             lf::step<"ship", "charge">([](double) {}).when(lf::greater(paid, 0)));
#endif
  (void)f;
}

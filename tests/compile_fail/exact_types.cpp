// Exact-types mode: a step's parameter must have the type its dependency's output has (up to const and
// reference); a double no longer feeds an int.
// expected-error: lightflow: step "charge" of flow "shop": its parameter 1 does not have the type of the output of step "price" (type 1 in the list after this message, up to const and reference); exact types are on (LIGHTFLOW_EXACT_TYPES)
// expected-error: lightflow::offered<const double&>
#define LIGHTFLOW_EXACT_TYPES 1
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"shop">(lf::step<"price">([] { return 99.99; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                            lf::step<"charge", "price">([](const double& amount) { return amount > 0; }),
                            lf::step<"log", "price">([](auto amount) { return amount; }));
#else
                            lf::step<"charge", "price">([](int cents) { return cents > 0; }));
#endif
  lf::executor pool{1};
  auto result = pool.run(f);
  (void)result;
}

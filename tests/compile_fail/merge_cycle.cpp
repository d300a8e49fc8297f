// Two flows merged with edges that close a loop: the message names the merged steps on the cycle.
// expected-error: lightflow: flow "main" has a cycle: "billing.charge" -> "shipping.pack" -> "shipping.ship" -> "billing.invoice" -> "billing.charge" (each step depends on the one before it)
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
int main() {
  auto billing = lf::flow<"billing">(lf::step<"invoice">([] { return 1; }),
                                     lf::step<"charge", "invoice">([](int x) { return x; }));
  auto shipping = lf::flow<"shipping">(lf::step<"pack">([] { return 2; }),
                                       lf::step<"ship", "pack">([](int x) { return x; }));
  auto merged = lf::merge<"main">(billing, shipping, lf::edge<"billing.charge", "shipping.pack">
#ifndef LIGHTFLOW_NO_MISTAKE
                                  ,
                                  lf::edge<"shipping.ship", "billing.invoice">
#endif
  );
  (void)merged;
}

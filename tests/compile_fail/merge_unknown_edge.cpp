// An edge of a merge must join steps of the merged flow, named "<flow>.<step>".
// expected-error: lightflow: merge "main": edge from "billing.charge" to "pack" names "pack", which is not a step of the merged flow (its steps are named "<flow>.<step>")
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
int main() {
  auto billing = lf::flow<"billing">(lf::step<"charge">([] { return 1; }));
  auto shipping = lf::flow<"shipping">(lf::step<"pack">([] { return 2; }));
#ifdef LIGHTFLOW_NO_MISTAKE
  auto merged = lf::merge<"main">(billing, shipping, lf::edge<"billing.charge", "shipping.pack">);
#else
  auto merged = lf::merge<"main">(billing, shipping, lf::edge<"billing.charge", "pack">);
#endif
  (void)merged;
}

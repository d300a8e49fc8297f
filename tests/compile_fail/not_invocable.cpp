// A callable that cannot take its dependencies' outputs: the message lists what it was offered and
// names the parameter that cannot take its value.
// expected-error: lightflow: step "ship" of flow "order" cannot be called with the outputs of its dependencies
// expected-error: lightflow::offered<const Order&, const double&>
// expected-error: its parameter 2 cannot take the output of step "pay" (type 2 in the list)
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
#include <string>
namespace lf = lightflow;
struct Order {
  std::string id;
  double amount;
};
int main() {
  auto f = lf::flow<"order">(lf::step<"validate">([](const Order& o) { return o; }),
                             lf::step<"pay", "validate">([](const Order& o) { return o.amount; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                             lf::step<"ship", "validate", "pay">([](const Order& o, double paid) { return o.id + std::to_string(paid); }));
#else
                             lf::step<"ship", "validate", "pay">([](const Order& o, const std::string& paid) { return o.id + paid; }));
#endif
  lf::executor pool{1};
  auto result = pool.run(f, Order{"x", 1.0});
  (void)result;
}

// A callable that takes fewer parameters than its step has dependencies with outputs: the message
// says how many it takes and how many values it is offered.
// expected-error: lightflow: step "ship" of flow "order" cannot be called with the outputs of its dependencies
// expected-error: its callable takes 1 parameter for 2 values
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"order">(lf::step<"validate">([] { return 1; }), lf::step<"pay", "validate">([](int v) { return v * 2.5; }),
#ifdef LIGHTFLOW_NO_MISTAKE
                             lf::step<"ship", "validate", "pay">([](int id, double paid) { return id + paid; }));
#else
                             lf::step<"ship", "validate", "pay">([](int id) { return id; }));
#endif
  lf::executor pool{1};
  auto result = pool.run(f);
  (void)result;
}

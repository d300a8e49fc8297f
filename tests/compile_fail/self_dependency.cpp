// A step that depends on itself.
// expected-error: lightflow: flow "loop": step "spin" depends on itself
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"loop">(lf::step<"start">([] { return 1; }), lf::step<"spin", "start">([](int x) { return x; }));
#else
  auto f = lf::flow<"loop">(lf::step<"start">([] { return 1; }), lf::step<"spin", "spin">([](int x) { return x; }));
#endif
  (void)f;
}

// A step that lists one dependency twice.
// expected-error: lightflow: flow "twice": step "b" lists dependency "a" twice
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"twice">(lf::step<"a">([] { return 1; }), lf::step<"b", "a">([](int x) { return x; }));
#else
  auto f = lf::flow<"twice">(lf::step<"a">([] { return 1; }), lf::step<"b", "a", "a">([](int x, int) { return x; }));
#endif
  (void)f;
}

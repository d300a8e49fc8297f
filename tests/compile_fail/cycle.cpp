// A cycle: the message names the steps on it, in run order.
// expected-error: lightflow: flow "circle" has a cycle: "b" -> "c" -> "a" -> "b" (each step depends on the one before it)
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"circle">(
#ifdef LIGHTFLOW_NO_MISTAKE
      lf::step<"a">([] { return 1; }),
#else
      lf::step<"a", "c">([](int x) { return x; }),
#endif
      lf::step<"b", "a">([](int x) { return x; }), lf::step<"c", "b">([](int x) { return x; }));
  (void)f;
}

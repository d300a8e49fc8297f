// A mutable lambda: runs share the flow, so its callables must be const-callable.
// expected-error: lightflow: step "count" of flow "counter": its callable can only be called as non-const
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"counter">(lf::step<"count">([n = 0]() { return n + 1; }));
#else
  auto f = lf::flow<"counter">(lf::step<"count">([n = 0]() mutable { return ++n; }));
#endif
  lf::executor pool{1};
  auto result = pool.run(f);
  (void)result;
}

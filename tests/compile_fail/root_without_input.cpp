// A root step that needs a parameter, in a run that has no input.
// expected-error: lightflow: step "load" of flow "etl" has no dependencies and the run has no input
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"etl">(lf::step<"load">([](int x) { return x; }));
  lf::executor pool{1};
#ifdef LIGHTFLOW_NO_MISTAKE
  auto result = pool.run(f, 3);
#else
  auto result = pool.run(f);
#endif
  (void)result;
}

// result.get of a step that returns void.
// expected-error: lightflow: result.get<"notify">(): step "notify" of flow "order" returns void, so it has no output to get
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"order">(lf::step<"ship">([] { return 1; }), lf::step<"notify", "ship">([](int) {}));
  lf::executor pool{1};
  auto result = pool.run(f);
#ifdef LIGHTFLOW_NO_MISTAKE
  return result.get<"ship">();
#else
  auto v = result.get<"notify">();  // the library's message is the only error, not a complaint about `auto v`
  (void)v;
#endif
}

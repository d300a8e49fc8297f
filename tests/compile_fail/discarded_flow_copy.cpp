// A static flow's policy setters return a changed copy: calling one and dropping its result does
// nothing, so it is flagged (here as an error, by the pragma).
// expected-error: ignoring return value of
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
#pragma GCC diagnostic error "-Wunused-result"
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"f">(lf::step<"a">([] { return 1; }));
#ifdef LIGHTFLOW_NO_MISTAKE
  auto retried = f.retry(lf::retry{3});
#else
  f.retry(lf::retry{3});
  auto& retried = f;
#endif
  lf::executor pool{1};
  return pool.run(retried).ok() ? 0 : 1;
}

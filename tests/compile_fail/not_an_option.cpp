// After the input, a run takes only options: the same words for a static flow (here) and a runtime
// flow (runtime_not_an_option.cpp), written once in run_options.hpp.
// expected-error: lightflow: after the input, executor::run, submit and resume take only options
#include <chrono>
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"etl">(lf::step<"load">([](int x) { return x; }));
  lf::executor pool{1};
#ifdef LIGHTFLOW_NO_MISTAKE
  auto result = pool.run(f, 3, lf::run_timeout{std::chrono::seconds(1)});
#else
  auto result = pool.run(f, 3, std::chrono::seconds(1));
#endif
  (void)result;
}

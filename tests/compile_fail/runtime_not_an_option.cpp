// After the input, a run takes only options: the same words for a runtime flow (here) and a static
// flow (not_an_option.cpp), written once in run_options.hpp.
// expected-error: lightflow: after the input, executor::run, submit and resume take only options
#include <chrono>
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
int main() {
  lf::runtime_flow f{"etl"};
  f.add("load", [] { return 1; });
  lf::executor pool{1};
#ifdef LIGHTFLOW_NO_MISTAKE
  auto result = pool.run(f, lf::values{}, lf::run_timeout{std::chrono::seconds(1)});
#else
  auto result = pool.run(f, lf::values{}, std::chrono::seconds(1));
#endif
  (void)result;
}

// A subflow's first step cannot take what the subflow's dependency produces (it is offered that, as
// it is offered the run's input when its flow runs alone): the message names the step by its full name.
// expected-error: lightflow: step "files.read" of flow "nightly" cannot be called
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
#include <lightflow/subflow.hpp>
#include <string>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto parse = lf::flow<"parse">(lf::step<"read">([](const std::string& name) { return name.size(); }));
#else
  auto parse = lf::flow<"parse">(lf::step<"read">([](int count) { return count; }));
#endif
  auto f = lf::flow<"nightly">(lf::step<"list">([] { return std::string("a.csv"); }),
                               lf::subflow<"files", "list">(parse));
  lf::executor pool{1};
  return pool.run(f).ok() ? 0 : 1;
}

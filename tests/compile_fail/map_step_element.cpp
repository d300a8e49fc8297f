// A map step whose callable cannot take an element of its input.
// expected-error: lightflow: map step "parse": its callable cannot be called with an element of its input
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
#include <lightflow/map_step.hpp>
#include <string>
#include <vector>
namespace lf = lightflow;
int main() {
  auto f = lf::flow<"nightly">(lf::step<"list">([] {
                                 return std::vector<std::string>{"a.csv", "b.csv"};
                               }),
#ifdef LIGHTFLOW_NO_MISTAKE
                               lf::map_step<"parse", "list">([](const std::string& file) { return file.size(); }));
#else
                                lf::map_step<"parse", "list">([](int line) { return line; }));
#endif
  lf::executor pool{1};
  return pool.run(f).ok() ? 0 : 1;
}

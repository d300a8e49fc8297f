// Compile-time benchmark: a 256-step static flow of shape wavefront<16, 16>, each step with a callable of its own type,
// run with data between its steps.
#include "support/generated_flows.hpp"

int main() {
  auto flow = generated::make_flow<generated::wavefront<16, 16>, "generated", true>(
      [](const auto&... in) -> unsigned long { return (1ul + ... + static_cast<unsigned long>(in)); });
  lightflow::executor pool{1};
  auto result = pool.run(flow, 1);
  return result.ok() ? 0 : 1;
}

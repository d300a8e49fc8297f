// Compile-time benchmark: a 256-step static flow of shape chain<256>, run with data between its steps.
#include "support/generated_flows.hpp"

int main() {
  auto flow = generated::make_flow<generated::chain<256>>(
      [](const auto&... in) -> unsigned long { return (1ul + ... + static_cast<unsigned long>(in)); });
  lightflow::executor pool{1};
  auto result = pool.run(flow, 1);
  return result.ok() ? 0 : 1;
}

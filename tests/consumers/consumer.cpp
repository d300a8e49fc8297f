// A program that uses lightflow the way a user's project would.
#include <lightflow/lightflow.hpp>

#include <cstdio>

int main() {
  namespace lf = lightflow;
  auto f = lf::flow<"consumer">(lf::step<"a">([](int x) { return x * 2; }), lf::step<"b">([](int x) { return x; }),
                                lf::step<"sum", "a", "b">([](int a, int b) { return a + b; }));
  lf::executor pool{2};
  auto result = pool.run(f, 14);
  std::printf("consumer: %d\n", result.get<"sum">());
  return result.ok() ? 0 : 1;
}

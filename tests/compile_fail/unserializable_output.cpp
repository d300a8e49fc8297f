// A checkpointed run whose step returns a type the serializer cannot encode.
// expected-error: lightflow: step "connect" of flow "etl" cannot be checkpointed: the serializer cannot encode its output type
// expected-error: lightflow::offered<Connection>
// expected-error: or specialize lightflow::binary_codec<T> (see lightflow/binary_codec.hpp)
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
struct Connection {
  int fd = -1;
};
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"etl">(lf::step<"connect">([] { return 3; }), lf::step<"load", "connect">([](int c) { return c + 1; }));
#else
  auto f = lf::flow<"etl">(lf::step<"connect">([] { return Connection{3}; }),
                           lf::step<"load", "connect">([](const Connection& c) { return c.fd + 1; }));
#endif
  lf::memory_store store;
  lf::executor pool{1};
  auto result = pool.run(f, lf::checkpoint{store, "x"});
  (void)result;
}

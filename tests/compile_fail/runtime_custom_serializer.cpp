// A runtime flow's checkpoint uses the binary serializer: its values' types are known only at run time.
// expected-error: lightflow: a runtime flow's checkpoint uses the binary serializer (a custom serializer cannot encode values whose types are known only at run time)
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
struct text_serializer {
  template <class T>
  void write(const T&, std::vector<std::byte>&) const {}
  template <class T>
  T read(std::span<const std::byte>) const {
    return T{};
  }
};
int main() {
  lf::runtime_flow f{"f"};
  f.add("a", [] { return 1; });
  lf::memory_store store;
  lf::executor pool{1};
#ifdef LIGHTFLOW_NO_MISTAKE
  auto r = pool.run(f, lf::checkpoint{store, "r"});
#else
  auto r = pool.run(f, lf::checkpoint{store, "r", text_serializer{}});
#endif
  (void)r;
}

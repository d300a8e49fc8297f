// A checkpointed run whose step returns a type the serializer encodes but that has no checkpoint
// name (type_tag.hpp): checkpoints would depend on the compiler's spelling of it.
// expected-error: lightflow: step "price" of flow "quote" cannot be checkpointed: its output type, listed after this message, has no checkpoint name
// expected-error: lightflow::offered<shop::Price>
#include <lightflow/lightflow.hpp>
namespace lf = lightflow;
namespace shop {
struct Price {
#ifdef LIGHTFLOW_NO_MISTAKE
  static constexpr std::string_view lightflow_type_name = "shop.price";
#endif
  long cents = 0;
};
void lightflow_write(lf::binary_writer& w, const Price& p) { w(p.cents); }
void lightflow_read(lf::binary_reader& r, Price& p) { r(p.cents); }
}  // namespace shop
int main() {
  auto f = lf::flow<"quote">(lf::step<"price">([] { return shop::Price{1999}; }),
                             lf::step<"total", "price">([](const shop::Price& p) { return p.cents * 2; }));
  lf::memory_store store;
  lf::executor pool{1};
  auto result = pool.run(f, lf::checkpoint{store, "x"});
  (void)result;
}

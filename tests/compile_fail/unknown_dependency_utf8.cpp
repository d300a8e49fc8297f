// A dependency that names no step, with UTF-8 names.
// expected-error: lightflow: flow "订单处理流程": step "发货" depends on "付款", which is not a step of this flow
#include <lightflow/executor.hpp>
#include <lightflow/flow.hpp>
namespace lf = lightflow;
int main() {
#ifdef LIGHTFLOW_NO_MISTAKE
  auto f = lf::flow<"订单处理流程">(lf::step<"处理支付">([] { return 1; }), lf::step<"发货", "处理支付">([](int x) { return x; }));
#else
  auto f = lf::flow<"订单处理流程">(lf::step<"处理支付">([] { return 1; }), lf::step<"发货", "付款">([](int x) { return x; }));
#endif
  (void)f;
}

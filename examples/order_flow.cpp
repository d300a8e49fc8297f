// The order flow: validate an order, then pay and update stock in parallel, then ship.
//
//              +--> 处理支付 (pay) ------+
//   验证订单 --+                          +--> 发货 (ship)
//  (validate)  +--> 更新库存 (stock) ----+
//
#include <lightflow/lightflow.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace lf = lightflow;

struct Order {
  std::string id;
  double amount;
  int product_id;
};
struct Shipment {
  std::string order_id;
  int product_id;
  double paid;
};

int main() {
  auto order_flow = lf::flow<"订单处理流程">(
      lf::step<"验证订单">([](const Order& o) {
        if (o.amount <= 0) throw std::invalid_argument("empty order");
        std::printf("验证订单: order %s is valid\n", o.id.c_str());
        return o;
      }),
      lf::step<"处理支付", "验证订单">([](const Order& o) {
        std::printf("处理支付: charged %.2f\n", o.amount);
        return o.amount;
      }),
      lf::step<"更新库存", "验证订单">([](const Order& o) {
        std::printf("更新库存: reserved product %d\n", o.product_id);
        return o.product_id;
      }),
      lf::step<"发货", "验证订单", "处理支付", "更新库存">([](const Order& o, double paid, int product) {
        std::printf("发货: shipping product %d for order %s\n", product, o.id.c_str());
        return Shipment{o.id, product, paid};
      }));

  lf::executor pool{4};
  auto result = pool.run(order_flow, Order{"ORD12345", 99.99, 42});  // blocks until the run ends
  if (!result.ok()) {
    std::puts(result.error_message().c_str());
    return 1;
  }
  const Shipment& s = result.get<"发货">();
  std::printf("shipment: order %s, product %d, paid %.2f\n", s.order_id.c_str(), s.product_id, s.paid);
  for (const auto& step : result.steps())
    std::printf("  %s: %s in %lld us\n", std::string(step.name).c_str(),
                std::string(lf::to_string(step.status)).c_str(),
                static_cast<long long>(step.duration().count() / 1000));

  auto bad = pool.run(order_flow, Order{"ORD0", 0, 1});  // validation throws: the other steps are skipped
  std::printf("an empty order: %s\n", bad.error_message().c_str());
  return 0;
}

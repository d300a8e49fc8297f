// Runs queued in PostgreSQL and run by worker processes (lightflow/postgres_worker.hpp). One
// program, three roles; examples/queued_orders.sh starts a server, a producer and two workers:
//
//   queued_orders produce <conninfo> <count>   queues <count> orders (idempotency key "order-<n>")
//   queued_orders work <conninfo> <name>       a worker: runs queued orders until none is left
//   queued_orders report <conninfo>            each order's state and worker, and the total shipped
//
// The flow, for order n:
//
//   validate --> price ----> ship
//          \---> reserve --/
//
#include <lightflow/lightflow.hpp>
#include <lightflow/postgres_worker.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace lf = lightflow;

namespace {

// Each step takes a few milliseconds, as a call to another service would.
void service_call() { std::this_thread::sleep_for(std::chrono::milliseconds(15)); }

auto order_flow() {
  return lf::flow<"order">(lf::step<"validate">([](int order) {
                             service_call();
                             if (order <= 0) throw std::invalid_argument("no such order");
                             return order;
                           }),
                           lf::step<"price", "validate">([](int order) {
                             service_call();
                             return 10.0 * order;  // the order's amount
                           }),
                           lf::step<"reserve", "validate">([](int order) {
                             service_call();
                             return "shelf-" + std::to_string(order % 7);
                           }),
                           lf::step<"ship", "price", "reserve">([](double amount, const std::string& shelf) {
                             service_call();
                             return shelf + ": " + std::to_string(static_cast<int>(amount));
                           }));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s produce|work|report <conninfo> [count|name]\n", argv[0]);
    return 2;
  }
  const std::string role = argv[1];
  const auto flow = order_flow();
  lf::postgres_store store(argv[2], "orders");
  lf::postgres_queue queue(store);
  if (role == "produce") {
    const int count = argc > 3 ? std::atoi(argv[3]) : 10;
    for (int n = 1; n <= count; ++n) (void)queue.enqueue(flow, n, {.key = "order-" + std::to_string(n)});
    std::printf("queued %d orders\n", count);
  } else if (role == "work") {
    lf::executor pool{2};
    lf::postgres_worker worker(store, pool, {.name = argc > 3 ? argv[3] : ""});
    worker.serve<int>(flow);
    std::printf("%s ran %zu orders\n", worker.name().c_str(), worker.drain());
  } else if (role == "report") {
    std::map<std::string, int> by_state, by_worker;
    double shipped = 0;
    lf::executor pool{1};
    for (const lf::queued_run& run : queue.list()) {
      ++by_state[std::string(lf::to_string(run.state))];
      ++by_worker[run.worker];
      if (run.state != lf::queued_state::succeeded) continue;
      auto result = pool.resume<int>(flow, lf::checkpoint{store, run.id});  // read back: nothing runs
      shipped += result.get<"price">();
    }
    for (const auto& [state, n] : by_state) std::printf("%s: %d\n", state.c_str(), n);
    for (const auto& [worker, n] : by_worker) std::printf("worker %s ran %d\n", worker.c_str(), n);
    std::printf("total shipped: %.0f\n", shipped);
  }
  return 0;
}

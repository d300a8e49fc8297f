// Running static flows: data between steps, inputs, void steps, context, handles (generated shapes:
// shapes_test.cpp).
#include <lightflow/lightflow.hpp>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/generated_flows.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;

namespace {

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

auto make_order_flow() {
  return lf::flow<"订单处理流程">(
      lf::step<"验证订单">([](const Order& o) {
        if (o.amount <= 0) throw std::invalid_argument("empty order");
        return o;
      }),
      lf::step<"处理支付", "验证订单">([](const Order& o) { return o.amount; }),
      lf::step<"更新库存", "验证订单">([](const Order& o) { return o.product_id; }),
      lf::step<"发货", "验证订单", "处理支付", "更新库存">([](const Order& o, double paid, int product) {
        return Shipment{o.id, product, paid};
      }));
}

}  // namespace

TEST_CASE("the order flow passes each step its dependencies' outputs", "[run]") {
  lf::executor pool{4};
  auto order_flow = make_order_flow();
  auto result = pool.run(order_flow, Order{"ORD12345", 99.99, 42});
  REQUIRE(result.ok());
  CHECK(result.error_message().empty());
  const Shipment& s = result.get<"发货">();
  CHECK(s.order_id == "ORD12345");
  CHECK(s.product_id == 42);
  CHECK(s.paid == 99.99);
  CHECK(result.get<"处理支付">() == 99.99);
  CHECK(result.status<"更新库存">() == lf::step_status::succeeded);
  CHECK(result.status("更新库存") == lf::step_status::succeeded);
  CHECK(result.flow_name() == "订单处理流程");
  for (const auto& step : result.steps()) {
    CHECK(step.status == lf::step_status::succeeded);
    CHECK(step.start <= step.end);
    CHECK_FALSE(step.error);
  }
  CHECK(result.step("验证订单").end <= result.step("发货").start);
  CHECK_THROWS_AS(result.status("no such step"), lf::unknown_step);
}

TEST_CASE("a run with no_step_times keeps no step times, and runs as any other", "[run][times]") {
  lf::executor pool{2};
  auto order_flow = make_order_flow();
  const std::chrono::steady_clock::time_point none{};
  auto untimed = pool.run(order_flow, Order{"ORD1", 5.0, 7}, lf::no_step_times);
  REQUIRE(untimed.ok());
  CHECK(untimed.get<"发货">().paid == 5.0);
  for (const auto& step : untimed.steps()) {
    CHECK(step.status == lf::step_status::succeeded);
    CHECK(step.start == none);
    CHECK(step.end == none);
  }
  // A failure is still reported, naming its step.
  auto failed = pool.run(order_flow, Order{"ORD2", 0.0, 7}, lf::no_step_times);
  CHECK_FALSE(failed.ok());
  CHECK(failed.error_message().find("\"验证订单\" failed: empty order") != std::string::npos);
  CHECK(failed.status<"发货">() == lf::step_status::skipped);

  // Timed and untimed runs share the executor's threads: the timed ones keep real, ordered times.
  auto chain = generated::make_flow<generated::chain<32>>([](const auto&... in) -> int { return (1 + ... + in); });
  std::vector<decltype(pool.submit(chain))> handles;
  for (int i = 0; i != 40; ++i) handles.push_back(i % 2 == 0 ? pool.submit(chain, lf::no_step_times) : pool.submit(chain));
  for (int i = 0; i != 40; ++i) {
    auto result = handles[static_cast<std::size_t>(i)].get();
    REQUIRE(result.ok());
    CHECK(result.get<"s00031">() == 32);
    const auto steps = result.steps();
    for (std::size_t k = 0; k != steps.size(); ++k) {
      if (i % 2 == 0) {
        CHECK(steps[k].end == none);
        continue;
      }
      CHECK(steps[k].start != none);
      CHECK(steps[k].start <= steps[k].end);
      if (k != 0) CHECK(steps[k - 1].end <= steps[k].start);
    }
  }

  // A step with a policy keeps its times: policies use them.
  auto retried = lf::flow<"retried">(lf::step<"x">([] { return 1; }).retry(lf::retry{2}));
  auto with_policy = pool.run(retried, lf::no_step_times);
  REQUIRE(with_policy.ok());
  CHECK(with_policy.step("x").start != none);
}

TEST_CASE("statuses, callback points, flows and results print with operator<<", "[run][print]") {
  std::ostringstream out;
  out << lf::step_status::skipped_by_condition << '|' << lf::callback_point::after_step;
  CHECK(out.str() == "skipped by condition|after-step");

  const auto f = lf::flow<"orders">(lf::step<"load">([] { return 1; }),
                                    lf::step<"charge", "load">([](int) -> int { throw std::runtime_error("card declined"); }),
                                    lf::step<"ship", "load", "charge">([](int, int) {}));
  out.str("");
  out << f;
  CHECK(out.str() == "flow \"orders\", 3 steps: load; charge <- load; ship <- load, charge");

  lf::executor pool{1};
  auto r = pool.run(f);
  out.str("");
  out << r;
  CHECK(out.str() == "flow \"orders\" run " + std::to_string(r.run_id()) +
                         ": not ok, 3 steps (1 succeeded, 1 failed, 1 skipped): step \"charge\" failed: card declined; "
                         "1 step skipped");

  lf::runtime_flow rf{"rt"};
  rf.add("a", [] { return 2; });
  rf.add("b", [] {}).after("a");
  out.str("");
  out << rf;
  CHECK(out.str() == "flow \"rt\", 2 steps: a; b <- a");
  auto rr = pool.run(rf);
  out.str("");
  out << rr;
  CHECK(out.str() == "flow \"rt\" run " + std::to_string(rr.run_id()) + ": ok, 2 steps (2 succeeded)");
  rf.add("c", [] {}).after("missing");
  CHECK_THROWS_AS(out << rf, lf::flow_error);  // a flow that cannot run cannot be shown either
}

TEST_CASE("a flow may take no input", "[run]") {
  lf::executor pool{2};
  auto f = lf::flow<"no input">(lf::step<"a">([] { return 20; }), lf::step<"b">([](lf::step_context&) { return 1; }),
                                lf::step<"c", "a", "b">([](int a, int b) { return a + b + 21; }));
  auto result = pool.run(f);
  REQUIRE(result.ok());
  CHECK(result.get<"c">() == 42);
}

TEST_CASE("a root step that takes no parameter ignores the input", "[run]") {
  lf::executor pool{1};
  auto f = lf::flow<"ignore">(lf::step<"a">([] { return 1; }), lf::step<"b">([](int x) { return x; }),
                              lf::step<"c", "a", "b">([](int a, int b) { return a + b; }));
  CHECK(pool.run(f, 41).get<"c">() == 42);
}

TEST_CASE("void steps are waited for and contribute no parameter", "[run]") {
  lf::executor pool{2};
  std::atomic<int> side{0};
  auto f = lf::flow<"void">(lf::step<"prepare">([&] { side = 5; }), lf::step<"value">([] { return 10; }),
                            lf::step<"use", "prepare", "value">([&](int v) { return v + side.load(); }),
                            lf::step<"last", "use", "prepare">([](int v) { (void)v; }));
  for (int r = 0; r != 50; ++r) {
    side = 0;
    auto result = pool.run(f);
    REQUIRE(result.ok());
    CHECK(result.get<"use">() == 15);
    CHECK(result.status<"last">() == lf::step_status::succeeded);
  }
}

TEST_CASE("move-only inputs and outputs are passed by reference", "[run]") {
  lf::executor pool{2};
  auto f = lf::flow<"move only">(
      lf::step<"read">([](const std::unique_ptr<int>& p) { return std::make_unique<int>(*p * 2); }),
      lf::step<"use", "read">([](const std::unique_ptr<int>& p) { return *p + 1; }));
  auto result = pool.run(f, std::make_unique<int>(20));
  REQUIRE(result.ok());
  CHECK(*result.get<"read">() == 40);
  CHECK(result.get<"use">() == 41);
}

TEST_CASE("a step's context names the step and the run", "[run][context]") {
  lf::executor pool{2};
  auto f = lf::flow<"上下文">(lf::step<"步骤">([](lf::step_context& ctx) {
    return std::string(ctx.flow_name()) + "/" + std::string(ctx.name()) + "/" + std::to_string(ctx.attempt()) + "/" +
           (ctx.stop_requested() ? "stop" : "go") + "/" + std::to_string(ctx.run_id());
  }));
  auto first = pool.run(f);
  auto second = pool.run(f);
  REQUIRE(first.ok());
  CHECK(first.get<"步骤">().rfind("上下文/步骤/1/go/", 0) == 0);
  CHECK(first.run_id() != second.run_id());
  CHECK(first.get<"步骤">() == "上下文/步骤/1/go/" + std::to_string(first.run_id()));
}

TEMPLATE_TEST_CASE("a step's idempotency key names its flow, its run's checkpoint id and itself", "[run][context]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  lf::executor pool{2};
  auto body = [](lf::step_context& ctx) { return std::string(ctx.checkpoint_id()) + "|" + ctx.idempotency_key(); };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"keys">(lf::step<"pay">(body));
    } else {
      lf::runtime_flow g{"keys"};
      g.add("pay", body);
      return g;
    }
  }();
  auto plain = two_kinds::run<TestType>(pool, f);
  CHECK(two_kinds::value_of<"pay", std::string>(plain) == "|keys/" + std::to_string(plain.run_id()) + "/pay");
  lf::memory_store store;
  auto saved = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "order-7"});
  CHECK(two_kinds::value_of<"pay", std::string>(saved) == "order-7|keys/order-7/pay");
}

TEST_CASE("a step's context lists its dependents and dependencies, and says whether the run recovers",
          "[run][context]") {
  lf::executor pool{2};
  using names = std::multiset<std::string>;
  auto listed = [](const std::vector<std::string_view>& v) { return names(v.begin(), v.end()); };
  std::mutex mutex;
  std::map<std::string, names> dependents, dependencies;
  std::map<std::string, bool> recovering;
  auto note = [&](lf::step_context& ctx) {
    std::lock_guard lock(mutex);
    dependents[std::string(ctx.name())] = listed(ctx.dependents());
    dependencies[std::string(ctx.name())] = listed(ctx.dependencies());
    recovering[std::string(ctx.name())] = ctx.recovering();
  };
  bool fail_c = true;
  auto check_shape = [&] {
    CHECK(dependents["a"] == names{"b", "c"});
    CHECK(dependencies["a"].empty());
    CHECK(dependents["b"] == names{"c"});
    CHECK(dependencies["c"] == names{"a", "b"});  // a data dependency and an ordering-only one
  };
  lf::memory_store store;
  // A first run whose step c fails, then the same run resumed from its checkpoint.
  auto fail_then_resume = [&](auto& f) {
    CHECK_FALSE(pool.run(f, lf::checkpoint{store, "run"}).ok());
    check_shape();
    CHECK((!recovering["a"] && !recovering["b"] && !recovering["c"]));
    fail_c = false;
    recovering.clear();
    REQUIRE(pool.run(f, lf::checkpoint{store, "run"}).ok());
    CHECK(recovering == std::map<std::string, bool>{{"c", true}});  // a and b were restored, not run
  };
  SECTION("static flow") {
    const auto f = lf::flow<"f">(lf::step<"a">([&](lf::step_context& ctx) { note(ctx); return 1; }),
                                 lf::step<"b", "a">([&](int v, lf::step_context& ctx) { note(ctx); return v; }),
                                 lf::step<"c", "b">([&](int v, lf::step_context& ctx) {
                                   note(ctx);
                                   if (fail_c) throw std::runtime_error("c fails once");
                                   return v;
                                 }).after<"a">());
    fail_then_resume(f);
    recovering.clear();
    REQUIRE(pool.run(f).ok());  // without a checkpoint: a fresh run
    CHECK(recovering == std::map<std::string, bool>{{"a", false}, {"b", false}, {"c", false}});
  }
  SECTION("runtime flow") {
    lf::runtime_flow f{"f"};
    f.add("a", [&](lf::context& ctx) { note(ctx); return 1; });
    f.add("b", [&](lf::context& ctx) { note(ctx); return 2; }).after("a");
    f.add("c", [&](lf::context& ctx) {
       note(ctx);
       if (fail_c) throw std::runtime_error("c fails once");
     }).after("b", "a");
    fail_then_resume(f);
  }
}

TEST_CASE("the calling thread runs a small flow itself", "[run]") {
  lf::executor pool{1};
  auto f = lf::flow<"here">(lf::step<"where">([] { return std::this_thread::get_id(); }));
  for (int r = 0; r != 20; ++r) CHECK(pool.run(f).get<"where">() == std::this_thread::get_id());
}

TEST_CASE("submit returns a handle to wait on", "[run][submit]") {
  lf::executor pool{2};
  auto order_flow = make_order_flow();
  std::vector<lf::run_handle<decltype(order_flow), Order>> handles;
  for (int i = 0; i != 50; ++i) handles.push_back(pool.submit(order_flow, Order{"O" + std::to_string(i), 1.0 + i, i}));
  for (int i = 0; i != 50; ++i) {
    auto result = handles[static_cast<std::size_t>(i)].get();
    CHECK_FALSE(handles[static_cast<std::size_t>(i)].valid());
    REQUIRE(result.ok());
    CHECK(result.get<"发货">().product_id == i);
  }
}

TEST_CASE("a step may run another flow on the same executor", "[run][nested]") {
  lf::executor pool{2};
  auto inner =
      lf::flow<"inner">(lf::step<"x">([](int v) { return v * 2; }), lf::step<"y", "x">([](int v) { return v + 1; }));
  auto outer = lf::flow<"outer">(lf::step<"a">([&](int v) { return pool.run(inner, v).get<"y">(); }),
                                 lf::step<"b">([&](int v) { return pool.run(inner, v + 1).get<"y">(); }),
                                 lf::step<"c", "a", "b">([](int a, int b) { return a + b; }));
  for (int r = 0; r != 50; ++r) CHECK(pool.run(outer, 10).get<"c">() == 21 + 23);
}

TEST_CASE("an empty flow finishes at once", "[run]") {
  lf::executor pool{1};
  auto f = lf::flow<"empty">();
  auto result = pool.run(f);
  CHECK(result.ok());
  CHECK(result.size() == 0);
  auto handle = pool.submit(f);
  CHECK(handle.get().ok());
}

TEMPLATE_TEST_CASE("only_steps runs the steps named; the others not restored are stopped, their dependents skipped",
                   "[run][only_steps]", two_kinds::static_flows, two_kinds::runtime_flows) {
  lf::executor pool{2};
  std::atomic<int> ran[3] = {0, 0, 0};
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"only">(lf::step<"a">([&] { return ++ran[0]; }), lf::step<"b", "a">([&](int a) { return ++ran[1] + a; }),
                              lf::step<"c", "b">([&](int b) { return ++ran[2] + b; }));
    } else {
      lf::runtime_flow g{"only"};
      g.add("a", [&] { return ++ran[0]; });
      g.add("b", [&](lf::context& ctx) { return ++ran[1] + ctx.result<int>("a"); }).after("a");
      g.add("c", [&](lf::context& ctx) { return ++ran[2] + ctx.result<int>("b"); }).after("b");
      return g;
    }
  }();
  lf::memory_store store;
  auto first = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "r"}, lf::only_steps{{"a"}});
  CHECK(first.status("a") == lf::step_status::succeeded);
  CHECK(first.status("b") == lf::step_status::stopped);
  CHECK(first.status("c") == lf::step_status::skipped);
  auto second = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "r"}, lf::only_steps{{"b"}});
  CHECK(second.status("a") == lf::step_status::succeeded);  // restored
  CHECK(second.status("b") == lf::step_status::succeeded);
  CHECK(second.status("c") == lf::step_status::stopped);
  CHECK((ran[0] == 1 && ran[1] == 1 && ran[2] == 0));
  auto rest = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "r"});
  REQUIRE(rest.ok());
  CHECK(rest.restored() == 2);
  CHECK(two_kinds::value_of<"c", int>(rest) == 3);
  CHECK_THROWS_WITH(two_kinds::run<TestType>(pool, f, lf::only_steps{{"x"}}),
                    "lightflow: flow \"only\" has no step \"x\" (named by lightflow::only_steps)");
}

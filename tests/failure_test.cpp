// A step that throws: its descendants are skipped, independent branches finish, nothing is lost;
// each scenario through a static flow and a runtime flow of the same shape.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using two_kinds::runtime_flows;
using two_kinds::static_flows;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEMPLATE_TEST_CASE("a failing step's descendants are skipped and never run", "[failure]", static_flows, runtime_flows) {
  lf::executor pool{2};
  std::atomic<int> ran_c{0}, ran_d{0}, ran_side{0};
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"chain">(
          lf::step<"a">([] { return 1; }), lf::step<"b", "a">([](int) -> int { throw std::runtime_error("disk on fire"); }),
          lf::step<"c", "b">([&](int v) { return ++ran_c + v; }), lf::step<"d", "c">([&](int v) { return ++ran_d + v; }),
          lf::step<"side", "a">([&](int v) { return ++ran_side + v; }));
    } else {
      lf::runtime_flow g{"chain"};
      g.add("a", [] { return 1; });
      g.add("b", []() -> int { throw std::runtime_error("disk on fire"); }).after("a");
      g.add("c", [&](lf::context& ctx) { return ++ran_c + ctx.result<int>("b"); }).after("b");
      g.add("d", [&](lf::context& ctx) { return ++ran_d + ctx.result<int>("c"); }).after("c");
      g.add("side", [&](lf::context& ctx) { return ++ran_side + ctx.result<int>("a"); }).after("a");
      return g;
    }
  }();
  for (int r = 0; r != 100; ++r) {
    auto result = pool.run(f);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status("a") == lf::step_status::succeeded);
    CHECK(result.status("b") == lf::step_status::failed);
    CHECK(result.status("c") == lf::step_status::skipped);
    CHECK(result.status("d") == lf::step_status::skipped);
    CHECK(result.status("side") == lf::step_status::succeeded);
    CHECK(two_kinds::value_of<"side", int>(result) == r + 2);
    CHECK(result.count(lf::step_status::skipped) == 2);
  }
  CHECK(ran_c == 0);
  CHECK(ran_d == 0);
  CHECK(ran_side == 100);
}

TEMPLATE_TEST_CASE("the result explains the failure and keeps the exception", "[failure]", static_flows, runtime_flows) {
  lf::executor pool{1};
  const auto check = [](int x) -> int {
    if (x <= 0) throw std::invalid_argument("empty order");
    return x;
  };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"订单">(lf::step<"验证">(check), lf::step<"支付", "验证">([](int x) { return x * 2; }),
                              lf::step<"发货", "支付">([](int x) { return x + 1; }));
    } else {
      lf::runtime_flow g{"订单"};
      g.add("验证", [check](lf::context& ctx) { return check(ctx.get(two_kinds::input_key)); });
      g.add("支付", [](lf::context& ctx) { return ctx.result<int>("验证") * 2; }).after("验证");
      g.add("发货", [](lf::context& ctx) { return ctx.result<int>("支付") + 1; }).after("支付");
      return g;
    }
  }();
  auto result = pool.run(f, two_kinds::input<TestType>(0));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error_message() == "lightflow: flow \"订单\": step \"验证\" failed: empty order; 2 steps skipped");

  const auto failures = result.failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].name == "验证");
  CHECK_THROWS_AS(std::rethrow_exception(failures[0].error), std::invalid_argument);

  try {
    (void)two_kinds::value_of<"发货", int>(result);
    FAIL("get on a skipped step must throw");
  } catch (const lf::bad_step_access& e) {
    CHECK(e.step() == "发货");
    CHECK(e.status() == lf::step_status::skipped);
    CHECK(contains(e.what(), "\"发货\""));
    CHECK(contains(e.what(), "was skipped"));
    CHECK(contains(e.what(), "because step \"验证\" failed: empty order"));
  }
  try {
    (void)two_kinds::value_of<"验证", int>(result);
    FAIL("get on a failed step must throw");
  } catch (const lf::bad_step_access& e) {
    CHECK(e.status() == lf::step_status::failed);
    CHECK(contains(e.what(), "it failed (empty order)"));
  }
  try {
    result.throw_if_failed();
    FAIL("throw_if_failed must throw");
  } catch (const lf::step_error& e) {
    CHECK(e.step() == "验证");
    CHECK(contains(e.what(), "step \"验证\" of flow \"订单\" failed: empty order"));
    CHECK_THROWS_AS(e.rethrow_cause(), std::invalid_argument);
  }
}

TEMPLATE_TEST_CASE("every failure is kept, not only the first", "[failure]", static_flows, runtime_flows) {
  lf::executor pool{2};
  const auto x = []() -> int { throw std::runtime_error("x broke"); };
  const auto y = []() -> int { throw 42; };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"many">(lf::step<"x">(x), lf::step<"y">(y), lf::step<"z">([] { return 3; }),
                              lf::step<"after", "x", "y", "z">([](int, int, int) { return 0; }));
    } else {
      lf::runtime_flow g{"many"};
      g.add("x", x);
      g.add("y", y);
      g.add("z", [] { return 3; });
      g.add("after", [] { return 0; }).after("x", "y", "z");
      return g;
    }
  }();
  auto result = pool.run(f);
  CHECK(result.count(lf::step_status::failed) == 2);
  CHECK(result.failures().size() == 2);
  CHECK(result.status("z") == lf::step_status::succeeded);
  CHECK(result.status("after") == lf::step_status::skipped);
  const std::string message = result.error_message();
  CHECK(contains(message, "(and 1 other step failed); 1 step skipped"));
  const bool x_first = contains(message, "step \"x\" failed: x broke");
  const bool y_first = contains(message, "step \"y\" failed: unknown exception");
  CHECK(x_first != y_first);
}

TEMPLATE_TEST_CASE("a step that depends on a failed and a succeeded step is skipped", "[failure]", static_flows,
                   runtime_flows) {
  lf::executor pool{2};
  std::atomic<int> joined{0};
  const auto bad = []() -> int { throw std::logic_error("no"); };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"join">(lf::step<"ok">([] { return 1; }), lf::step<"bad">(bad),
                              lf::step<"join", "ok", "bad">([&](int, int) { return ++joined; }));
    } else {
      lf::runtime_flow g{"join"};
      g.add("ok", [] { return 1; });
      g.add("bad", bad);
      g.add("join", [&] { return ++joined; }).after("ok", "bad");
      return g;
    }
  }();
  for (int r = 0; r != 200; ++r) CHECK(pool.run(f).status("join") == lf::step_status::skipped);
  CHECK(joined == 0);
}

// A step that throws: its descendants are skipped, independent branches finish, nothing is lost.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

#include "catch.hpp"

namespace lf = lightflow;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("a failing step's descendants are skipped and never run", "[failure]") {
  lf::executor pool{2};
  std::atomic<int> ran_c{0}, ran_d{0}, ran_side{0};
  auto f = lf::flow<"chain">(
      lf::step<"a">([] { return 1; }), lf::step<"b", "a">([](int) -> int { throw std::runtime_error("disk on fire"); }),
      lf::step<"c", "b">([&](int v) { return ++ran_c + v; }), lf::step<"d", "c">([&](int v) { return ++ran_d + v; }),
      lf::step<"side", "a">([&](int v) { return ++ran_side + v; }));
  for (int r = 0; r != 100; ++r) {
    auto result = pool.run(f);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status<"a">() == lf::step_status::succeeded);
    CHECK(result.status<"b">() == lf::step_status::failed);
    CHECK(result.status<"c">() == lf::step_status::skipped);
    CHECK(result.status<"d">() == lf::step_status::skipped);
    CHECK(result.status<"side">() == lf::step_status::succeeded);
    CHECK(result.get<"side">() == r + 2);
    CHECK(result.count(lf::step_status::skipped) == 2);
  }
  CHECK(ran_c == 0);
  CHECK(ran_d == 0);
  CHECK(ran_side == 100);
}

TEST_CASE("the result explains the failure and keeps the exception", "[failure]") {
  lf::executor pool{1};
  auto f = lf::flow<"订单">(lf::step<"验证">([](int x) -> int {
                              if (x <= 0) throw std::invalid_argument("empty order");
                              return x;
                            }),
                            lf::step<"支付", "验证">([](int x) { return x * 2; }),
                            lf::step<"发货", "支付">([](int x) { return x + 1; }));
  auto result = pool.run(f, 0);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error_message() == "lightflow: flow \"订单\": step \"验证\" failed: empty order; 2 steps skipped");

  const auto failures = result.failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].name == "验证");
  CHECK_THROWS_AS(std::rethrow_exception(failures[0].error), std::invalid_argument);

  try {
    (void)result.get<"发货">();
    FAIL("get on a skipped step must throw");
  } catch (const lf::bad_step_access& e) {
    CHECK(e.step() == "发货");
    CHECK(e.status() == lf::step_status::skipped);
    CHECK(contains(e.what(), "\"发货\""));
    CHECK(contains(e.what(), "was skipped"));
    CHECK(contains(e.what(), "because step \"验证\" failed: empty order"));
  }
  try {
    (void)result.get<"验证">();
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

TEST_CASE("every failure is kept, not only the first", "[failure]") {
  lf::executor pool{2};
  auto f = lf::flow<"many">(lf::step<"x">([]() -> int { throw std::runtime_error("x broke"); }),
                            lf::step<"y">([]() -> int { throw 42; }), lf::step<"z">([] { return 3; }),
                            lf::step<"after", "x", "y", "z">([](int, int, int) { return 0; }));
  auto result = pool.run(f);
  CHECK(result.count(lf::step_status::failed) == 2);
  CHECK(result.failures().size() == 2);
  CHECK(result.status<"z">() == lf::step_status::succeeded);
  CHECK(result.status<"after">() == lf::step_status::skipped);
  const std::string message = result.error_message();
  CHECK(contains(message, "(and 1 other step failed); 1 step skipped"));
  const bool x_first = contains(message, "step \"x\" failed: x broke");
  const bool y_first = contains(message, "step \"y\" failed: unknown exception");
  CHECK(x_first != y_first);
}

TEST_CASE("a step that depends on a failed and a succeeded step is skipped", "[failure]") {
  lf::executor pool{2};
  std::atomic<int> joined{0};
  auto f =
      lf::flow<"join">(lf::step<"ok">([] { return 1; }), lf::step<"bad">([]() -> int { throw std::logic_error("no"); }),
                       lf::step<"join", "ok", "bad">([&](int, int) { return ++joined; }));
  for (int r = 0; r != 200; ++r) CHECK(pool.run(f).status<"join">() == lf::step_status::skipped);
  CHECK(joined == 0);
}

// Static merges (renamed steps, ordering edges, compile-time re-check) and static flows merged into
// runtime flows.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;

namespace {

// Each call takes the next number: the order in which steps ran.
struct sequence {
  std::atomic<int> next{0};
  int take() { return ++next; }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

auto billing_flow(sequence& seq, int (&at)[4]) {
  return lf::flow<"billing">(lf::step<"invoice">([&seq, &at](int order) { at[0] = seq.take(); return order * 10; }),
                             lf::step<"charge", "invoice">([&seq, &at](int amount) { at[1] = seq.take(); return amount + 1; }));
}
auto shipping_flow(sequence& seq, int (&at)[4]) {
  return lf::flow<"shipping">(lf::step<"pack">([&seq, &at](int order) { at[2] = seq.take(); return std::to_string(order); }),
                              lf::step<"ship", "pack">([&seq, &at](const std::string& box) { at[3] = seq.take(); return box + " shipped"; }));
}

}  // namespace

TEST_CASE("a static merge renames the steps, keeps their data, and adds ordering edges", "[merge]") {
  sequence seq;
  int at[4] = {};
  const auto billing = billing_flow(seq, at);
  const auto shipping = shipping_flow(seq, at);
  const auto merged = lf::merge<"orders">(billing, shipping, lf::edge<"billing.charge", "shipping.pack">);
  using merged_type = std::remove_cvref_t<decltype(merged)>;
  STATIC_REQUIRE(merged_type::size == 4);
  STATIC_REQUIRE(merged_type::name.view() == "orders");
  STATIC_REQUIRE(merged_type::index_of("billing.invoice") != lf::detail::npos);
  STATIC_REQUIRE(merged_type::index_of("invoice") == lf::detail::npos);
  // The edge is ordering only: "shipping.pack" has one more dependency but still takes the input.
  constexpr auto pack = merged_type::index_of("shipping.pack");
  STATIC_REQUIRE(merged_type::graph.dep_offsets[pack + 1] - merged_type::graph.dep_offsets[pack] == 1);
  STATIC_REQUIRE(merged_type::graph.data_count[pack] == 0);

  lf::executor pool{2};
  for (int round = 0; round != 20; ++round) {
    seq.next = 0;
    auto result = pool.run(merged, 7);
    REQUIRE(result.ok());
    CHECK(result.get<"billing.charge">() == 71);
    CHECK(result.get<"shipping.ship">() == "7 shipped");
    CHECK(at[0] < at[1]);  // invoice, charge
    CHECK(at[1] < at[2]);  // the edge: charge before pack
    CHECK(at[2] < at[3]);  // pack, ship
  }

  // The sources are unchanged: they still run on their own, without the edge.
  auto alone = pool.run(shipping, 3);
  REQUIRE(alone.ok());
  CHECK(alone.get<"ship">() == "3 shipped");
  STATIC_REQUIRE(std::remove_cvref_t<decltype(shipping)>::index_of("pack") != lf::detail::npos);
}

TEST_CASE("merged flows merge again, and an edge repeating a dependency is harmless", "[merge]") {
  sequence seq;
  int at[4] = {};
  const auto inner = lf::merge<"inner">(billing_flow(seq, at), shipping_flow(seq, at),
                                        lf::edge<"billing.invoice", "billing.charge">);  // already a dependency
  const auto audit = lf::flow<"audit">(lf::step<"log">([](int order) { return order + 1000; }));
  const auto top = lf::merge<"top">(inner, audit, lf::edge<"inner.shipping.ship", "audit.log">);
  using top_type = std::remove_cvref_t<decltype(top)>;
  STATIC_REQUIRE(top_type::size == 5);
  constexpr auto charge = top_type::index_of("inner.billing.charge");
  STATIC_REQUIRE(top_type::graph.dep_offsets[charge + 1] - top_type::graph.dep_offsets[charge] == 1);

  lf::executor pool{2};
  auto result = pool.run(top, 2);
  REQUIRE(result.ok());
  CHECK(result.get<"inner.billing.charge">() == 21);
  CHECK(result.get<"audit.log">() == 1002);
  CHECK(result.status("audit.log") == lf::step_status::succeeded);
}

TEST_CASE("a step may run after steps whose outputs it does not take", "[merge][after]") {
  std::atomic<int> seq{0};
  int cleaned = 0, loaded = 0;
  auto f = lf::flow<"etl">(lf::step<"cleanup">([&](int) { cleaned = ++seq; }),
                           lf::step<"extract">([](int n) { return n * 2; }),
                           lf::step<"load", "extract">([&](int rows) { loaded = ++seq; return rows + 1; }).after<"cleanup">(),
                           lf::step<"report">([&](int n) { return n; }).after<"load">());
  using flow_type = decltype(f);
  STATIC_REQUIRE(flow_type::graph.data_count[flow_type::index_of("load")] == 1);
  lf::executor pool{2};
  for (int round = 0; round != 20; ++round) {
    seq = 0;
    auto result = pool.run(f, 5);
    REQUIRE(result.ok());
    CHECK(result.get<"load">() == 11);
    CHECK(result.get<"report">() == 5);  // no data dependency: it receives the run's input
    CHECK(cleaned < loaded);
  }
}

TEST_CASE("a failure in a merged flow carries the merged step's name and skips across edges", "[merge][failure]") {
  auto a = lf::flow<"a">(lf::step<"boom">([]() -> int { throw std::runtime_error("outage"); }));
  auto b = lf::flow<"b">(lf::step<"after">([] { return 1; }), lf::step<"free">([] { return 2; }));
  auto m = lf::merge<"m">(a, b, lf::edge<"a.boom", "b.after">);
  lf::executor pool{2};
  auto result = pool.run(m);
  CHECK_FALSE(result.ok());
  CHECK(result.status("a.boom") == lf::step_status::failed);
  CHECK(result.status("b.after") == lf::step_status::skipped);
  CHECK(result.status("b.free") == lf::step_status::succeeded);
  CHECK(contains(result.error_message(), "\"a.boom\""));
  CHECK(contains(result.error_message(), "outage"));
}

TEST_CASE("a static flow merged into a runtime flow keeps its typed steps", "[merge][runtime]") {
  const lf::key<int> base{"base"};
  int calls = 0;
  const auto pricing = lf::flow<"pricing">(
      lf::step<"list">([&base](const lf::values& in) { return *in.find(base) * 10; }),
      lf::step<"discount", "list">([](int price, lf::step_context& ctx) { return price - static_cast<int>(ctx.name().size()); }),
      lf::step<"audit", "discount">([&calls](int) { ++calls; }));
  lf::runtime_flow f{"shop"};
  f.merge(pricing);
  f.add("report", [](lf::context& ctx) { return ctx.result<int>("pricing.discount") + 1; }).after("pricing.discount");
  CHECK(f.size() == 4);
  CHECK(f.dependencies("pricing.discount") == std::vector<std::string>{"pricing.list"});

  lf::executor pool{2};
  auto result = pool.run(f, lf::values{}.set(base, 4));
  REQUIRE(result.ok());
  CHECK(result.get<int>("pricing.list") == 40);
  CHECK(result.get<int>("pricing.discount") == 40 - 16);  // "pricing.discount" is 16 bytes
  CHECK(result.get<int>("report") == 25);
  CHECK(calls == 1);

  // Merged again, namespaced: the static steps find their dependencies, and the runtime step its
  // ancestor's result, under the new prefix.
  lf::runtime_flow outer{"outer"};
  outer.merge(f);
  auto nested = pool.run(outer, lf::values{}.set(base, 5));
  REQUIRE(nested.ok());
  CHECK(nested.get<int>("shop.pricing.discount") == 50 - 21);
  CHECK(nested.get<int>("shop.report") == 30);
  CHECK(calls == 2);
}

TEST_CASE("a static flow unified into a runtime flow gives a step in both its retries and condition", "[merge][runtime]") {
  lf::executor pool{2};
  int calls = 0;
  bool source_says = true;
  const auto f = lf::flow<"calc">(lf::step<"x">([] { return 1; }).retry(lf::retry{3}),
                                  lf::step<"y", "x">([](int v) { return v * 100; })
                                      .when([&](lf::step_context&) { return source_says; }));
  lf::runtime_flow target{"target"};
  target.add("x", [&] {
    if (++calls < 3) throw std::runtime_error("not yet");
    return 7;
  });
  target.add("y", [](lf::context& ctx) { return ctx.result<int>("x") + 1; });
  target.merge(f, lf::merge_mode::unify);
  auto r = pool.run(target);
  REQUIRE(r.ok());
  CHECK(r.step("x").attempts == 3);  // the static step's retries
  CHECK(r.get<int>("y") == 8);       // the target's callables
  source_says = false;
  calls = 0;
  CHECK(pool.run(target).status("y") == lf::step_status::skipped_by_condition);  // the static step's condition
}

TEST_CASE("a static flow unified into a runtime flow uses the target's step of the same name", "[merge][runtime]") {
  const auto f = lf::flow<"calc">(lf::step<"x">([] { return 1; }), lf::step<"y", "x">([](int v) { return v * 100; }));
  lf::executor pool{2};

  lf::runtime_flow good{"good"};
  good.add("x", [] { return 7; });
  good.merge(f, lf::merge_mode::unify);
  CHECK(good.size() == 2);
  auto ok = pool.run(good);
  REQUIRE(ok.ok());
  CHECK(ok.get<int>("y") == 700);  // the target's "x" ran

  lf::runtime_flow bad{"bad"};
  bad.add("x", [] { return std::string("seven"); });
  bad.merge(f, lf::merge_mode::unify);
  auto failed = pool.run(bad);
  CHECK_FALSE(failed.ok());
  CHECK(failed.status("y") == lf::step_status::failed);
  CHECK(contains(failed.error_message(), "step \"y\" (of static flow \"calc\") needs the result of step \"x\""));
  CHECK(contains(failed.error_message(), "not the int its parameter takes"));

  // A cycle made by the merge is refused, naming it.
  lf::runtime_flow cyclic{"cyclic"};
  cyclic.add("x", [] { return 1; }).after("y");
  cyclic.merge(f, lf::merge_mode::unify);
  try {
    cyclic.check();
    FAIL("no flow_error");
  } catch (const lf::flow_error& e) {
    CHECK(contains(e.what(), "\"x\""));
    CHECK(contains(e.what(), "\"y\""));
  }
}

// Namespaces of a merged flow (the Go original's processes): what became of each, through both kinds.
TEMPLATE_TEST_CASE("a result tells what became of each namespace of a merged flow", "[merge][namespace]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  lf::executor pool{2};
  const auto check = [](const auto& r) {
    CHECK_FALSE(r.ok());
    CHECK(r.namespace_status("top") == lf::step_status::failed);           // "top.bad.boom" failed
    CHECK(r.namespace_status("top.good") == lf::step_status::succeeded);
    CHECK(r.namespace_status("top.bad") == lf::step_status::failed);
    CHECK(r.namespace_status("top.quiet") == lf::step_status::skipped_by_condition);
    CHECK(r.namespace_status("late") == lf::step_status::skipped);         // after "top.bad.boom"
    CHECK(r.namespace_status("top.good.a") == lf::step_status::succeeded);  // a dot in a step's name reads so too
    CHECK_THROWS_WITH(r.namespace_status("top.goo"), Catch::Matchers::Contains("has no namespace \"top.goo\""));
    CHECK_THROWS_AS(r.namespace_status("top.good.a.b"), lf::unknown_step);  // a step, not a namespace
  };
  if constexpr (TestType::is_static) {
    const auto good = lf::flow<"good">(lf::step<"a.b">([] { return 1; }), lf::step<"c", "a.b">([](int x) { return x; }));
    const auto bad = lf::flow<"bad">(lf::step<"boom">([]() -> int { throw std::runtime_error("outage"); }),
                                     lf::step<"fine">([] { return 2; }));
    const auto quiet = lf::flow<"quiet">(lf::step<"q">([] { return 3; }).when([](lf::step_context&) { return false; }));
    const auto top = lf::merge<"top">(good, bad, quiet);
    const auto late = lf::flow<"late">(lf::step<"l">([] { return 4; }));
    const auto all = lf::merge<"all">(top, late, lf::edge<"top.bad.boom", "late.l">);
    check(pool.run(all));
  } else {
    lf::runtime_flow good{"good"}, bad{"bad"}, quiet{"quiet"}, top{"top"}, late{"late"}, all{"all"};
    good.add("a.b", [] { return 1; });
    good.add("c", [] { return 1; }).after("a.b");
    bad.add("boom", []() -> int { throw std::runtime_error("outage"); });
    bad.add("fine", [] { return 2; });
    quiet.add("q", [] { return 3; }).when([](lf::context&) { return false; });
    top.merge(good).merge(bad).merge(quiet);
    late.add("l", [] { return 4; });
    all.merge(top).merge(late);
    all.at("late.l").after("top.bad.boom");
    check(pool.run(all, lf::values{}));
  }
}

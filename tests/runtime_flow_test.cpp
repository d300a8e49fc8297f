// Runtime flows: building, checking, running, results by name, key/value contexts, merging.
#include <lightflow/lightflow.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

const lf::key<std::string> order_id{"order_id"};
const lf::key<int> stage{"stage"};
const lf::key<int> count{"count"};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

template <class F>
std::string flow_error_of(F&& f) {
  try {
    f();
  } catch (const lf::flow_error& e) {
    return e.what();
  }
  return "no flow_error";
}

}  // namespace

TEST_CASE("a runtime flow runs each step after its dependencies and gives results by name", "[runtime]") {
  lf::runtime_flow f{"订单处理流程"};
  std::atomic<int> order{0};
  std::array<int, 4> seen{};
  auto check = f.add("验证订单", [&] { seen[0] = ++order; return 100.0; });
  f.add("处理支付", [&](lf::context& ctx) { seen[1] = ++order; return ctx.result<double>("验证订单") * 2; }).after(check);
  f.add("更新库存", [&] { seen[2] = ++order; }).after("验证订单");
  f.add("发货", [&](lf::context& ctx) {
     seen[3] = ++order;
     return std::to_string(ctx.result<double>("处理支付")) + " " + std::string(ctx.name());
   }).after("处理支付", "更新库存");
  CHECK(f.size() == 4);
  CHECK(f.find("处理支付").has_value());
  CHECK_FALSE(f.find("nothing").has_value());
  CHECK(f.dependencies("发货") == std::vector<std::string>{"处理支付", "更新库存"});

  lf::executor pool{2};
  for (int round = 0; round != 3; ++round) {
    order = 0;
    auto result = pool.run(f);
    REQUIRE(result.ok());
    CHECK(result.get<double>("处理支付") == 200.0);
    CHECK(contains(result.get<std::string>("发货"), "200"));
    CHECK(seen[0] == 1);
    CHECK(seen[3] == 4);
    CHECK(result.status("更新库存") == lf::step_status::succeeded);
    CHECK_THROWS_AS(result.get<int>("处理支付"), lf::key_error);   // wrong type: named
    CHECK_THROWS_WITH(result.get<int>("处理支付"), Contains("处理支付") && Contains("double"));
    CHECK_THROWS_WITH(result.get<int>("更新库存"), Contains("returned nothing"));
  }
  // Without step times: the same run, its steps' start and end left at time_point{}.
  order = 0;
  auto untimed = pool.run(f, lf::no_step_times);
  REQUIRE(untimed.ok());
  CHECK(untimed.get<double>("处理支付") == 200.0);
  CHECK(seen[3] == 4);
  for (const auto& step : untimed.steps()) CHECK(step.end == std::chrono::steady_clock::time_point{});
  CHECK(pool.run(f).step("发货").end != std::chrono::steady_clock::time_point{});
}

TEST_CASE("a runtime flow's mistakes are flow_errors naming the steps, before any step runs", "[runtime]") {
  std::atomic<int> ran{0};
  auto body = [&] { ++ran; };
  lf::executor pool{2};

  SECTION("duplicate name") {
    lf::runtime_flow f{"dup"};
    f.add("a", body);
    CHECK_THROWS_WITH(f.add("a", body), "lightflow: flow \"dup\" has two steps named \"a\"");
  }
  SECTION("unknown dependency") {
    lf::runtime_flow f{"unknown"};
    f.add("a", body).after("ghost");
    const auto message = flow_error_of([&] { (void)pool.run(f); });
    CHECK(message == "lightflow: flow \"unknown\": step \"a\" depends on \"ghost\", which is not a step of this flow");
    CHECK(ran == 0);
  }
  SECTION("a dependency added later by name is fine") {
    lf::runtime_flow f{"later"};
    f.add("b", body).after("a");
    f.add("a", body);
    CHECK(pool.run(f).ok());
    CHECK(ran == 2);
  }
  SECTION("self dependency") {
    lf::runtime_flow f{"self"};
    f.add("a", body).after("a");
    CHECK(flow_error_of([&] { f.check(); }) == "lightflow: flow \"self\": step \"a\" depends on itself");
  }
  SECTION("empty name, and a dependency listed twice (deduplicated silently before)") {
    lf::runtime_flow f{"rules"};
    CHECK_THROWS_WITH(f.add("", body), "lightflow: flow \"rules\": a step has an empty name");
    auto a = f.add("a", body);
    f.add("b", body).after(a).after("a");
    CHECK(flow_error_of([&] { f.check(); }) == "lightflow: flow \"rules\": step \"b\" lists dependency \"a\" twice");
  }
  SECTION("cycle, with its path") {
    lf::runtime_flow f{"loop"};
    f.add("start", body);
    f.add("x", body).after("start", "z");
    f.add("y", body).after("x");
    f.add("z", body).after("y");
    const auto message = flow_error_of([&] { (void)pool.run(f); });
    CHECK(contains(message, "flow \"loop\" has a cycle: "));
    CHECK(contains(message, " (each step depends on the one before it)"));
    const bool named = contains(message, "\"x\" -> \"y\" -> \"z\" -> \"x\"") || contains(message, "\"y\" -> \"z\" -> \"x\" -> \"y\"") ||
                       contains(message, "\"z\" -> \"x\" -> \"y\" -> \"z\"");
    CHECK(named);
    CHECK(ran == 0);  // not even "start" ran
  }
  SECTION("a step of another flow") {
    lf::runtime_flow f{"one"}, g{"two"};
    auto a = f.add("a", body);
    CHECK_THROWS_AS(g.add("b", body).after(a), lf::flow_error);
    auto b = g.add("c", body);
    CHECK_THROWS_AS(f.depend(a, g.add("d", body)), lf::flow_error);  // index 2: not a step of f
    (void)b;
  }
}

TEST_CASE("runtime flows: failures skip descendants, other branches run, errors carry the step", "[runtime]") {
  lf::runtime_flow f{"fail"};
  std::atomic<int> side{0};
  f.add("a", [] { return 1; });
  f.add("bad", [](lf::context&) -> int { throw std::runtime_error("boom"); }).after("a");
  f.add("after", [] { return 2; }).after("bad");
  f.add("side", [&] { ++side; }).after("a");
  lf::executor pool{2};
  auto result = pool.run(f);
  CHECK_FALSE(result.ok());
  CHECK(result.status("bad") == lf::step_status::failed);
  CHECK(result.status("after") == lf::step_status::skipped);
  CHECK(side == 1);
  CHECK(contains(result.error_message(), "step \"bad\" failed: boom"));
  CHECK_THROWS_AS(result.get<int>("after"), lf::bad_step_access);
  CHECK_THROWS_AS(result.throw_if_failed(), lf::step_error);
}

TEST_CASE("contexts: a step sees its own, its ancestors' and the input's values, never a sibling's", "[runtime][context]") {
  lf::runtime_flow f{"contexts"};
  std::string b_saw_from_c = "unset", d_saw;
  int d_stage = 0;
  std::string c_order;
  f.add("a", [](lf::context& ctx) { ctx.set(stage, 1); });
  f.add("b", [&](lf::context& ctx) {
     ctx.set(stage, 2);                            // shadows a's value for b and its descendants
     const std::string* seen = ctx.find(order_id);  // from the input
     b_saw_from_c = ctx.find(lf::key<int>{"c only"}) ? "visible" : "invisible";
     return seen ? *seen : std::string("none");
   }).after("a");
  f.add("c", [&](lf::context& ctx) {
     ctx.set(lf::key<int>{"c only"}, 7);
     ctx.set(order_id, "changed by c");           // shadows the input for c only
     c_order = ctx.get(order_id);
     return ctx.get(stage);                       // a's value: b is a sibling
   }).after("a");
  f.add("d", [&](lf::context& ctx) {
     d_stage = ctx.get(stage);                    // b's, which shadows a's
     d_saw = ctx.get(order_id);                   // the input's: c is not an ancestor
   }).after("b");

  lf::values input;
  input.set(order_id, std::string("ORD-1"));
  lf::executor pool{2};
  for (int round = 0; round != 20; ++round) {
    auto result = pool.run(f, input);
    REQUIRE(result.ok());
    CHECK(result.get<std::string>("b") == "ORD-1");
    CHECK(b_saw_from_c == "invisible");
    CHECK(result.get<int>("c") == 1);
    CHECK(c_order == "changed by c");
    CHECK(d_stage == 2);
    CHECK(d_saw == "ORD-1");
    CHECK(*input.find(order_id) == "ORD-1");  // the input is unchanged
  }
}

TEST_CASE("contexts: reading a key as another type, or a missing key, names the key and the step", "[runtime][context]") {
  lf::runtime_flow f{"types"};
  f.add("w", [](lf::context& ctx) { ctx.set(count, 3); });
  f.add("r", [](lf::context& ctx) { return ctx.get(lf::key<std::string>{"count"}); }).after("w");
  f.add("m", [](lf::context& ctx) { return ctx.get(lf::key<int>{"missing"}); });
  f.add("not mine", [](lf::context& ctx) { return ctx.result<int>("m"); }).after("w");
  lf::executor pool{1};
  auto result = pool.run(f);
  CHECK(contains(lf::describe(result.step("r").error), "key \"count\""));
  CHECK(contains(lf::describe(result.step("r").error), "not the std::"));
  CHECK(contains(lf::describe(result.step("m").error), "step \"m\" reads key \"missing\""));
  CHECK(contains(lf::describe(result.step("not mine").error), "which is not one of its ancestors"));
}

TEST_CASE("contexts: a diamond's unordered writes are an error to read, unless restricted", "[runtime][context]") {
  auto make = [] {
    lf::runtime_flow f{"diamond"};
    f.add("a", [](lf::context& ctx) { ctx.set(stage, 0); });
    f.add("b", [](lf::context& ctx) { ctx.set(stage, 1); }).after("a");
    f.add("c", [](lf::context& ctx) { ctx.set(stage, 2); }).after("a");
    f.add("d", [](lf::context& ctx) {
       auto ends = ctx.end_values(stage);
       return std::to_string(ends.size()) + ":" + std::to_string(ctx.get(stage));
     }).after("b", "c");
    return f;
  };
  lf::executor pool{2};
  SECTION("unrestricted: the same error on every run, naming both writers") {
    auto f = make();
    for (int round = 0; round != 20; ++round) {
      auto result = pool.run(f);
      REQUIRE(result.status("d") == lf::step_status::failed);
      const auto message = lf::describe(result.step("d").error);
      CHECK(contains(message, "steps \"b\" and \"c\" wrote, and neither is an ancestor of the other"));
      const auto ends = result.end_values(stage);
      CHECK(ends == std::map<std::string, int>{{"b", 1}, {"c", 2}});  // a's write is shadowed
    }
  }
  SECTION("restricted to c") {
    auto f = make();
    f.restrict("d", stage, "c");
    auto result = pool.run(f);
    REQUIRE(result.ok());
    CHECK(result.get<std::string>("d") == "1:2");
  }
  SECTION("a restriction to a non-ancestor, or to itself, is a flow_error") {
    auto f = make();
    f.add("e", [] {});
    f.restrict("d", stage, "e");
    CHECK(contains(flow_error_of([&] { f.check(); }), "step \"d\" of flow \"diamond\" restricts key \"stage\" to \"e\", which is not one of its ancestors"));
    auto g = make();
    g.restrict("d", stage, "d");
    CHECK(contains(flow_error_of([&] { g.check(); }), "cannot restrict a key to itself"));
  }
  SECTION("a later write in a step after both settles it") {
    auto f = make();
    f.add("settle", [](lf::context& ctx) { ctx.set(stage, ctx.end_values(stage).size() == 2 ? 9 : -1); }).after("b", "c");
    f.add("reader", [](lf::context& ctx) { return ctx.get(stage); }).after("settle");
    auto result = pool.run(f);
    CHECK(result.get<int>("reader") == 9);
  }
}

TEST_CASE("merging runtime flows: namespaced and unified; sources unchanged; cycles refused", "[runtime][merge]") {
  std::atomic<int> runs_a{0}, runs_b{0}, runs_c{0};
  lf::runtime_flow sub1{"子流程1"}, sub2{"子流程2"};
  sub1.add("步骤A", [&] { ++runs_a; return 1; });
  sub1.add("步骤B", [&](lf::context& ctx) { ++runs_b; return ctx.result<int>("子流程1.步骤A") + 1; }).after("步骤A");
  sub2.add("步骤A", [&] { ++runs_c; return 10; });
  lf::executor pool{2};

  SECTION("namespaced, with an ordering edge across the merged flows") {
    lf::runtime_flow main{"main"};
    main.merge(sub1).merge(sub2);
    main.depend("子流程2.步骤A", "子流程1.步骤B");
    REQUIRE(main.find("子流程2.步骤A").has_value());
    CHECK(main.size() == 3);
    CHECK(sub1.size() == 2);  // unchanged
    CHECK(sub2.size() == 1);
    CHECK(sub1.dependencies("步骤B") == std::vector<std::string>{"步骤A"});
    auto result = pool.run(main);
    REQUIRE(result.ok());
    CHECK(result.get<int>("子流程1.步骤B") == 2);
    CHECK((runs_a == 1 && runs_b == 1 && runs_c == 1));
  }
  SECTION("unify by name: overlapping steps run once, keep the target's callable, union the dependencies") {
    lf::runtime_flow target{"target"}, other{"other"};
    std::atomic<int> target_x{0}, other_x{0}, y{0}, w{0};
    target.add("root", [] {});
    target.add("x", [&] { ++target_x; }).after("root");
    other.add("w", [&] { ++w; });
    other.add("x", [&] { ++other_x; }).after("w");
    other.add("y", [&] { ++y; }).after("x");
    target.merge(other, lf::merge_mode::unify);
    CHECK(target.size() == 4);
    CHECK(target.dependencies("x") == std::vector<std::string>{"root", "w"});
    CHECK(other.size() == 3);
    auto result = pool.run(target);
    REQUIRE(result.ok());
    CHECK((target_x == 1 && other_x == 0 && y == 1 && w == 1));
    CHECK(pool.run(other).ok());
    CHECK(other_x == 1);  // the source keeps its own callable
  }
  SECTION("a cycle created by a merge is refused with its path") {
    lf::runtime_flow p{"p"}, q{"q"};
    p.add("a", [] {});
    p.add("b", [] {}).after("a");
    q.add("b", [] {});
    q.add("a", [] {}).after("b");
    p.merge(q, lf::merge_mode::unify);
    const auto message = flow_error_of([&] { p.check(); });
    CHECK(contains(message, "flow \"p\" has a cycle: "));
    CHECK((contains(message, "\"a\" -> \"b\" -> \"a\"") || contains(message, "\"b\" -> \"a\" -> \"b\"")));
    CHECK_NOTHROW(q.check());  // the source is unchanged and fine
  }
}

TEST_CASE("a unify merge gives a step in both flows the source step's restrictions, settings, condition and "
          "callbacks where the target's says nothing",
          "[runtime][merge]") {
  lf::executor pool{2};
  std::atomic<int> calls{0};
  auto flaky = [&calls] {  // fails twice, then succeeds
    if (++calls < 3) throw std::runtime_error("not yet");
    return 1;
  };
  SECTION("retries: the source step's where the target's has none; the target's own win") {
    lf::runtime_flow source{"source"};
    source.add("x", [] { return 0; }).retry(lf::retry{3});
    lf::runtime_flow target{"target"};
    target.add("x", flaky);
    target.merge(source, lf::merge_mode::unify);
    auto r = pool.run(target);
    REQUIRE(r.ok());
    CHECK(r.step("x").attempts == 3);
    CHECK(r.get<int>("x") == 1);  // the target's callable

    calls = 0;
    lf::runtime_flow own{"own"};
    own.add("x", flaky).retry(lf::retry{2});
    own.merge(source, lf::merge_mode::unify);
    auto failed = pool.run(own);
    CHECK(failed.status("x") == lf::step_status::failed);
    CHECK(failed.step("x").attempts == 2);
  }
  SECTION("a source flow's default retries count as its step's") {
    lf::runtime_flow source{"source"};
    source.add("x", [] { return 0; });
    source.retry(lf::retry{3});
    lf::runtime_flow target{"target"};
    target.add("x", flaky);
    target.merge(source, lf::merge_mode::unify);
    auto r = pool.run(target);
    REQUIRE(r.ok());
    CHECK(r.step("x").attempts == 3);
  }
  SECTION("timeout: the source step's where the target's has none") {
    lf::runtime_flow source{"source"};
    source.add("x", [] { return 0; }).timeout(20ms);
    lf::runtime_flow target{"target"};
    target.add("x", [](lf::context& ctx) {  // until stopped (or 10 s: without the timeout the test fails)
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (!ctx.stop_requested() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
      return 1;
    });
    target.merge(source, lf::merge_mode::unify);
    auto r = pool.run(target);
    CHECK(r.status("x") == lf::step_status::timed_out);
  }
  SECTION("conditions: both must hold; a skip_dependents of either side stays in force") {
    bool target_says = true, source_says = true;
    lf::runtime_flow source{"source"};
    source.add("x", [] {}).when([&](lf::context&) { return source_says; }, lf::skip_dependents{});
    lf::runtime_flow target{"target"};
    target.add("x", [] {}).when([&](lf::context&) { return target_says; });
    target.add("next", [] {}).after("x");
    target.merge(source, lf::merge_mode::unify);
    auto both = pool.run(target);
    CHECK(both.status("x") == lf::step_status::succeeded);
    CHECK(both.status("next") == lf::step_status::succeeded);
    source_says = false;
    auto source_no = pool.run(target);
    CHECK(source_no.status("x") == lf::step_status::skipped_by_condition);
    CHECK(source_no.status("next") == lf::step_status::skipped_by_condition);  // the source's skip_dependents
    source_says = true;
    target_says = false;
    auto target_no = pool.run(target);
    CHECK(target_no.status("x") == lf::step_status::skipped_by_condition);
    CHECK(target_no.status("next") == lf::step_status::skipped_by_condition);  // still in force
  }
  SECTION("when both sides skip dependents, the steps both except still run") {
    lf::runtime_flow source{"source"};
    source.add("x", [] {}).when([](lf::context&) { return false; }, lf::skip_dependents{"a", "b"});
    lf::runtime_flow target{"target"};
    target.add("x", [] {}).when([](lf::context&) { return true; }, lf::skip_dependents{"b", "c"});
    for (const char* name : {"a", "b", "c"}) target.add(name, [] {}).after("x");
    target.merge(source, lf::merge_mode::unify);
    auto r = pool.run(target);
    CHECK(r.status("x") == lf::step_status::skipped_by_condition);
    CHECK(r.status("a") == lf::step_status::skipped_by_condition);
    CHECK(r.status("b") == lf::step_status::succeeded);
    CHECK(r.status("c") == lf::step_status::skipped_by_condition);
  }
  SECTION("key restrictions: the source's, unless the target restricts the key itself") {
    auto diamond = [](const char* name) {
      lf::runtime_flow f{name};
      f.add("a", [](lf::context& ctx) { ctx.set(stage, 0); });
      f.add("b", [](lf::context& ctx) { ctx.set(stage, 1); }).after("a");
      f.add("c", [](lf::context& ctx) { ctx.set(stage, 2); }).after("a");
      return f;
    };
    lf::runtime_flow source = diamond("source");
    source.add("d", [](lf::context& ctx) { return ctx.get(stage); }).after("b", "c");
    source.restrict("d", stage, "c");
    lf::runtime_flow target = diamond("target");
    target.add("d", [](lf::context& ctx) { return ctx.get(stage) * 10; }).after("b", "c");
    lf::runtime_flow unrestricted = target;
    CHECK(pool.run(unrestricted).status("d") == lf::step_status::failed);  // b and c both wrote
    target.merge(source, lf::merge_mode::unify);
    auto r = pool.run(target);
    REQUIRE(r.ok());
    CHECK(r.get<int>("d") == 20);  // the target's callable, reading as c sees the key

    lf::runtime_flow redeclared = diamond("redeclared");
    redeclared.add("d", [](lf::context& ctx) { return ctx.get(stage) * 10; }).after("b", "c");
    redeclared.restrict("d", stage, "b");
    redeclared.merge(source, lf::merge_mode::unify);
    auto own = pool.run(redeclared);
    REQUIRE(own.ok());
    CHECK(own.get<int>("d") == 10);  // the target's restriction wins
  }
  SECTION("step callbacks: the source step's after the target's") {
    std::vector<std::string> called;
    lf::runtime_flow source{"source"};
    source.add("x", [] {}).after_step([&](const lf::step_event&) { called.push_back("source"); });
    lf::runtime_flow target{"target"};
    target.add("x", [] {}).after_step([&](const lf::step_event&) { called.push_back("target"); });
    target.merge(source, lf::merge_mode::unify);
    REQUIRE(pool.run(target).ok());
    CHECK(called == std::vector<std::string>{"target", "source"});
  }
}

TEST_CASE("builders: chain, parallel and sync_all make the Go original's shapes and keep the handles", "[runtime][builder]") {
  lf::runtime_flow f{"shapes"};
  std::vector<std::string> ran;  // in the order the steps ran
  std::mutex ran_mutex;
  auto add = [&](const char* name) {
    return f.add(name, [&ran, &ran_mutex, name] {
      std::lock_guard lock(ran_mutex);
      ran.emplace_back(name);
    });
  };
  auto deps = [&](const char* name) {
    auto d = f.dependencies(name);
    std::sort(d.begin(), d.end());
    return d;
  };
  using names = std::vector<std::string>;

  // Follow(s1, s2).After(s0); Parallel(p1, p2).After(s2); a chain through a parallel group.
  auto s0 = add("s0");
  lf::step_group follow = lf::chain(add("s1"), add("s2")).after(s0);
  lf::step_group fan = lf::parallel(add("p1"), add("p2")).after(follow);
  lf::step_group nested = lf::chain(add("n1"), lf::parallel(add("n2"), add("n3")), add("n4")).after(fan);
  const lf::step_handle last = f.sync_all(add("last"));
  add("after_last").after("last");
  f.add("independent", [] {});

  // The handles are kept, in order, with the group's ends.
  REQUIRE(follow.size() == 2);
  CHECK(follow[0].name() == "s1");
  CHECK(follow[1].name() == "s2");
  CHECK(nested.size() == 4);
  CHECK(nested.entries().size() == 1);
  CHECK(nested.entries()[0].name() == "n1");
  CHECK(nested.exits().size() == 1);
  CHECK(nested.exits()[0].name() == "n4");
  CHECK(fan.entries().size() == 2);
  CHECK(fan.exits().size() == 2);
  CHECK(last.name() == "last");

  CHECK(deps("s1") == names{"s0"});
  CHECK(deps("s2") == names{"s1"});
  CHECK(deps("p1") == names{"s2"});
  CHECK(deps("p2") == names{"s2"});
  CHECK(deps("n1") == names{"p1", "p2"});
  CHECK(deps("n2") == names{"n1"});
  CHECK(deps("n3") == names{"n1"});
  CHECK(deps("n4") == names{"n2", "n3"});
  CHECK(deps("last") == names{"n1", "n2", "n3", "n4", "p1", "p2", "s0", "s1", "s2"});  // every step added before it
  CHECK(deps("after_last") == names{"last"});
  CHECK(deps("independent").empty());

  lf::executor pool{2};
  auto r = pool.run(f, lf::values{});
  REQUIRE(r.ok());
  REQUIRE(ran.size() == 11);
  auto at = [&](const char* name) { return std::find(ran.begin(), ran.end(), name) - ran.begin(); };
  for (const auto& [before, after] : std::vector<std::pair<const char*, const char*>>{
           {"s0", "s1"}, {"s1", "s2"}, {"s2", "p1"}, {"s2", "p2"}, {"p1", "n1"}, {"p2", "n1"}, {"n1", "n2"},
           {"n1", "n3"}, {"n2", "n4"}, {"n3", "n4"}, {"n4", "last"}, {"last", "after_last"}}) {
    INFO(before << " before " << after);
    CHECK(at(before) < at(after));
  }

  // sync_all adds no repeat of a dependency the step has (by handle or by a name added later).
  lf::runtime_flow g{"sync"};
  g.add("a", [] {});
  auto b = g.add("b", [] {}).after("a");
  auto c = g.add("c", [] {}).after("late");
  g.add("late", [] {});
  g.sync_all(c);
  CHECK_NOTHROW(g.check());
  CHECK(g.dependencies("c").size() == 3);  // late (by name), a, b
  g.sync_all(b);
  CHECK_NOTHROW(g.check());
  CHECK(g.dependencies("b") == names{"a"});
  lf::runtime_flow other{"other"};
  CHECK_THROWS_AS(other.sync_all(b), lf::flow_error);
}

TEST_CASE("a runtime flow can change after a run started; the run keeps what it runs", "[runtime]") {
  lf::runtime_flow f{"cow"};
  std::atomic<bool> release{false};
  f.add("wait", [&] {
    while (!release) std::this_thread::yield();
    return 1;
  });
  lf::executor pool{2};
  auto handle = pool.submit(f);
  f.add("more", [] { return 2; }).after("wait");
  release = true;
  auto first = handle.get();
  CHECK(first.size() == 1);
  auto second = pool.run(f);
  CHECK(second.size() == 2);
  CHECK(second.get<int>("more") == 2);
}

TEST_CASE("runtime flows: cancellation and concurrent runs of one flow", "[runtime][concurrency]") {
  lf::runtime_flow f{"many"};
  for (int i = 0; i != 64; ++i) {
    auto s = f.add("s" + std::to_string(i), [i](lf::context& ctx) {
      int sum = i;
      for (auto& [name, v] : ctx.end_values(count)) sum += v;
      ctx.set(count, sum);
      return sum;
    });
    if (i > 0) s.after("s" + std::to_string(i - 1));
    if (i > 2) s.after("s" + std::to_string(i / 2));  // (for i = 2, i / 2 is i - 1: listed once)
  }
  lf::executor pool{2};
  const int expected = pool.run(f).get<int>("s63");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t != 4; ++t)
    threads.emplace_back([&] {
      for (int r = 0; r != 25; ++r)
        if (pool.run(f).get<int>("s63") != expected) ++wrong;
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);

  std::stop_source stop;
  stop.request_stop();
  auto cancelled = pool.run(f, lf::values{}, stop.get_token());
  CHECK(cancelled.cancelled());
  CHECK_FALSE(cancelled.ok());
}

TEST_CASE("a runtime flow of a million steps builds and runs", "[runtime][large]") {
  constexpr std::uint32_t n = 1'000'000;
  lf::runtime_flow f{"million"};
  static std::atomic<std::uint64_t> sum{0};
  auto source = f.add("source", [] {});
  for (std::uint32_t i = 0; i != n - 2; ++i) f.add("s" + std::to_string(i), [] { sum.fetch_add(1, std::memory_order_relaxed); }).after(source);
  auto sink = f.add("sink", [] { return sum.load(); });
  for (std::uint32_t i = 0; i != n - 2; i += 1) f.depend(sink, f.at("s" + std::to_string(i)));
  lf::executor pool{2};
  sum = 0;
  auto result = pool.run(f);
  REQUIRE(result.ok());
  CHECK(result.size() == n);
  CHECK(result.get<std::uint64_t>("sink") == n - 2);
}

// A step with more than 64 dependents, or a run with more than 64 roots, releases them in batches
// (a batch task queued, claimed by whichever thread takes it): every step must still run exactly
// once, failures must still skip every dependent, and a cancellation must still end the run.
TEST_CASE("big fan-outs and many roots: each step runs once; failures and cancellation reach them all", "[runtime][concurrency]") {
  lf::executor pool{3};
  for (const std::uint32_t width : {64u, 65u, 129u, 1000u, 5000u}) {
    CAPTURE(width);
    std::vector<std::atomic<int>> ran(width);
    std::atomic<bool> fail{false};
    lf::runtime_flow fan{"fan"};
    auto source = fan.add("source", [&] {
      if (fail) throw std::runtime_error("no source today");
    });
    auto sink = fan.add("sink", [] {});
    for (std::uint32_t i = 0; i != width; ++i) {
      auto s = fan.add("s" + std::to_string(i), [&ran, i] { ran[i].fetch_add(1, std::memory_order_relaxed); });
      s.after(source);
      fan.depend(sink, s);
    }
    for (int round = 0; round != 5; ++round) {
      auto result = pool.run(fan);
      REQUIRE(result.ok());
      CHECK(result.step("sink").status == lf::step_status::succeeded);
    }
    std::uint32_t wrong = 0;
    for (auto& r : ran) wrong += r.load() != 5;
    CHECK(wrong == 0);

    fail = true;
    auto failed = pool.run(fan);
    CHECK_FALSE(failed.ok());
    std::uint32_t skipped = 0;
    for (std::uint32_t i = 0; i != width; ++i) skipped += failed.step("s" + std::to_string(i)).status == lf::step_status::skipped;
    CHECK(skipped == width);
    CHECK(failed.step("sink").status == lf::step_status::skipped);
    wrong = 0;
    for (auto& r : ran) wrong += r.load() != 5;
    CHECK(wrong == 0);  // none of them ran

    // As many roots, no edges: all run once.
    std::vector<std::atomic<int>> root_ran(width);
    lf::runtime_flow roots{"roots"};
    for (std::uint32_t i = 0; i != width; ++i) roots.add("r" + std::to_string(i), [&root_ran, i] { root_ran[i].fetch_add(1); });
    REQUIRE(pool.run(roots).ok());
    wrong = 0;
    for (auto& r : root_ran) wrong += r.load() != 1;
    CHECK(wrong == 0);
  }

  // A cancellation from inside the fan-out: the run ends; no step runs twice; the rest are cancelled.
  constexpr std::uint32_t width = 2000;
  std::vector<std::atomic<int>> ran(width);
  std::stop_source stop;
  lf::runtime_flow fan{"cancelled"};
  auto source = fan.add("source", [] {});
  for (std::uint32_t i = 0; i != width; ++i)
    fan.add("s" + std::to_string(i), [&ran, &stop, i] {
         ran[i].fetch_add(1);
         if (i == 100) stop.request_stop();
       })
        .after(source);
  auto result = pool.run(fan, lf::values{}, stop.get_token());
  CHECK(result.cancelled());
  std::uint32_t twice = 0, cancelled = 0, ran_count = 0;
  for (std::uint32_t i = 0; i != width; ++i) {
    twice += ran[i].load() > 1;
    ran_count += ran[i].load() == 1;
    cancelled += result.step("s" + std::to_string(i)).status == lf::step_status::cancelled;
  }
  CHECK(twice == 0);
  CHECK(ran[100].load() == 1);
  CHECK(ran_count + cancelled == width);
  CHECK(cancelled > 0);
}

// Names are kept as a length prefix (7 bits a byte) and the characters: lengths of one, two and
// three prefix bytes and UTF-8 names must come back as they went in (an empty name is refused).
TEST_CASE("runtime step names of any length come back unchanged", "[runtime]") {
  lf::runtime_flow f{"names"};
  const std::vector<std::string> names{"0", "a", std::string(127, 'x'), std::string(128, 'y'), "步骤" + std::string(300, 'z'),
                                       std::string(20000, 'w'), std::string(70000, 'v')};
  for (const auto& n : names) f.add(n, [] {});
  f.depend(names[1], names[6]);
  for (std::uint32_t i = 0; i != names.size(); ++i) {
    CHECK(f.step_name(i) == names[i]);
    CHECK(f.at(names[i]).index() == i);
  }
  CHECK_THROWS_AS(f.step_name(static_cast<std::uint32_t>(names.size())), std::out_of_range);
  lf::executor pool{1};
  auto result = pool.run(f);
  REQUIRE(result.ok());
  for (const auto& n : names) CHECK(result.step(n).name == n);
}

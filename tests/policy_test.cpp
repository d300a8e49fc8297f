// Step policies: retries (counts, which errors, backoff), conditions (skips with and without
// dependents), flow-wide defaults, and how merges carry them.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Throws `failures` times (a runtime_error), then returns the attempt number it succeeded on.
struct flaky {
  std::atomic<int>* calls;
  int failures;
  int operator()(lf::step_context& ctx) const {
    ++*calls;
    if (static_cast<int>(ctx.attempt()) <= failures) throw std::runtime_error("attempt " + std::to_string(ctx.attempt()));
    return static_cast<int>(ctx.attempt());
  }
};
}  // namespace

TEST_CASE("retries: a step is tried again until it succeeds or its attempts run out", "[policy][retry]") {
  lf::executor pool{2};
  std::atomic<int> calls{0};
  SECTION("succeeds on the third of three attempts") {
    auto f = lf::flow<"f">(lf::step<"x">(flaky{&calls, 2}).retry(lf::retry{3}), lf::step<"y", "x">([](int a) { return a * 10; }));
    auto r = pool.run(f);
    REQUIRE(r.ok());
    CHECK(r.get<"x">() == 3);  // the attempt number reached the step's context
    CHECK(r.get<"y">() == 30);
    CHECK(calls == 3);
    CHECK(r.step("x").attempts == 3);
    CHECK(r.step("y").attempts == 1);
  }
  SECTION("fails after its last attempt, keeping the last error") {
    auto f = lf::flow<"f">(lf::step<"x">(flaky{&calls, 5}).retry(lf::retry{3}), lf::step<"y", "x">([](int a) { return a; }));
    auto r = pool.run(f);
    CHECK_FALSE(r.ok());
    CHECK(calls == 3);
    CHECK(r.step("x").attempts == 3);
    CHECK(r.status("y") == lf::step_status::skipped);
    CHECK(contains(r.error_message(), "attempt 3"));
  }
  SECTION("without a policy, a step is tried once") {
    auto f = lf::flow<"f">(lf::step<"x">(flaky{&calls, 1}));
    CHECK_FALSE(pool.run(f).ok());
    CHECK(calls == 1);
  }
}

TEST_CASE("retries: only the errors the policy names are retried", "[policy][retry]") {
  lf::executor pool{1};
  std::atomic<int> calls{0};
  auto throwing = [&calls](auto error) {
    return [&calls, error]() -> int {
      ++calls;
      throw error;
    };
  };
  SECTION("never_on: an invalid_argument is not retried, another error is") {
    const auto policy = lf::retry{4}.never_on<std::invalid_argument>();
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::invalid_argument("bad"))).retry(policy))).ok());
    CHECK(calls == 1);
    calls = 0;
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::runtime_error("down"))).retry(policy))).ok());
    CHECK(calls == 4);
  }
  SECTION("only_on: only a runtime_error (or derived) is retried") {
    const auto policy = lf::retry{3}.only_on<std::runtime_error>();
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::range_error("range"))).retry(policy))).ok());
    CHECK(calls == 3);
    calls = 0;
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::logic_error("logic"))).retry(policy))).ok());
    CHECK(calls == 1);
  }
  SECTION("only_if: any predicate") {
    const auto policy = lf::retry{5}.only_if([](const std::exception_ptr& e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        return std::string(x.what()) == "transient";
      }
    });
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::runtime_error("transient"))).retry(policy))).ok());
    CHECK(calls == 5);
    calls = 0;
    CHECK_FALSE(pool.run(lf::flow<"f">(lf::step<"x">(throwing(std::runtime_error("fatal"))).retry(policy))).ok());
    CHECK(calls == 1);
  }
}

TEST_CASE("retries: a flow's default applies to its steps; a step's own setting wins", "[policy][retry]") {
  lf::executor pool{2};
  std::atomic<int> a{0}, b{0};
  const auto f = lf::flow<"f">(lf::step<"a">(flaky{&a, 10}), lf::step<"b">(flaky{&b, 10}).retry(lf::retry{2})).retry(lf::retry{4});
  CHECK_FALSE(pool.run(f).ok());
  CHECK(a == 4);
  CHECK(b == 2);

  // The runtime flow's equivalents.
  a = b = 0;
  lf::runtime_flow rf{"rf"};
  rf.retry(lf::retry{3});
  rf.add("a", [&a] { ++a; throw std::runtime_error("down"); });
  rf.add("b", [&b] { ++b; throw std::runtime_error("down"); }).retry(lf::retry{1});
  CHECK_FALSE(pool.run(rf).ok());
  CHECK(a == 3);
  CHECK(b == 1);
}

TEST_CASE("an executor's default retries and timeout: for steps that neither they nor their flow set", "[policy][executor]") {
  lf::executor pool{2};
  pool.retry(lf::retry{3}).timeout(20ms);
  std::atomic<int> a{0}, b{0}, c{0};
  auto wait_for_stop = [](lf::step_context& ctx) {  // until stopped (10 s: without a timeout the test fails)
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!ctx.stop_requested() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
    return 1;
  };
  SECTION("static flow") {
    const auto f = lf::flow<"f">(lf::step<"a">(flaky{&a, 10}), lf::step<"b">(flaky{&b, 10}).retry(lf::retry{2}),
                                 lf::step<"slow">(wait_for_stop));
    auto r = pool.run(f);
    CHECK(a == 3);  // the executor's
    CHECK(b == 2);  // the step's own
    CHECK(r.status("slow") == lf::step_status::timed_out);
    const auto g = lf::flow<"g">(lf::step<"c">(flaky{&c, 10})).retry(lf::retry{4});
    CHECK_FALSE(pool.run(g).ok());
    CHECK(c == 4);  // the flow's
  }
  SECTION("runtime flow") {
    lf::runtime_flow f{"f"};
    f.add("a", flaky{&a, 10});
    f.add("b", flaky{&b, 10}).retry(lf::retry{2});
    f.add("slow", [&](lf::context& ctx) { return wait_for_stop(ctx); });
    auto r = pool.run(f);
    CHECK(a == 3);
    CHECK(b == 2);
    CHECK(r.status("slow") == lf::step_status::timed_out);
    lf::runtime_flow g{"g"};
    g.add("c", flaky{&c, 10});
    g.retry(lf::retry{4});
    CHECK_FALSE(pool.run(g).ok());
    CHECK(c == 4);
  }
  SECTION("a flow's timeout wins over the executor's") {
    const auto f = lf::flow<"f">(lf::step<"a">([&a](lf::step_context& ctx) {
                     std::this_thread::sleep_for(60ms);  // past the executor's 20 ms, within the flow's
                     return ++a, !ctx.stop_requested();
                   })).timeout(10s);
    auto r = pool.run(f);
    REQUIRE(r.ok());
    CHECK(r.get<"a">());
  }
}

TEST_CASE("backoff: waits grow by the factor up to the cap; jitter only shortens them, within its bound", "[policy][backoff]") {
  const lf::backoff b{10ms, 3.0, 200ms, 0.25};
  CHECK(b.base_delay(1) == 10ms);
  CHECK(b.base_delay(2) == 30ms);
  CHECK(b.base_delay(3) == 90ms);
  CHECK(b.base_delay(4) == 200ms);  // capped
  CHECK(b.base_delay(40) == 200ms);
  for (double unit : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
    for (unsigned n = 1; n != 6; ++n) {
      const auto d = b.delay(n, unit);
      CHECK(d <= b.base_delay(n));
      CHECK(d >= std::chrono::duration_cast<std::chrono::nanoseconds>(b.base_delay(n) * 0.75) - 1ns);
    }
  }
  CHECK(b.delay(2, 0.0) == 30ms);
  CHECK(lf::backoff{}.base_delay(3) == 0ns);  // no wait by default
  CHECK(lf::retry{0}.attempts() == 1);        // at least one attempt
}

TEST_CASE("retries: cancelling a run interrupts a step's backoff", "[policy][retry][cancel]") {
  lf::executor pool{2};
  std::atomic<int> calls{0};
  // An hour between attempts: if cancellation did not interrupt the wait, this test would hang.
  auto f = lf::flow<"f">(lf::step<"x">(flaky{&calls, 10}).retry(lf::retry{5, lf::backoff{1h}}));
  auto handle = pool.submit(f);
  while (calls.load() == 0) std::this_thread::yield();
  handle.cancel();
  auto r = handle.get();
  CHECK_FALSE(r.ok());
  CHECK(r.status("x") == lf::step_status::failed);
  CHECK(calls == 1);
}

TEST_CASE("retries in a runtime flow: a failed attempt's writes are discarded", "[policy][retry][runtime]") {
  const lf::key<std::string> note{"note"};
  const lf::key<int> only_first{"only_first"};
  lf::runtime_flow f{"f"};
  f.add("w", [&](lf::context& ctx) {
     if (ctx.attempt() == 1) {
       ctx.set(note, std::string("first"));
       ctx.set(only_first, 1);
       throw std::runtime_error("flaky");
     }
     ctx.set(note, std::string("second"));
     return static_cast<int>(ctx.attempt());
   }).retry(lf::retry{2});
  f.add("r", [&](lf::context& ctx) { return ctx.get(note) + (ctx.find(only_first) ? " and first" : ""); }).after("w");
  lf::executor pool{2};
  auto result = pool.run(f);
  REQUIRE(result.ok());
  CHECK(result.get<int>("w") == 2);
  CHECK(result.get<std::string>("r") == "second");
}

TEST_CASE("conditions: a skipped step's dependents run, unless they need its output", "[policy][condition]") {
  lf::executor pool{2};
  std::atomic<bool> enabled{false};
  std::atomic<int> ran{0};
  auto f = lf::flow<"f">(
      lf::step<"source">([] { return 2; }),
      lf::step<"optional", "source">([&](int v) { ++ran; return v * 100; }).when([&](lf::step_context& ctx) {
        CHECK(ctx.name() == "optional");
        return enabled.load();
      }),
      lf::step<"needs_it", "optional">([](int v) { return v + 1; }),        // takes its output
      lf::step<"after_it", "source">([](int v) { return v + 1; }).after<"optional">(),  // only ordered after it
      lf::step<"notify", "optional">([](int) {}).when([](lf::step_context&) { return true; }));
  auto off = pool.run(f);
  CHECK(off.ok());
  CHECK(ran == 0);
  CHECK(off.status("optional") == lf::step_status::skipped_by_condition);
  CHECK(off.status("needs_it") == lf::step_status::skipped_by_condition);
  CHECK(off.status("notify") == lf::step_status::skipped_by_condition);
  CHECK(off.get<"after_it">() == 3);
  CHECK_THROWS_WITH(off.get<"optional">(), Catch::Matchers::Contains("its condition (or an ancestor's) skipped it"));

  enabled = true;
  auto on = pool.run(f);
  REQUIRE(on.ok());
  CHECK(on.get<"needs_it">() == 201);
  CHECK(on.status("notify") == lf::step_status::succeeded);
}

TEST_CASE("conditions: skipping a step's dependents too, except named ones", "[policy][condition]") {
  lf::executor pool{2};
  std::atomic<int> audit{0}, report{0}, archive{0}, cleanup{0};
  // gate -> report -> archive; gate -> audit -> cleanup
  auto f = lf::flow<"f">(lf::step<"gate">([] {}).when([](lf::step_context&) { return false; }, lf::skip_dependents{"audit"}),
                         lf::step<"report", "gate">([&] { ++report; }),
                         lf::step<"archive", "report">([&] { ++archive; }),
                         lf::step<"audit", "gate">([&] { ++audit; }),
                         lf::step<"cleanup", "audit">([&] { ++cleanup; }));
  auto r = pool.run(f);
  CHECK(r.ok());
  CHECK(r.status("gate") == lf::step_status::skipped_by_condition);
  CHECK(r.status("report") == lf::step_status::skipped_by_condition);
  CHECK(r.status("archive") == lf::step_status::skipped_by_condition);
  CHECK(report + archive == 0);
  CHECK(audit == 1);  // excepted
  CHECK(cleanup == 1);
}

TEST_CASE("conditions: a condition that throws fails its step", "[policy][condition]") {
  lf::executor pool{1};
  auto f = lf::flow<"f">(lf::step<"x">([] { return 1; }).when([](lf::step_context&) -> bool { throw std::runtime_error("no config"); }),
                         lf::step<"y", "x">([](int v) { return v; }));
  auto r = pool.run(f);
  CHECK_FALSE(r.ok());
  CHECK(r.status("x") == lf::step_status::failed);
  CHECK(r.status("y") == lf::step_status::skipped);
  CHECK(contains(r.error_message(), "no config"));
}

TEST_CASE("conditions in a runtime flow read the context; dependents of a skipped step run", "[policy][condition][runtime]") {
  const lf::key<bool> express{"express"};
  lf::runtime_flow f{"f"};
  f.add("ship", [] { return std::string("shipped"); }).when([&](lf::context& ctx) { return ctx.get(express); });
  f.add("mail", [](lf::context& ctx) {
     try {
       return ctx.result<std::string>("ship");
     } catch (const lf::key_error& e) {
       return std::string(e.what());
     }
   }).after("ship");
  f.add("gate", [] {}).when([](lf::step_context&) { return false; }, lf::skip_dependents{});
  f.add("behind", [] {}).after("gate");
  lf::executor pool{2};
  auto slow = pool.run(f, lf::values{}.set(express, false));
  CHECK(slow.ok());
  CHECK(slow.status("ship") == lf::step_status::skipped_by_condition);
  CHECK(contains(slow.get<std::string>("mail"), "which its condition skipped"));
  CHECK(slow.status("behind") == lf::step_status::skipped_by_condition);
  auto fast = pool.run(f, lf::values{}.set(express, true));
  REQUIRE(fast.ok());
  CHECK(fast.get<std::string>("mail") == "shipped");
}

namespace {
using two_kinds::runtime_flows;
using two_kinds::static_flows;

// Ready-made conditions on the outputs of n (5L), neg (-1), nan (NaN), s ("email") and v (void), one
// step each, through both kinds of flow: the step named in `ran` ran, the others were skipped.
struct condition_case {
  const char* step;
  bool runs;
};
constexpr condition_case condition_cases[] = {
    {"n_eq_5.0", true},      {"n_ne_5.0", false},   {"n_gt_5", false},          {"n_ge_5", true},
    {"n_lt_5.0", false},     {"n_le_5u", true},     {"n_gt_4.5", true},         {"neg_lt_0u", true},
    {"neg_gt_0u", false},    {"nan_eq_nan", false}, {"nan_ne_1", true},         {"nan_lt_1", false},
    {"s_eq_email", true},    {"s_lt_f", true},      {"s_ne_sms", true},         {"v_ne_1", true},
    {"v_eq_1", false},       {"all_of", true},      {"any_of", true},           {"none_of", false},
};
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

template <class Kind>
auto condition_flow() {
  if constexpr (Kind::is_static) {
    auto after_n = [](long) { return 0; };
    auto after_neg = [](int) { return 0; };
    auto after_nan = [](double) { return 0; };
    auto after_s = [](const std::string&) { return 0; };
    auto only = [] { return 0; };
    return lf::flow<"conditions">(
        lf::step<"n">([] { return 5L; }), lf::step<"neg">([] { return -1; }),
        lf::step<"nan">([] { return not_a_number; }), lf::step<"s">([] { return std::string("email"); }),
        lf::step<"v">([] {}),
        lf::step<"n_eq_5.0", "n">(after_n).when(lf::equal(lf::output<"n">(), 5.0)),
        lf::step<"n_ne_5.0", "n">(after_n).when(lf::not_equal(lf::output<"n">(), 5.0)),
        lf::step<"n_gt_5", "n">(after_n).when(lf::greater(lf::output<"n">(), 5)),
        lf::step<"n_ge_5", "n">(after_n).when(lf::at_least(lf::output<"n">(), 5)),
        lf::step<"n_lt_5.0", "n">(after_n).when(lf::less(lf::output<"n">(), 5.0)),
        lf::step<"n_le_5u", "n">(after_n).when(lf::at_most(lf::output<"n">(), 5u)),
        lf::step<"n_gt_4.5", "n">(after_n).when(lf::greater(lf::output<"n">(), 4.5f)),
        lf::step<"neg_lt_0u", "neg">(after_neg).when(lf::less(lf::output<"neg">(), 0u)),
        lf::step<"neg_gt_0u", "neg">(after_neg).when(lf::greater(lf::output<"neg">(), 0u)),
        lf::step<"nan_eq_nan", "nan">(after_nan).when(lf::equal(lf::output<"nan">(), not_a_number)),
        lf::step<"nan_ne_1", "nan">(after_nan).when(lf::not_equal(lf::output<"nan">(), 1)),
        lf::step<"nan_lt_1", "nan">(after_nan).when(lf::less(lf::output<"nan">(), 1)),
        lf::step<"s_eq_email", "s">(after_s).when(lf::equal(lf::output<"s">(), "email")),
        lf::step<"s_lt_f", "s">(after_s).when(lf::less(lf::output<"s">(), std::string_view("f"))),
        lf::step<"s_ne_sms", "s">(after_s).when(lf::not_equal(lf::output<"s">(), std::string("sms"))),
        lf::step<"v_ne_1">(only).template after<"v">().when(lf::not_equal(lf::output<"v">(), 1)),
        lf::step<"v_eq_1">(only).template after<"v">().when(lf::equal(lf::output<"v">(), 1)),
        lf::step<"all_of", "n", "s">([](long, const std::string&) { return 0; })
            .when(lf::greater(lf::output<"n">(), 4) && lf::equal(lf::output<"s">(), "email")),
        lf::step<"any_of", "n", "s">([](long, const std::string&) { return 0; })
            .when(lf::greater(lf::output<"n">(), 9) || lf::equal(lf::output<"s">(), "email")),
        lf::step<"none_of", "n", "s">([](long, const std::string&) { return 0; })
            .when((lf::greater(lf::output<"n">(), 9) || lf::equal(lf::output<"s">(), "sms")) &&
                  lf::at_least(lf::output<"n">(), 0)));
  } else {
    lf::runtime_flow f{"conditions"};
    f.add("n", [] { return 5L; });
    f.add("neg", [] { return -1; });
    f.add("nan", [] { return not_a_number; });
    f.add("s", [] { return std::string("email"); });
    f.add("v", [] {});
    auto add = [&f](const char* name, const char* dependency) { return f.add(name, [] { return 0; }).after(dependency); };
    add("n_eq_5.0", "n").when(lf::equal(lf::output("n"), 5.0));
    add("n_ne_5.0", "n").when(lf::not_equal(lf::output("n"), 5.0));
    add("n_gt_5", "n").when(lf::greater(lf::output("n"), 5));
    add("n_ge_5", "n").when(lf::at_least(lf::output<"n">(), 5));  // a name known at compile time works too
    add("n_lt_5.0", "n").when(lf::less(lf::output("n"), 5.0));
    add("n_le_5u", "n").when(lf::at_most(lf::output("n"), 5u));
    add("n_gt_4.5", "n").when(lf::greater(lf::output("n"), 4.5f));
    add("neg_lt_0u", "neg").when(lf::less(lf::output("neg"), 0u));
    add("neg_gt_0u", "neg").when(lf::greater(lf::output("neg"), 0u));
    add("nan_eq_nan", "nan").when(lf::equal(lf::output("nan"), not_a_number));
    add("nan_ne_1", "nan").when(lf::not_equal(lf::output("nan"), 1));
    add("nan_lt_1", "nan").when(lf::less(lf::output("nan"), 1));
    add("s_eq_email", "s").when(lf::equal(lf::output("s"), "email"));
    add("s_lt_f", "s").when(lf::less(lf::output("s"), std::string_view("f")));
    add("s_ne_sms", "s").when(lf::not_equal(lf::output("s"), std::string("sms")));
    add("v_ne_1", "v").when(lf::not_equal(lf::output("v"), 1));
    add("v_eq_1", "v").when(lf::equal(lf::output("v"), 1));
    add("all_of", "n").after("s").when(lf::greater(lf::output("n"), 4) && lf::equal(lf::output("s"), "email"));
    add("any_of", "n").after("s").when(lf::greater(lf::output("n"), 9) || lf::equal(lf::output("s"), "email"));
    add("none_of", "n").after("s").when((lf::greater(lf::output("n"), 9) || lf::equal(lf::output("s"), "sms")) &&
                                        lf::at_least(lf::output("n"), 0));
    return f;
  }
}

template <class Kind, class Flow>
auto run_conditions(lf::executor& pool, Flow& f) {
  if constexpr (Kind::is_static) return pool.run(f);
  else return pool.run(f, lf::values{});
}
}  // namespace

TEMPLATE_TEST_CASE("condition operators: numbers by value, texts by characters, a missing output is only not equal",
                   "[policy][condition]", static_flows, runtime_flows) {
  auto f = condition_flow<TestType>();
  lf::executor pool{2};
  auto r = run_conditions<TestType>(pool, f);
  CHECK(r.ok());
  for (const condition_case& c : condition_cases) {
    INFO(c.step);
    CHECK(r.status(c.step) == (c.runs ? lf::step_status::succeeded : lf::step_status::skipped_by_condition));
  }
}

TEMPLATE_TEST_CASE("condition operators: an output of another type than the value fails the step, naming both",
                   "[policy][condition]", static_flows, runtime_flows) {
  lf::executor pool{2};
  std::string message;
  if constexpr (TestType::is_static) {
    auto f = lf::flow<"typed">(lf::step<"s">([] { return std::string("7"); }),
                               lf::step<"t", "s">([](const std::string&) { return 1; }).when(lf::equal(lf::output<"s">(), 7)));
    auto r = pool.run(f);
    CHECK(r.status("t") == lf::step_status::failed);
    message = r.error_message();
  } else {
    lf::runtime_flow f{"typed"};
    f.add("s", [] { return std::string("7"); });
    f.add("t", [] { return 1; }).after("s").when(lf::equal(lf::output("s"), 7));
    auto r = pool.run(f, lf::values{});
    CHECK(r.status("t") == lf::step_status::failed);
    message = r.error_message();
  }
  CHECK(contains(message, "the condition of step \"t\" compares the output of step \"s\" with a value of type int, "
                          "but that output has another type"));
}

TEST_CASE("condition operators in a runtime flow: keys (a missing key is only not equal), outputs of dependencies only",
          "[policy][condition][runtime]") {
  const lf::key<int> tries{"tries"};
  const lf::key<std::string> channel{"channel"};
  const lf::key<double> unset{"unset"};
  lf::runtime_flow f{"keys"};
  f.add("set", [&](lf::context& ctx) { ctx.set(tries, 3); });
  auto step = [&f](const char* name) { return f.add(name, [] { return 0; }).after("set"); };
  step("tries_eq_3.0").when(lf::equal(tries, 3.0));
  step("tries_gt_3").when(lf::greater(tries, 3));
  step("email_from_input").when(lf::equal(channel, "email") && lf::at_most(tries, 3u));
  step("unset_ne_0").when(lf::not_equal(unset, 0.0));
  step("unset_eq_0").when(lf::equal(unset, 0.0) || lf::less(unset, 1.0));
  f.add("stranger", [] { return 0; }).after("set").when(lf::equal(lf::output("tries_eq_3.0"), 0));
  lf::values input;
  input.set(channel, std::string("email"));
  lf::executor pool{2};
  auto r = pool.run(f, input);
  CHECK(r.status("tries_eq_3.0") == lf::step_status::succeeded);
  CHECK(r.status("tries_gt_3") == lf::step_status::skipped_by_condition);
  CHECK(r.status("email_from_input") == lf::step_status::succeeded);
  CHECK(r.status("unset_ne_0") == lf::step_status::succeeded);
  CHECK(r.status("unset_eq_0") == lf::step_status::skipped_by_condition);
  // The words of the static flow's compile error (tests/compile_fail/condition_reads_a_stranger.cpp).
  CHECK(r.status("stranger") == lf::step_status::failed);
  CHECK(contains(r.error_message(), "the condition of step \"stranger\" reads the output of step \"tries_eq_3.0\", "
                                    "which is not one of its dependencies"));
}

TEST_CASE("condition operators after a namespaced merge find the step's own namespace", "[policy][condition][merge]") {
  auto sub = lf::flow<"sub">(lf::step<"a">([] { return 2; }),
                             lf::step<"b", "a">([](int a) { return a; }).when(lf::equal(lf::output<"a">(), 2)),
                             lf::step<"c", "a">([](int a) { return a; }).when(lf::equal(lf::output<"a">(), 3)));
  lf::executor pool{2};
  auto merged = lf::merge<"main">(sub);
  auto r1 = pool.run(merged);
  CHECK(r1.status("sub.b") == lf::step_status::succeeded);
  CHECK(r1.status("sub.c") == lf::step_status::skipped_by_condition);
  lf::runtime_flow main{"main"};
  main.merge(sub);
  auto r2 = pool.run(main, lf::values{});
  CHECK(r2.status("sub.b") == lf::step_status::succeeded);
  CHECK(r2.status("sub.c") == lf::step_status::skipped_by_condition);
}

TEST_CASE("merges keep policies: a step's own, else its flow's default", "[policy][merge]") {
  lf::executor pool{2};
  std::atomic<int> a{0}, b{0};
  const auto sub = lf::flow<"sub">(lf::step<"a">(flaky{&a, 10}), lf::step<"b">(flaky{&b, 10}).retry(lf::retry{2})).retry(lf::retry{3});
  const auto merged = lf::merge<"m">(sub);
  CHECK_FALSE(pool.run(merged).ok());
  CHECK(a == 3);
  CHECK(b == 2);

  a = b = 0;
  lf::runtime_flow rf{"rf"};
  rf.merge(sub);
  CHECK_FALSE(pool.run(rf).ok());
  CHECK(a == 3);
  CHECK(b == 2);

  a = b = 0;
  lf::runtime_flow outer{"outer"};
  outer.merge(rf);
  CHECK_FALSE(pool.run(outer).ok());
  CHECK(a == 3);
  CHECK(b == 2);
}

TEST_CASE("policies on a step with a move-only callable; an lvalue step is copied and left as it was", "[policy]") {
  lf::executor pool{1};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto owned = std::make_unique<int>(41);
  // Fails once, then succeeds: the retry policy is really attached to the moved step.
  auto f = lf::flow<"move-only">(
      lf::step<"a">([] { return 1; }),
      lf::step<"x">([p = std::move(owned), calls] {
        if (calls->fetch_add(1) == 0) throw std::runtime_error("first try");
        return *p + 1;
      })
          .after<"a">()
          .retry(lf::retry{2})
          .timeout(5s)
          .before_step([](const lf::step_event&) {})
          .when([](lf::step_context&) { return true; }));
  auto result = pool.run(f);
  REQUIRE(result.ok());
  CHECK(result.get<"x">() == 42);
  CHECK(result.step("x").attempts == 2);

  const auto plain = lf::step<"y">([] { return 2; });
  const auto retried = plain.retry(lf::retry{3});  // from an lvalue: a copy
  CHECK(plain.rules == nullptr);
  REQUIRE(retried.rules != nullptr);
  CHECK(retried.rules->retries.has_value());
  // A step without a policy of its own is trivially copied and destroyed (a large flow generates no
  // code per step for it); one with a policy holds a shared handle; the first converts to the second.
  STATIC_REQUIRE(std::is_trivially_copyable_v<std::remove_const_t<decltype(plain)>>);
  STATIC_REQUIRE(std::is_trivially_destructible_v<std::remove_const_t<decltype(plain)>>);
  STATIC_REQUIRE(!std::is_trivially_destructible_v<std::remove_const_t<decltype(retried)>>);
  const auto either = retried.rules == nullptr ? retried : plain;
  CHECK(either.rules == nullptr);
  CHECK(either.callable() == 2);
}

TEST_CASE("a static flow's setters on an rvalue move its steps: a flow of move-only callables takes them", "[policy]") {
  lf::executor pool{1};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto f = lf::flow<"move-only-flow">(lf::step<"x">([p = std::make_unique<int>(41), calls] {
    if (calls->fetch_add(1) == 0) throw std::runtime_error("first try");
    return *p + 1;
  }));
  // `f.retry(...)` would not compile (it copies the flow, and the step's callable cannot be copied).
  const auto g = std::move(f).retry(lf::retry{2}).timeout(5s).after_flow([](const lf::run_event&) {});
  auto result = pool.run(g);
  REQUIRE(result.ok());
  CHECK(result.get<"x">() == 42);
  CHECK(result.step("x").attempts == 2);  // the flow's default retry reached the step
  REQUIRE(g.defaults() != nullptr);
  CHECK(g.defaults()->timeout == std::chrono::nanoseconds(5s));
  CHECK(g.defaults()->callbacks.after_flow.size() == 1);
}

// Callbacks (order across executor, flow and step; must failures at each point; filters; merges) and
// resources (initialise, release, suspend on failure, recover on resume).
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "catch.hpp"

namespace lf = lightflow;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A thread-safe list of what happened, in order.
struct journal {
  std::mutex mutex;
  std::vector<std::string> lines;
  void add(std::string line) {
    std::lock_guard lock(mutex);
    lines.push_back(std::move(line));
  }
  // A step callback that writes "<tag> <step> <status>".
  lf::step_callback step(std::string tag) {
    return lf::step_callback([this, tag](const lf::step_event& e) {
      add(tag + " " + std::string(e.step) + " " + std::string(lf::to_string(e.status)));
    });
  }
  lf::flow_callback flow(std::string tag) {
    return lf::flow_callback([this, tag](const lf::run_event& e) { add(tag + (e.ok ? " ok" : " not ok")); });
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex);
    return std::exchange(lines, {});
  }
};

[[noreturn]] void fail_callback(const lf::step_event& e) { throw std::runtime_error("callback refused " + std::string(e.step)); }
[[noreturn]] void fail_flow_callback(const lf::run_event&) { throw std::runtime_error("flow callback refused"); }

// Counts live objects, to see that discarded outputs are destroyed once.
struct counted {
  static inline std::atomic<int> alive{0};
  int value = 0;
  explicit counted(int v) : value(v) { ++alive; }
  counted(const counted& o) : value(o.value) { ++alive; }
  ~counted() { --alive; }
};
}  // namespace

TEST_CASE("callbacks run executor's, then the flow's, then the step's, each list in registration order",
          "[callback][order]") {
  journal j;
  lf::executor pool{1};
  pool.before_flow(j.flow("exec-before-flow-1")).before_flow(j.flow("exec-before-flow-2"));
  pool.after_flow(j.flow("exec-after-flow"));
  pool.before_step(j.step("exec-before-1")).before_step(j.step("exec-before-2"));
  pool.after_step(j.step("exec-after"));

  const std::vector<std::string> expected{
      "exec-before-flow-1 ok", "exec-before-flow-2 ok", "flow-before-flow ok",
      "exec-before-1 a pending", "exec-before-2 a pending", "flow-before a pending", "step-before-1 a pending",
      "step-before-2 a pending", "body a",
      "exec-after a succeeded", "flow-after a succeeded", "step-after a succeeded",
      "exec-before-1 b pending", "exec-before-2 b pending", "flow-before b pending", "body b",
      "exec-after b succeeded", "flow-after b succeeded",
      "exec-after-flow ok", "flow-after-flow ok"};

  SECTION("static flow") {
    const auto f = lf::flow<"f">(lf::step<"a">([&] { j.add("body a"); return 1; })
                                     .before_step(j.step("step-before-1"))
                                     .after_step(j.step("step-after"))
                                     .before_step(j.step("step-before-2")),
                                 lf::step<"b", "a">([&](int) { j.add("body b"); }))
                       .before_flow(j.flow("flow-before-flow"))
                       .after_flow(j.flow("flow-after-flow"))
                       .before_step(j.step("flow-before"))
                       .after_step(j.step("flow-after"));
    REQUIRE(pool.run(f).ok());
    CHECK(j.take() == expected);
  }
  SECTION("runtime flow") {
    lf::runtime_flow f{"f"};
    f.add("a", [&] { j.add("body a"); return 1; })
        .before_step(j.step("step-before-1"))
        .after_step(j.step("step-after"))
        .before_step(j.step("step-before-2"));
    f.add("b", [&] { j.add("body b"); }).after("a");
    f.before_flow(j.flow("flow-before-flow")).after_flow(j.flow("flow-after-flow"));
    f.before_step(j.step("flow-before")).after_step(j.step("flow-after"));
    REQUIRE(pool.run(f).ok());
    CHECK(j.take() == expected);
  }
}

TEST_CASE("a callback that is not must: its failure is listed, the work goes on", "[callback][must]") {
  lf::executor pool{2};
  int ran = 0;
  const auto f = lf::flow<"f">(lf::step<"a">([&] { ++ran; }).before_step(fail_callback).after_step(fail_callback))
                     .before_flow(fail_flow_callback)
                     .after_flow(fail_flow_callback);
  auto r = pool.run(f);
  CHECK(r.ok());
  CHECK(ran == 1);
  const auto failures = r.callback_failures();
  REQUIRE(failures.size() == 4);
  CHECK(failures[0].point == lf::callback_point::before_flow);
  CHECK(failures[1].point == lf::callback_point::before_step);
  CHECK(failures[1].step == "a");
  CHECK(failures[2].point == lf::callback_point::after_step);
  CHECK(failures[3].point == lf::callback_point::after_flow);
  for (const auto& failure : failures) CHECK_FALSE(failure.must);
  CHECK(lf::describe(failures[1].error) == "callback refused a");
}

TEST_CASE("a must before-step callback that fails: its step fails without running, dependents do not run",
          "[callback][must]") {
  lf::executor pool{2};
  journal j;
  int a = 0, b = 0, c = 0;
  const auto f = lf::flow<"f">(
      lf::step<"a">([&] { ++a; return 1; }).before_step(lf::step_callback(fail_callback).must()).before_step(j.step("later")),
      lf::step<"b", "a">([&](int) { ++b; }), lf::step<"c">([&] { ++c; }))
      .after_step(j.step("after"));
  auto r = pool.run(f);
  CHECK_FALSE(r.ok());
  CHECK(a == 0);
  CHECK(b == 0);
  CHECK(c == 1);  // an unrelated step still runs
  CHECK(r.status<"a">() == lf::step_status::failed);
  CHECK(r.status<"b">() == lf::step_status::skipped);
  const auto report = r.step("a");
  CHECK(report.attempts == 0);
  try {
    std::rethrow_exception(report.error);
  } catch (const lf::callback_error& e) {
    CHECK(contains(e.what(), "must before-step callback of step \"a\" failed: callback refused a"));
    CHECK(lf::describe(e.cause()) == "callback refused a");
  }
  CHECK(contains(r.error_message(), "step \"a\" failed"));
  // The before-step callbacks after the failed must one were not called; the after-step ones were, for all.
  auto lines = j.take();
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::string>{"after a failed", "after b skipped", "after c succeeded"});
  const auto failures = r.callback_failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].must);
}

TEST_CASE("a must after-step callback that fails: a step that succeeded fails, its output is discarded, its "
          "dependents do not run, and it is not checkpointed",
          "[callback][must]") {
  lf::executor pool{2};
  int a = 0, b = 0;
  bool refuse = true;
  const auto refusing = lf::step_callback([&](const lf::step_event& e) {
                          if (refuse) fail_callback(e);
                        }).must();
  SECTION("the output is destroyed once") {
    {
      const auto f = lf::flow<"f">(lf::step<"a">([&] { ++a; return counted{7}; }).after_step(refusing),
                                   lf::step<"b", "a">([&](const counted& x) { ++b; return x.value; }));
      auto r = pool.run(f);
      CHECK_FALSE(r.ok());
      CHECK(r.status<"a">() == lf::step_status::failed);
      CHECK(r.status<"b">() == lf::step_status::skipped);
      CHECK(r.step("a").attempts == 1);
      CHECK(counted::alive == 0);  // destroyed when it was discarded; the result does not own it
      CHECK_THROWS_AS(r.get<"a">(), lf::bad_step_access);
      CHECK(contains(r.error_message(), "must after-step callback of step \"a\" failed"));
    }
    CHECK(a == 1);
    CHECK(b == 0);
    CHECK(counted::alive == 0);
  }
  SECTION("the step is not checkpointed: a resumed run runs it again") {
    lf::memory_store store;
    const auto f = lf::flow<"f">(lf::step<"a">([&] { ++a; return 7; }).after_step(refusing),
                                 lf::step<"b", "a">([&](int x) { ++b; return x; }));
    CHECK_FALSE(pool.run(f, lf::checkpoint{store, "run-1"}).ok());
    refuse = false;
    auto resumed = pool.run(f, lf::checkpoint{store, "run-1"});
    REQUIRE(resumed.ok());
    CHECK(a == 2);
    CHECK(b == 1);
    CHECK(resumed.get<"b">() == 7);
  }
}

TEST_CASE("a must after-step callback of a runtime step discards its result and writes", "[callback][must]") {
  lf::executor pool{2};
  const lf::key<int> k{"k"};
  lf::runtime_flow f{"f"};
  int after = 0;
  f.add("a", [&](lf::context& ctx) { ctx.set(k, 1); return 5; }).after_step(lf::step_callback(fail_callback).must());
  f.add("b", [&] { ++after; }).after("a");
  auto r = pool.run(f);
  CHECK_FALSE(r.ok());
  CHECK(r.status("a") == lf::step_status::failed);
  CHECK(r.status("b") == lf::step_status::skipped);
  CHECK(after == 0);
  CHECK(r.end_values(k).empty());
  CHECK_THROWS_AS(r.get<int>("a"), lf::bad_step_access);
}

TEST_CASE("a must before-flow callback that fails: no step runs; a must after-flow one: the run is not ok",
          "[callback][must]") {
  lf::executor pool{2};
  journal j;
  int ran = 0;
  const auto base = lf::flow<"f">(lf::step<"a">([&] { ++ran; }), lf::step<"b", "a">([&] { ++ran; }));
  SECTION("before") {
    const auto f = base.before_flow(lf::flow_callback(fail_flow_callback).must()).before_flow(j.flow("never"))
                       .after_step(j.step("after")).after_flow(j.flow("end"));
    auto r = pool.run(f);
    CHECK_FALSE(r.ok());
    CHECK(ran == 0);
    CHECK(r.count(lf::step_status::cancelled) == 2);
    CHECK(contains(r.error_message(), "its must before-flow callback failed: flow callback refused"));
    auto lines = j.take();
    std::sort(lines.begin(), lines.end());
    CHECK(lines == std::vector<std::string>{"after a cancelled", "after b cancelled", "end not ok"});
  }
  SECTION("before, submitted") {
    const auto f = base.before_flow(lf::flow_callback(fail_flow_callback).must());
    auto handle = pool.submit(f);
    CHECK_FALSE(handle.get().ok());
    CHECK(ran == 0);
  }
  SECTION("after") {
    const auto f = base.after_flow(lf::flow_callback(fail_flow_callback).must()).after_flow(j.flow("later"));
    auto r = pool.run(f);
    CHECK(ran == 2);
    CHECK(r.count(lf::step_status::succeeded) == 2);
    CHECK_FALSE(r.ok());
    CHECK(contains(r.error_message(), "its must after-flow callback failed: flow callback refused"));
    CHECK(j.take().empty());  // a failed must callback ends its chain: the one after it is not called
  }
}

namespace {
// The chain rule, at each of the four points, for a failure at each level, must or not: every
// callback writes its level and position ("flow-2"); the first callback of the failing level throws.
// Only the point under test has callbacks.
enum class level { executor, flow, step };
const char* const level_names[] = {"executor", "flow", "step"};
struct chain_case {
  lf::callback_point point;
  level failing;
  bool must;
};
struct chain_outcome {
  std::vector<std::string> called;
  bool ok = false;
  std::vector<lf::callback_failure> failures;
  int body = 0;  // how often the step ran
};

constexpr bool is_step_point(lf::callback_point p) {
  return p == lf::callback_point::before_step || p == lf::callback_point::after_step;
}

// A setter's result: kept when it is a changed copy (static flows and steps), nothing to do when the
// target was changed in place (the executor, runtime flows and step handles).
template <class Target, class Result>
void keep(Target& target, Result&& result) {
  if constexpr (!std::is_lvalue_reference_v<Result&&>) target = std::forward<Result>(result);
}

template <class Target, class Callback>
void register_at(lf::callback_point p, Target& t, Callback cb) {
  if constexpr (std::is_same_v<Callback, lf::step_callback>) {
    if (p == lf::callback_point::before_step) keep(t, t.before_step(std::move(cb)));
    else keep(t, t.after_step(std::move(cb)));
  } else if constexpr (requires { t.before_flow(std::move(cb)); }) {
    if (p == lf::callback_point::before_flow) keep(t, t.before_flow(std::move(cb)));
    else keep(t, t.after_flow(std::move(cb)));
  } else {
    FAIL("a step has no flow callbacks");
  }
}

// Registers "<level>-1" and "<level>-2" at the case's point on `target`.
template <class Target>
void add_pair(journal& j, const chain_case& c, level at, Target& target) {
  for (int k = 1; k <= 2; ++k) {
    const std::string tag = std::string(level_names[static_cast<int>(at)]) + "-" + std::to_string(k);
    const bool fails = c.failing == at && k == 1;
    auto body = [&j, tag, fails](const auto&) {
      j.add(tag);
      if (fails) throw std::runtime_error(tag + " refused");
    };
    if (is_step_point(c.point)) {
      lf::step_callback cb(body);
      if (fails && c.must) cb.must();
      register_at(c.point, target, std::move(cb));
    } else {
      lf::flow_callback cb(body);
      if (fails && c.must) cb.must();
      register_at(c.point, target, std::move(cb));
    }
  }
}

// A step body that can be assigned (a lambda cannot), so that static setters' copies can be kept.
struct counting_body {
  int* count;
  int operator()() const { return ++*count, 1; }
};

chain_outcome run_chain(const chain_case& c, bool runtime) {
  journal j;
  lf::executor pool{1};
  add_pair(j, c, level::executor, pool);
  int body = 0;
  if (runtime) {
    lf::runtime_flow f{"f"};
    auto a = f.add("a", counting_body{&body});
    add_pair(j, c, level::flow, f);
    if (is_step_point(c.point)) add_pair(j, c, level::step, a);
    auto r = pool.run(f);
    return {j.take(), r.ok(), r.callback_failures(), body};
  }
  auto a = lf::step<"a">(counting_body{&body}).retry(lf::retry{1});  // a step with a policy keeps its type
  if (is_step_point(c.point)) add_pair(j, c, level::step, a);
  auto f = lf::flow<"f">(a);
  add_pair(j, c, level::flow, f);
  auto r = pool.run(f);
  return {j.take(), r.ok(), r.callback_failures(), body};
}
}  // namespace

TEST_CASE("the callback chain: a failing must callback ends it (its list and the later levels); one that is "
          "not must is listed and the chain goes on; at every point and level, static and runtime",
          "[callback][must][chain]") {
  using lf::callback_point;
  for (const bool runtime : {false, true})
    for (const callback_point point : {callback_point::before_flow, callback_point::after_flow,
                                       callback_point::before_step, callback_point::after_step}) {
      const std::vector<level> levels = is_step_point(point) ? std::vector<level>{level::executor, level::flow, level::step}
                                                             : std::vector<level>{level::executor, level::flow};
      for (const level failing : levels)
        for (const bool must : {false, true}) {
          CAPTURE(runtime, lf::to_string(point), level_names[static_cast<int>(failing)], must);
          const chain_outcome out = run_chain({point, failing, must}, runtime);
          std::vector<std::string> expected;  // every callback in order, up to a failing must one
          bool ended = false;
          for (const level l : levels)
            for (int k = 1; k <= 2 && !ended; ++k) {
              expected.push_back(std::string(level_names[static_cast<int>(l)]) + "-" + std::to_string(k));
              ended = must && l == failing && k == 1;
            }
          CHECK(out.called == expected);
          CHECK(out.ok == !must);
          REQUIRE(out.failures.size() == 1);
          CHECK(out.failures[0].point == point);
          CHECK(out.failures[0].must == must);
          CHECK(lf::describe(out.failures[0].error) == std::string(level_names[static_cast<int>(failing)]) + "-1 refused");
          const bool stopped_before_running = must && (point == callback_point::before_flow || point == callback_point::before_step);
          CHECK(out.body == (stopped_before_running ? 0 : 1));
        }
    }
}

TEST_CASE("filters: only named steps, not named steps, only given statuses, only when a run is (not) ok",
          "[callback][filter]") {
  lf::executor pool{2};
  journal j;
  const auto f = lf::flow<"f">(lf::step<"a">([] { return 1; }), lf::step<"b">([]() -> int { throw std::runtime_error("b"); }),
                               lf::step<"c", "b">([](int) {}),
                               lf::step<"d">([] {}).when([](lf::step_context&) { return false; }))
                     .before_step(j.step("only-a").only({"a"}))
                     .before_step(j.step("not-a").except({"a"}))
                     .after_step(j.step("failed-or-skipped").on({lf::step_status::failed, lf::step_status::skipped}))
                     .after_step(j.step("by-condition").on({lf::step_status::skipped_by_condition}))
                     .after_step(j.step("a-or-c-not-c").only({"a", "c"}).except({"c"}))
                     .after_flow(j.flow("when-ok").only_when(true))
                     .after_flow(j.flow("when-not-ok").only_when(false));
  auto r = pool.run(f);
  CHECK_FALSE(r.ok());
  auto lines = j.take();
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::string>{"a-or-c-not-c a succeeded", "by-condition d skipped by condition",
                                          "failed-or-skipped b failed", "failed-or-skipped c skipped",
                                          "not-a b pending", "only-a a pending", "when-not-ok not ok"});
}

TEST_CASE("callbacks of a step restored from a checkpoint are not called; a merge keeps a flow's step callbacks",
          "[callback][merge]") {
  lf::executor pool{2};
  journal j;
  lf::memory_store store;
  bool fail = true;
  const auto sub = lf::flow<"sub">(lf::step<"a">([] { return 1; }), lf::step<"b", "a">([&](int x) {
                                     if (fail) throw std::runtime_error("b");
                                     return x;
                                   }))
                       .after_step(j.step("sub-after"))
                       .after_flow(j.flow("sub-end"));  // a merged flow's run callbacks are not the merge's
  const auto merged = lf::merge<"m">(sub).after_step(j.step("m-after"));
  CHECK_FALSE(pool.run(merged, lf::checkpoint{store, "x"}).ok());
  CHECK(j.take() == std::vector<std::string>{"m-after sub.a succeeded", "sub-after sub.a succeeded",
                                             "m-after sub.b failed", "sub-after sub.b failed"});
  fail = false;
  CHECK(pool.run(merged, lf::checkpoint{store, "x"}).ok());
  CHECK(j.take() == std::vector<std::string>{"m-after sub.b succeeded", "sub-after sub.b succeeded"});

  lf::runtime_flow rf{"rf"};
  rf.merge(sub);
  CHECK(pool.run(rf).ok());
  CHECK(j.take() == std::vector<std::string>{"sub-after sub.a succeeded", "sub-after sub.b succeeded"});
}

TEST_CASE("callbacks that see the data: a before-flow callback sets values the steps read; after-step callbacks "
          "read the step's output and writes, and write for its dependents",
          "[callback][data]") {
  const lf::key<int> limit{"limit"}, tries{"tries"}, seen{"seen"}, twice{"twice"};
  lf::executor pool{2};
  // The Go original's scenario in a runtime flow: the before-flow callback reads the input and sets a
  // value; a before-step callback writes before the step's first attempt (kept through its retry); an
  // after-step callback reads the step's result and writes, and a dependent reads what it wrote.
  lf::runtime_flow f{"data"};
  f.before_flow([&](const lf::run_event& e, lf::values& input) {
    const lf::values* given = e.input<lf::values>();
    REQUIRE(given != nullptr);
    input.set(twice, *given->find(limit) * 2);
  });
  std::atomic<int> attempts{0};
  int read_in_after = 0, result_in_after = 0;
  f.add("check", [&](lf::context& ctx) {
     ctx.set(seen, ctx.get(tries) + ctx.get(twice));
     if (++attempts == 1) throw std::runtime_error("flaky");
     return 7;
   })
      .retry(lf::retry{2})
      .before_step([&](const lf::step_event&, lf::context& ctx) { ctx.set(tries, 100); })
      .after_step([&](const lf::step_event& e, lf::context& ctx) {
        read_in_after = ctx.get(seen);
        result_in_after = e.output<int>() != nullptr ? *e.output<int>() : -1;
        CHECK(e.output<long>() == nullptr);  // only its exact type
        ctx.set(limit, 1);                   // seen by the dependents, as the step's own write
      });
  int dependent_read = 0, dependent_limit = 0;
  f.add("use", [&](lf::context& ctx) {
     dependent_read = ctx.get(seen);
     dependent_limit = ctx.get(limit);
   }).after("check");
  lf::values input;
  input.set(limit, 21);
  auto r = pool.run(f, input);
  REQUIRE(r.ok());
  CHECK(attempts == 2);
  CHECK(read_in_after == 142);  // 100 (before-step, kept through the retry) + 42 (the before-flow callback)
  CHECK(result_in_after == 7);
  CHECK(dependent_read == 142);
  CHECK(dependent_limit == 1);  // the after-step callback's write shadows the input's
  CHECK(*input.find(limit) == 21);  // the caller's input is not changed

  // A static flow: flow callbacks read the typed input, after-step callbacks the typed output, and a
  // callback may take the step's step_context; one that takes an lf::context& fails, saying why.
  int input_seen = 0, output_seen = 0;
  std::string name_seen;
  auto s = lf::flow<"typed">(lf::step<"a">([](int x) { return x + 1; })
                                 .after_step([&](const lf::step_event& e, lf::step_context& ctx) {
                                   output_seen = *e.output<int>();
                                   name_seen = std::string(ctx.name());
                                 }),
                             lf::step<"b", "a">([](int) {}).after_step([](const lf::step_event&, lf::context&) {}))
               .before_flow([&](const lf::run_event& e) { input_seen = *e.input<int>(); });
  auto rs = pool.run(s, 41);
  CHECK(input_seen == 41);
  CHECK(output_seen == 42);
  CHECK(name_seen == "a");
  CHECK(rs.ok());  // the failure is not must: listed, nothing else
  REQUIRE(rs.callback_failures().size() == 1);
  CHECK(contains(lf::describe(rs.callback_failures()[0].error),
                 "a callback of step \"b\" of flow \"typed\" takes an lf::context&, which only runtime runs have"));
  auto bad_flow_callback = lf::flow<"typed">(lf::step<"a">([](int x) { return x; }))
                               .before_flow(lf::flow_callback([](const lf::run_event&, lf::values&) {}).must());
  auto rb = pool.run(bad_flow_callback, 1);
  CHECK_FALSE(rb.ok());  // a must before-flow callback failed: no step ran
  CHECK(rb.status("a") == lf::step_status::cancelled);
  CHECK(contains(lf::describe(rb.callback_failures()[0].error), "takes an lf::values&, the input of runtime runs"));
}

TEST_CASE("an after-step callback's writes are checkpointed with its step", "[callback][data][checkpoint]") {
  const lf::key<std::string> note{"note"};
  lf::memory_store store;
  lf::executor pool{2};
  bool fail_last = true;
  int callbacks = 0;
  std::string read_by_last;
  lf::runtime_flow f{"kept"};
  f.add("first", [] { return 1; }).after_step([&](const lf::step_event&, lf::context& ctx) {
    ++callbacks;
    ctx.set(note, std::string("written after first"));
  });
  f.add("last", [&](lf::context& ctx) {
     read_by_last = ctx.get(note);
     if (fail_last) throw std::runtime_error("not yet");
   }).after("first");
  auto r1 = pool.run(f, lf::values{}, lf::checkpoint{store, "k"});
  CHECK_FALSE(r1.ok());
  fail_last = false;
  read_by_last.clear();
  auto r2 = pool.resume(f, lf::checkpoint{store, "k"});
  REQUIRE(r2.ok());
  CHECK(r2.step("first").restored);
  CHECK(callbacks == 1);  // not called again for the restored step
  CHECK(read_by_last == "written after first");
}

TEST_CASE("executor callbacks reach runs started after they are registered", "[callback]") {
  lf::executor pool{2};
  journal j;
  const auto f = lf::flow<"f">(lf::step<"a">([] {}));
  CHECK(pool.run(f).ok());
  pool.after_step(j.step("late"));
  CHECK(pool.run(f).ok());
  CHECK(j.take() == std::vector<std::string>{"late a succeeded"});
}

namespace {
// A resource that writes its hooks to a journal.
struct connection {
  journal* j;
  std::string name;
  connection(journal* to, std::string n) : j(to), name(std::move(n)) { j->add("open " + name); }
  connection(const connection&) = delete;
  ~connection() { j->add("close " + name); }
  void suspend() { j->add("suspend " + name); }
  void recover() { j->add("recover " + name); }
  std::string query(std::string_view what) const { return name + ":" + std::string(what); }
};
struct plain_resource {
  int value = 42;
};
}  // namespace

TEST_CASE("resources: made before the run, reached by steps, released when it ends; suspend on failure, recover "
          "on resume",
          "[resource]") {
  lf::executor pool{2};
  journal j;
  lf::memory_store store;
  bool fail = true;
  const auto f = lf::flow<"f">(lf::step<"a">([&](lf::step_context& ctx) {
                                 j.add("step a " + ctx.resource<connection>().query("a"));
                                 return ctx.resource<plain_resource>().value;
                               }),
                               lf::step<"b", "a">([&](int x, lf::step_context& ctx) {
                                 j.add("step b " + ctx.resource<connection>().query("b"));
                                 if (fail) throw std::runtime_error("b down");
                                 return x;
                               }))
                     .before_flow(j.flow("before-flow"))
                     .after_flow(j.flow("after-flow"));
  auto db = lf::resource([&] { return connection(&j, "db"); });
  {
    auto r = pool.run(f, db, lf::resource([] { return plain_resource{}; }), lf::checkpoint{store, "r1"});
    CHECK_FALSE(r.ok());
    // Released before run() returned.
    CHECK(j.take() == std::vector<std::string>{"open db", "before-flow ok", "step a db:a", "step b db:b",
                                               "after-flow not ok", "suspend db", "close db"});
  }
  fail = false;
  auto resumed = pool.run(f, db, lf::resource([] { return plain_resource{}; }), lf::checkpoint{store, "r1"});
  REQUIRE(resumed.ok());
  CHECK(resumed.get<"b">() == 42);
  CHECK(j.take() == std::vector<std::string>{"open db", "recover db", "before-flow ok", "step b db:b", "after-flow ok",
                                             "close db"});
  // A run without a checkpoint is not a resume.
  auto again = pool.run(f, db, lf::resource([] { return plain_resource{}; }));
  REQUIRE(again.ok());
  CHECK(j.take().front() == "open db");
}

TEST_CASE("resources: a step asking for one its run lacks fails naming it; a factory that throws stops the run",
          "[resource]") {
  lf::executor pool{2};
  int ran = 0;
  const auto f = lf::flow<"f">(lf::step<"a">([&](lf::step_context& ctx) { ++ran; return ctx.resource<plain_resource>().value; }));
  auto r = pool.run(f);
  CHECK(r.status<"a">() == lf::step_status::failed);
  CHECK(contains(r.error_message(), "step \"a\" of flow \"f\" asked for a resource of type"));
  CHECK(contains(r.error_message(), "plain_resource"));
  ran = 0;
  CHECK_THROWS_WITH(pool.run(f, lf::resource([]() -> plain_resource { throw std::runtime_error("no db"); })), "no db");
  CHECK(ran == 0);

  // Runtime flows reach them through their context.
  journal j;
  lf::runtime_flow rf{"rf"};
  rf.add("a", [](lf::context& ctx) { return ctx.resource<connection>().query("rt"); });
  auto rr = pool.run(rf, lf::values{}, lf::resource([&] { return connection(&j, "db"); }));
  REQUIRE(rr.ok());
  CHECK(rr.get<std::string>("a") == "db:rt");
  CHECK(j.take() == std::vector<std::string>{"open db", "close db"});
}

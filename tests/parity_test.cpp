// The same scenarios through both front doors: each is written once and run with a static flow and
// with a runtime flow of the same shape (a -> b -> c, and d on its own) whose steps do the same
// things, and the two must end alike: failure propagation, retries, timeouts, conditions,
// cancellation, pausing and stopping, resuming from a checkpoint, concurrent runs of one flow. (The
// graph mistakes' words are compared in graph_test.cpp, the callbacks' order in callback_test.cpp,
// each through both kinds of flow.)
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {

/// What step b does in a scenario, and its policy.
struct scenario {
  int b_failures = 0;  // b throws on its first b_failures calls (-1: always)
  bool b_waits = false;  // b waits for its stop token (a time limit, a cancellation), then returns
  bool b_gated = false;  // b waits until the test opens its gate
  std::optional<lf::retry> retry = std::nullopt;
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;
  bool b_runs = true;  // b's condition
};

/// The steps' bodies, shared by both kinds of flow.
struct body {
  scenario sc;
  std::atomic<int> ran[4]{};  // calls of a, b, c, d
  std::atomic<bool> b_started{false};
  std::atomic<bool> gate_open{false};
  int a() { return ++ran[0], 1; }
  int b(int from_a, const lf::step_context& ctx) {
    const int n = ++ran[1];
    b_started = true;
    if (sc.b_waits) {
      while (!ctx.stop_requested()) std::this_thread::sleep_for(1ms);
      return -1;
    }
    while (sc.b_gated && !gate_open) std::this_thread::sleep_for(1ms);
    if (sc.b_failures < 0 || n <= sc.b_failures) throw std::runtime_error("b: simulated failure " + std::to_string(n));
    return from_a + 1;
  }
  int c(int from_b) { return ++ran[2], from_b * 10; }
  int d() { return ++ran[3], 7; }
};

auto make_static(body& s) {
  const auto b0 = lf::step<"b", "a">([&s](int a, lf::step_context& ctx) { return s.b(a, ctx); });
  const auto b1 = s.sc.retry ? b0.retry(*s.sc.retry) : b0;  // (a step's policy setters return a changed copy)
  const auto b2 = s.sc.timeout ? b1.timeout(*s.sc.timeout) : b1;
  const auto b3 = s.sc.b_runs ? b2 : b2.when([](lf::step_context&) { return false; });
  return lf::flow<"parity">(lf::step<"a">([&s] { return s.a(); }), b3,
                            lf::step<"c", "b">([&s](int from_b) { return s.c(from_b); }), lf::step<"d">([&s] { return s.d(); }));
}

lf::runtime_flow make_runtime(body& s) {
  lf::runtime_flow f{"parity"};
  f.add("a", [&s] { return s.a(); });
  auto b = f.add("b", [&s](lf::context& ctx) { return s.b(ctx.result<int>("a"), ctx); });
  b.after("a");
  if (s.sc.retry) b.retry(*s.sc.retry);
  if (s.sc.timeout) b.timeout(*s.sc.timeout);
  if (!s.sc.b_runs) b.when([](lf::context&) { return false; });
  f.add("c", [&s](lf::context& ctx) { return s.c(ctx.result<int>("b")); }).after("b");
  f.add("d", [&s] { return s.d(); });
  return f;
}

/// One kind of flow made by `Make` over the steps' bodies: a static flow (its steps hand each other
/// their outputs) or a runtime flow (its steps read each other's results by name).
template <auto Make, bool Static>
struct flow_kind {
  static constexpr bool is_static = Static;
  body s;
  decltype(Make(std::declval<body&>())) flow;
  explicit flow_kind(scenario sc) : s{sc}, flow(Make(s)) {}
  template <class... Options>
  auto run(lf::executor& pool, Options&&... options) { return pool.run(flow, std::forward<Options>(options)...); }
  auto submit(lf::executor& pool) { return pool.submit(flow); }
  template <class Store>
  auto resume(lf::executor& pool, Store& store, const char* id) { return pool.resume(flow, lf::checkpoint{store, id}); }
  /// Step c's result: by its name as a type (static) or as a run-time name and a type (runtime).
  template <class Result>
  static int c_of(const Result& r) {
    if constexpr (Static) return r.template get<"c">();
    else return r.template get<int>("c");
  }
};
using static_kind = flow_kind<[](body& s) { return make_static(s); }, true>;
using runtime_kind = flow_kind<[](body& s) { return make_runtime(s); }, false>;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEMPLATE_TEST_CASE("parity: a failure skips its descendants and nothing else", "[parity]", static_kind, runtime_kind) {
  TestType k(scenario{.b_failures = -1});
  lf::executor pool{2};
  auto r = k.run(pool);
  CHECK_FALSE(r.ok());
  CHECK(r.status("a") == lf::step_status::succeeded);
  CHECK(r.status("b") == lf::step_status::failed);
  CHECK(r.status("c") == lf::step_status::skipped);
  CHECK(r.status("d") == lf::step_status::succeeded);
  CHECK(k.s.ran[2] == 0);
  CHECK(contains(r.error_message(), "flow \"parity\": step \"b\" failed: b: simulated failure 1"));
  CHECK(contains(r.error_message(), "1 step skipped"));
}

TEMPLATE_TEST_CASE("parity: a step is retried until it succeeds", "[parity]", static_kind, runtime_kind) {
  TestType k(scenario{.b_failures = 2, .retry = lf::retry{3}});
  lf::executor pool{2};
  auto r = k.run(pool);
  REQUIRE(r.ok());
  CHECK(r.step("b").attempts == 3);
  CHECK(r.step("c").attempts == 1);
  CHECK(k.s.ran[2] == 1);
}

TEMPLATE_TEST_CASE("parity: a step past its time limit times out", "[parity]", static_kind, runtime_kind) {
  TestType k(scenario{.b_waits = true, .timeout = 20ms});
  lf::executor pool{2};
  auto r = k.run(pool);
  CHECK_FALSE(r.ok());
  CHECK(r.status("b") == lf::step_status::timed_out);
  CHECK(r.status("c") == lf::step_status::skipped);
  CHECK(r.status("d") == lf::step_status::succeeded);
  CHECK(contains(r.error_message(), "step \"b\" timed out after 20 ms"));
}

TEMPLATE_TEST_CASE("parity: a false condition skips the step", "[parity]", static_kind, runtime_kind) {
  TestType k(scenario{.b_runs = false});
  lf::executor pool{2};
  auto r = k.run(pool);
  CHECK(r.status("b") == lf::step_status::skipped_by_condition);
  CHECK(k.s.ran[1] == 0);
  CHECK(r.status("d") == lf::step_status::succeeded);
  // The one documented difference: a static step cannot be called without its dependency's output,
  // so it is skipped too; a runtime step runs, and reading the result that is not there fails it.
  if constexpr (TestType::is_static) {
    CHECK(r.ok());
    CHECK(r.status("c") == lf::step_status::skipped_by_condition);
  } else {
    CHECK_FALSE(r.ok());
    CHECK(r.status("c") == lf::step_status::failed);
    CHECK(contains(r.error_message(), "the result of step \"b\""));
  }
}

TEMPLATE_TEST_CASE("parity: cancelling or stopping a run leaves the steps not started undone", "[parity]", static_kind,
                   runtime_kind) {
  const bool stop = GENERATE(false, true);
  INFO((stop ? "stop" : "cancel"));
  TestType k(scenario{.b_waits = true});
  lf::executor pool{2};
  auto handle = k.submit(pool);
  while (!k.s.b_started) std::this_thread::yield();
  stop ? handle.stop() : handle.cancel();
  auto r = handle.get();
  CHECK_FALSE(r.ok());
  CHECK(r.status("c") == (stop ? lf::step_status::stopped : lf::step_status::cancelled));
  CHECK(k.s.ran[2] == 0);
  CHECK(r.status("a") == lf::step_status::succeeded);
}

TEMPLATE_TEST_CASE("parity: a paused run lets its running step finish and starts no other until resumed", "[parity]",
                   static_kind, runtime_kind) {
  TestType k(scenario{.b_gated = true});
  lf::executor pool{2};
  auto handle = k.submit(pool);
  while (!k.s.b_started || k.s.ran[3] == 0) std::this_thread::yield();  // b and d (a root) have started
  handle.pause();
  CHECK(handle.paused());
  k.s.gate_open = true;                                   // b finishes while the run is paused...
  while (handle.waiting() == 0) std::this_thread::sleep_for(1ms);
  CHECK(handle.waiting() == 1);                           // ...and c, now ready, waits
  CHECK(k.s.ran[2] == 0);
  CHECK_FALSE(handle.done());
  handle.resume();
  auto r = handle.get();
  REQUIRE(r.ok());
  CHECK(k.s.ran[2] == 1);
  CHECK(TestType::c_of(r) == 20);
}

TEMPLATE_TEST_CASE("parity: a failed run resumes from its checkpoint, running only what had not succeeded", "[parity]",
                   static_kind, runtime_kind) {
  TestType k(scenario{.b_failures = 1});
  lf::memory_store store;
  lf::executor pool{2};
  auto first = k.run(pool, lf::checkpoint{store, "p-1"});
  REQUIRE_FALSE(first.ok());
  CHECK(first.status("b") == lf::step_status::failed);
  auto second = k.resume(pool, store, "p-1");
  REQUIRE(second.ok());
  CHECK(second.restored() == 2);  // a and d
  CHECK(second.step("a").restored);
  CHECK_FALSE(second.step("b").restored);
  CHECK((k.s.ran[0] == 1 && k.s.ran[1] == 2 && k.s.ran[2] == 1 && k.s.ran[3] == 1));
  auto third = k.resume(pool, store, "p-1");  // everything restored: nothing runs
  CHECK(third.restored() == 4);
  CHECK(k.s.ran[1] == 2);
}

TEMPLATE_TEST_CASE("parity: one flow runs concurrently from many threads", "[parity]", static_kind, runtime_kind) {
  TestType k(scenario{});
  lf::executor pool{2};
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t != 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i != 25; ++i) ok += k.run(pool).ok() ? 1 : 0;
    });
  for (auto& c : callers) c.join();
  CHECK(ok == 100);
  CHECK(k.s.ran[2] == 100);
}

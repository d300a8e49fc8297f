// Timeouts: a step's attempt past its limit is stopped through its stop token and counted as timed
// out (its output discarded, its descendants not run); a body that ignores its token is waited for;
// a run past its run_timeout is cancelled. No test here depends on how fast the machine is: a
// cooperative body waits on its stop token (it would hang if the timeout never stopped it), and an
// uncooperative one is held by the test until its step has timed out.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "catch.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Blocks until the step's stop token is stopped; returns how it ended.
int wait_for_stop(lf::step_context& ctx) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, ctx.stop_token(), [] { return false; });
  return ctx.stop_requested() ? 1 : 0;
}
}  // namespace

TEST_CASE("a step past its timeout is stopped, marked timed out, and its descendants do not run", "[timeout]") {
  lf::executor pool{2};
  std::atomic<int> after{0};
  auto f = lf::flow<"f">(lf::step<"slow">(wait_for_stop).timeout(20ms),
                         lf::step<"next", "slow">([&](int) { ++after; return 0; }),
                         lf::step<"other">([] { return 7; }));
  auto r = pool.run(f);
  CHECK_FALSE(r.ok());
  CHECK(r.status("slow") == lf::step_status::timed_out);
  CHECK(r.status("next") == lf::step_status::skipped);
  CHECK(r.get<"other">() == 7);
  CHECK(after == 0);
  CHECK(contains(r.error_message(), ": step \"slow\" timed out after 20 ms"));
  CHECK_FALSE(contains(r.error_message(), "failed: lightflow:"));  // one "lightflow:" a message
  CHECK_THROWS_WITH(r.get<"slow">(), Catch::Matchers::Contains("it was timed out"));
  CHECK_THROWS_WITH(r.get<"next">(), Catch::Matchers::Contains("because step \"slow\" timed out"));
  CHECK_THROWS_AS(r.throw_if_failed(), lf::step_error);
}

TEST_CASE("a body that ignores its stop token is waited for; its late output is discarded", "[timeout]") {
  lf::executor pool{2};
  std::atomic<bool> release{false};
  std::atomic<bool> returned{false};
  struct tracked {
    std::atomic<int>* alive;
    explicit tracked(std::atomic<int>* a) : alive(a) { ++*alive; }
    tracked(const tracked& o) : alive(o.alive) { ++*alive; }
    ~tracked() { --*alive; }
  };
  std::atomic<int> alive{0};
  lf::trace_recorder trace;
  auto f = lf::flow<"f">(lf::step<"stubborn">([&](lf::step_context& ctx) {
                           // Ignores the token; the test lets it go once the timeout has stopped it.
                           while (!ctx.stop_requested()) std::this_thread::yield();
                           while (!release) std::this_thread::yield();
                           returned = true;
                           return tracked(&alive);
                         }).timeout(10ms));
  auto handle = pool.submit(f, lf::observe(trace));
  // The run does not end while the body runs, even though the timeout has passed.
  for (int i = 0; i != 100; ++i) {
    CHECK_FALSE(handle.done());
    std::this_thread::yield();
  }
  release = true;
  auto r = handle.get();
  CHECK(returned);
  CHECK(r.status("stubborn") == lf::step_status::timed_out);
  CHECK(alive == 0);  // the output it returned late was destroyed
  REQUIRE(trace.slices().size() == 1);
  CHECK(trace.slices()[0].status == lf::step_status::timed_out);
}

TEST_CASE("a timed-out attempt is retried when the retry policy allows", "[timeout][retry]") {
  lf::executor pool{2};
  auto f = lf::flow<"f">(lf::step<"x">([](lf::step_context& ctx) {
                           if (ctx.attempt() < 3) return wait_for_stop(ctx) - 100;  // times out
                           return static_cast<int>(ctx.attempt());
                         })
                             .timeout(10ms)
                             .retry(lf::retry{3}));
  auto r = pool.run(f);
  REQUIRE(r.ok());
  CHECK(r.get<"x">() == 3);
  CHECK(r.step("x").attempts == 3);

  // never_on<timeout_error>: not retried.
  auto g = lf::flow<"g">(lf::step<"x">(wait_for_stop).timeout(5ms).retry(lf::retry{3}.never_on<lf::timeout_error>()));
  auto rg = pool.run(g);
  CHECK(rg.status("x") == lf::step_status::timed_out);
  CHECK(rg.step("x").attempts == 1);
}

TEST_CASE("a flow's default timeout applies to steps without their own", "[timeout]") {
  lf::executor pool{2};
  auto f = lf::flow<"f">(lf::step<"a">(wait_for_stop), lf::step<"b">([] { return 1; }).timeout(1h)).timeout(10ms);
  auto r = pool.run(f);
  CHECK(r.status("a") == lf::step_status::timed_out);
  CHECK(r.status("b") == lf::step_status::succeeded);

  lf::runtime_flow rf{"rf"};
  rf.timeout(10ms);
  rf.add("a", [](lf::context& ctx) { return wait_for_stop(ctx); });
  const lf::key<int> k{"k"};
  rf.add("w", [&](lf::context& ctx) {
      ctx.set(k, 1);
      return wait_for_stop(ctx);
    });
  auto rr = pool.run(rf);
  CHECK(rr.status("a") == lf::step_status::timed_out);
  CHECK(rr.status("w") == lf::step_status::timed_out);
  CHECK(rr.end_values(k).empty());  // a timed-out step's writes are discarded
}

TEST_CASE("a run past its run_timeout is cancelled and says so", "[timeout][run]") {
  lf::executor pool{2};
  std::atomic<int> later{0};
  auto f = lf::flow<"f">(lf::step<"wait">(wait_for_stop), lf::step<"later", "wait">([&](int) { ++later; }));
  auto r = pool.run(f, lf::run_timeout{20ms});
  CHECK(r.timed_out());
  CHECK_FALSE(r.ok());
  CHECK(r.status("later") == lf::step_status::cancelled);
  CHECK(later == 0);
  CHECK(contains(r.error_message(), "the run timed out"));

  // A run that ends in time is not timed out (its deadline is withdrawn).
  auto quick = pool.run(lf::flow<"q">(lf::step<"a">([] { return 1; })), lf::run_timeout{1h});
  CHECK(quick.ok());
  CHECK_FALSE(quick.timed_out());

  lf::runtime_flow rf{"rf"};
  rf.add("wait", [](lf::context& ctx) { return wait_for_stop(ctx); });
  auto rr = pool.run(rf, lf::run_timeout{20ms});
  CHECK(rr.timed_out());
}

TEST_CASE("cancelling a run reaches the stop token of a step with a timeout", "[timeout][cancel]") {
  std::atomic<bool> started{false};
  lf::executor pool{2};
  auto f = lf::flow<"f">(lf::step<"x">([&](lf::step_context& ctx) {
                           started = true;
                           return wait_for_stop(ctx);  // would wait an hour if the cancellation did not reach it
                         }).timeout(1h));
  auto handle = pool.submit(f);
  while (!started) std::this_thread::yield();
  handle.cancel();
  auto r = handle.get();
  CHECK(r.status("x") == lf::step_status::succeeded);  // it returned before its timeout
  CHECK(r.get<"x">() == 1);                          // having seen the stop request
}

TEST_CASE("destroying an executor while a step with a timeout runs ends cleanly", "[timeout][shutdown]") {
  std::atomic<bool> started{false};
  std::atomic<int> seen{-1};
  auto f = lf::flow<"f">(lf::step<"x">([&](lf::step_context& ctx) {
                           started = true;
                           seen = wait_for_stop(ctx);  // would wait an hour if the shutdown did not reach it
                         }).timeout(1h));
  std::optional<decltype(std::declval<lf::executor&>().submit(f))> handle;  // outlives the executor
  {
    lf::executor pool{2};
    handle.emplace(pool.submit(f));
    while (!started) std::this_thread::yield();
  }  // the executor's destructor cancels the run and waits for it
  CHECK(seen == 1);
  CHECK(handle->done());
  CHECK(handle->get().status("x") == lf::step_status::succeeded);
}

TEST_CASE("error_message counts every step once, whatever the mix of failures and timeouts", "[timeout][result]") {
  lf::executor pool{4};
  auto bad = [] { return lf::step<"bad">([]() -> int { throw std::runtime_error("broken"); }); };
  {  // one timed out: named, not counted again
    auto r = pool.run(lf::flow<"a">(lf::step<"slow">(wait_for_stop).timeout(20ms)));
    CHECK(r.error_message() == "lightflow: flow \"a\": step \"slow\" timed out after 20 ms");
  }
  {  // two timed out: the first named, the other counted
    auto r = pool.run(lf::flow<"b">(lf::step<"slow">(wait_for_stop).timeout(20ms),
                                    lf::step<"slower">(wait_for_stop).timeout(40ms)));
    const std::string m = r.error_message();
    CHECK(contains(m, ": step \"slow\" timed out after 20 ms; 1 other step timed out"));
    CHECK_FALSE(contains(m, "2 steps"));
    CHECK_FALSE(contains(m, "(and"));
  }
  {  // a failure first, then a timeout
    auto r = pool.run(lf::flow<"c">(bad(), lf::step<"slow">(wait_for_stop).timeout(20ms)));
    CHECK(r.error_message() == "lightflow: flow \"c\": step \"bad\" failed: broken; 1 step timed out");
  }
  {  // two failures and a timeout
    auto r = pool.run(lf::flow<"d">(bad(), lf::step<"worse">([]() -> int { throw std::runtime_error("worse"); }),
                                    lf::step<"slow">(wait_for_stop).timeout(20ms)));
    const std::string m = r.error_message();
    CHECK(contains(m, " (and 1 other step failed); 1 step timed out"));
    CHECK_FALSE(contains(m, "2 other"));
  }
}

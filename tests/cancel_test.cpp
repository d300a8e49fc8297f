// Cancelling runs: through a handle, through a std::stop_token, and by destroying the executor;
// each scenario through a static flow and a runtime flow of the same shape.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using two_kinds::runtime_flows;
using two_kinds::static_flows;
using namespace std::chrono_literals;

namespace {

// A step that signals it started, then waits until its run is cancelled.
struct wait_for_cancel {
  std::atomic<bool>* started;
  bool operator()(lf::step_context& ctx) const {
    started->store(true);
    const auto token = ctx.stop_token();
    while (!token.stop_requested()) std::this_thread::sleep_for(100us);
    return ctx.stop_requested();
  }
};

void wait_until(const std::atomic<bool>& flag) {
  while (!flag.load()) std::this_thread::sleep_for(100us);
}

/// long -> after (-> after2): `long` waits for its run's cancellation; the others count their calls.
template <class Kind, lf::fixed_string Name>
auto make_long_then_after(std::atomic<bool>& started, std::atomic<int>& later_ran, bool second) {
  if constexpr (Kind::is_static) {
    return lf::flow<Name>(lf::step<"long">(wait_for_cancel{&started}),
                          lf::step<"after", "long">([&](bool) { return ++later_ran; }),
                          lf::step<"after2", "after">([&](int) { return ++later_ran; }));
  } else {
    lf::runtime_flow f{std::string(Name.view())};
    f.add("long", wait_for_cancel{&started});
    f.add("after", [&] { return ++later_ran; }).after("long");
    if (second) f.add("after2", [&] { return ++later_ran; }).after("after");
    return f;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cancelling through the handle stops running steps and cancels the rest", "[cancel]", static_flows,
                   runtime_flows) {
  lf::executor pool{2};
  std::atomic<bool> started{false};
  std::atomic<int> later_ran{0};
  auto f = make_long_then_after<TestType, "cancel">(started, later_ran, true);
  for (int r = 0; r != 20; ++r) {
    started = false;
    auto handle = pool.submit(f);
    wait_until(started);
    handle.cancel();
    auto result = handle.get();
    CHECK(result.status("long") == lf::step_status::succeeded);
    CHECK(two_kinds::value_of<"long", bool>(result));  // it saw the request through its context too
    CHECK(result.status("after") == lf::step_status::cancelled);
    CHECK(result.status("after2") == lf::step_status::cancelled);
    CHECK(result.cancelled());
    CHECK_FALSE(result.ok());
    CHECK(result.error_message() == "lightflow: flow \"cancel\": the run was cancelled; 2 steps cancelled");
  }
  CHECK(later_ran == 0);
}

TEMPLATE_TEST_CASE("a std::stop_token passed to run cancels it", "[cancel]", static_flows, runtime_flows) {
  lf::executor pool{2};
  std::atomic<bool> started{false};
  std::atomic<int> later_ran{0};
  auto f = make_long_then_after<TestType, "token">(started, later_ran, false);
  std::stop_source source;
  std::jthread stopper([&] {
    wait_until(started);
    source.request_stop();
  });
  auto result = pool.run(f, source.get_token());
  CHECK(result.status("long") == lf::step_status::succeeded);
  CHECK(result.status("after") == lf::step_status::cancelled);
  CHECK(later_ran == 0);
}

TEMPLATE_TEST_CASE("a run whose token is already stopped runs nothing", "[cancel]", static_flows, runtime_flows) {
  lf::executor pool{1};
  std::atomic<int> ran{0};
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"stopped">(lf::step<"a">([&](int x) { return ran += x; }),
                                 lf::step<"b", "a">([&](int) { return ++ran; }));
    } else {
      lf::runtime_flow g{"stopped"};
      g.add("a", [&](lf::context& ctx) { return ran += ctx.get(two_kinds::input_key); });
      g.add("b", [&] { return ++ran; }).after("a");
      return g;
    }
  }();
  std::stop_source source;
  source.request_stop();
  auto result = pool.run(f, two_kinds::input<TestType>(5), source.get_token());
  CHECK(result.status("a") == lf::step_status::cancelled);
  CHECK(result.status("b") == lf::step_status::cancelled);
  CHECK(ran == 0);
}

TEMPLATE_TEST_CASE("a step's stop token works with std::stop_callback", "[cancel]", static_flows, runtime_flows) {
  lf::executor pool{2};
  std::atomic<bool> started{false};
  std::atomic<int> callbacks{0};
  auto body = [&](lf::step_context& ctx) {
    std::stop_callback on_stop(ctx.stop_token(), [&] { ++callbacks; });
    started = true;
    while (!ctx.stop_requested()) std::this_thread::sleep_for(100us);
  };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"callback">(lf::step<"s">(body));
    } else {
      lf::runtime_flow g{"callback"};
      g.add("s", body);
      return g;
    }
  }();
  auto handle = pool.submit(f);
  wait_until(started);
  handle.cancel();
  handle.wait();
  CHECK(handle.done());
  CHECK(callbacks == 1);
}

TEMPLATE_TEST_CASE("destroying an executor cancels the runs in flight and waits for them", "[cancel][shutdown]",
                   static_flows, runtime_flows) {
  auto pool = std::make_unique<lf::executor>(2);
  std::atomic<bool> started{false};
  std::atomic<int> later_ran{0};
  auto f = make_long_then_after<TestType, "shutdown">(started, later_ran, false);
  auto handle = pool->submit(f);
  auto other = pool->submit(f);  // may start, or be cancelled before it starts
  wait_until(started);
  pool.reset();  // must neither hang nor crash
  auto result = handle.get();
  CHECK(result.status("after") == lf::step_status::cancelled);
  auto second = other.get();
  CHECK(second.status("after") == lf::step_status::cancelled);
  CHECK(later_ran == 0);
}

TEMPLATE_TEST_CASE("destroying an idle executor returns at once", "[shutdown]", static_flows, runtime_flows) {
  for (int i = 0; i != 20; ++i) {
    lf::executor pool{3};
    auto f = [] {
      if constexpr (TestType::is_static) {
        return lf::flow<"tiny">(lf::step<"a">([] { return 1; }));
      } else {
        lf::runtime_flow g{"tiny"};
        g.add("a", [] { return 1; });
        return g;
      }
    }();
    CHECK(two_kinds::value_of<"a", int>(pool.run(f)) == 1);
  }
}

// Concurrency limits (limit.hpp): `.concurrency(n)` and a shared `lf::limit` bound how many steps run
// at once across runs and flows, a waiting step holds no worker, and a run that is cancelled,
// stopped or paused neither loses a slot nor keeps others waiting. Every scenario runs through a
// static and a runtime flow.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {

// Counts how many steps are inside at once, and the most seen.
struct gauge {
  std::atomic<int> inside{0}, most{0}, calls{0};
  void enter() {
    const int now = ++inside;
    int m = most.load();
    while (now > m && !most.compare_exchange_weak(m, now)) {
    }
    ++calls;
  }
  void leave() { --inside; }
};

using two_kinds::submit;
using two_kinds::wait_for;

// A step body that holds its slot until `open` (or until `most` reached `want`, when `want` > 0).
struct holder {
  gauge& g;
  std::atomic<bool>* open = nullptr;
  int want = 0;
  int operator()() const {
    g.enter();
    if (open != nullptr) (void)wait_for([this] { return open->load(); });
    if (want > 0) (void)wait_for([this] { return g.most.load() >= want; });
    std::this_thread::sleep_for(1ms);
    g.leave();
    return 1;
  }
};

// Flow "one": step "s" under limit `l`, then "after" (ordering only).
template <class Kind>
auto limited_step(holder body, const lf::limit& l) {
  auto after = [] { return 2; };
  if constexpr (Kind::is_static) {
    return lf::flow<"one">(lf::step<"s">(body).limit(l), lf::step<"after">(after).template after<"s">());
  } else {
    lf::runtime_flow f{"one"};
    f.add("s", body).limit(l);
    f.add("after", after).after("s");
    return f;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("a step's own concurrency holds across the runs of its flow", "[limit]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  gauge g, free_steps;
  const holder call{g, nullptr, 2}, other{free_steps};
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"api">(lf::step<"call">(call).concurrency(2), lf::step<"other">(other));
    } else {
      lf::runtime_flow f{"api"};
      f.add("call", call).concurrency(2);
      f.add("other", other);
      return f;
    }
  }();
  lf::executor pool{4};
  std::vector<decltype(submit<TestType>(pool, flow))> runs;
  for (int i = 0; i != 12; ++i) runs.push_back(submit<TestType>(pool, flow));
  for (auto& r : runs) CHECK(r.get().ok());
  CHECK(g.calls == 12);
  CHECK(g.most == 2);  // never more, and reached: each call waits until two are inside
  CHECK(free_steps.calls == 12);
}

TEMPLATE_TEST_CASE("a shared limit spans steps, runs and flows, merged ones too", "[limit]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  gauge g;
  const lf::limit one{1};
  const holder body{g};
  auto flows = [&] {
    if constexpr (TestType::is_static) {
      const auto a = lf::flow<"a">(lf::step<"x">(body).limit(one), lf::step<"y">(body).limit(one));
      const auto b = lf::flow<"b">(lf::step<"z">(body).limit(one), lf::step<"w">(body).limit(one));
      return std::pair{a, lf::merge<"m">(b)};
    } else {
      lf::runtime_flow a{"a"}, b{"b"}, m{"m"};
      a.add("x", body).limit(one);
      a.add("y", body).limit(one);
      b.add("z", body).limit(one);
      b.add("w", body).limit(one);
      m.merge(b);
      return std::pair{std::move(a), std::move(m)};
    }
  }();
  lf::executor pool{4};
  std::vector<decltype(submit<TestType>(pool, flows.first))> as;
  std::vector<decltype(submit<TestType>(pool, flows.second))> ms;
  for (int i = 0; i != 6; ++i) {
    as.push_back(submit<TestType>(pool, flows.first));
    ms.push_back(submit<TestType>(pool, flows.second));
  }
  for (auto& r : as) CHECK(r.get().ok());
  for (auto& r : ms) {
    const auto result = r.get();
    CHECK(result.ok());
    CHECK(result.status("b.z") == lf::step_status::succeeded);
  }
  CHECK(g.calls == 24);
  CHECK(g.most == 1);
  CHECK(one.held() == 0);
  CHECK(one.waiting() == 0);
}

TEMPLATE_TEST_CASE("a step that waits for a slot holds no worker", "[limit]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  // Three workers: one runs the holder; the waiting step must leave the other two free for the two
  // steps that only finish together.
  gauge held, waited;
  std::atomic<bool> open{false};
  std::atomic<int> met{0};
  const lf::limit one{1};
  auto meet = [&met] {
    ++met;
    return wait_for([&met] { return met.load() >= 2; }) ? 1 : 0;
  };
  const auto first = limited_step<TestType>(holder{held, &open}, one);
  auto second = [&] {
    const holder body{waited};
    if constexpr (TestType::is_static) {
      return lf::flow<"two">(lf::step<"s">(body).limit(one), lf::step<"p">(meet), lf::step<"q">(meet));
    } else {
      lf::runtime_flow f{"two"};
      f.add("s", body).limit(one);
      f.add("p", meet);
      f.add("q", meet);
      return f;
    }
  }();
  lf::executor pool{3};
  auto h = submit<TestType>(pool, first);
  REQUIRE(wait_for([&] { return held.inside.load() == 1; }));
  auto w = submit<TestType>(pool, second);
  CHECK(wait_for([&] { return met.load() == 2 && one.waiting() == 1; }));
  CHECK(waited.calls == 0);  // still waiting while the others ran
  open = true;
  const auto r = w.get();
  CHECK(r.ok());
  CHECK(two_kinds::value_of<"p", int>(r) == 1);  // the two met: neither timed out waiting for the other
  CHECK(two_kinds::value_of<"q", int>(r) == 1);
  CHECK(h.get().ok());
  CHECK(waited.calls == 1);
}

TEMPLATE_TEST_CASE("a waiting step of a cancelled, stopped or timed-out run ends at once", "[limit]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  gauge held, waited;
  std::atomic<bool> open{false};
  const lf::limit one{1};
  const auto hold = limited_step<TestType>(holder{held, &open}, one);
  const auto wait = limited_step<TestType>(holder{waited}, one);
  lf::executor pool{2};
  auto h = submit<TestType>(pool, hold);
  REQUIRE(wait_for([&] { return held.inside.load() == 1; }));

  SECTION("cancelled") {
    auto w = submit<TestType>(pool, wait);
    REQUIRE(wait_for([&] { return one.waiting() == 1; }));
    w.cancel();
    const auto r = w.get();  // while the holder still holds the slot
    CHECK(r.status("s") == lf::step_status::cancelled);
    CHECK(r.status("after") == lf::step_status::cancelled);
  }
  SECTION("stopped") {
    auto w = submit<TestType>(pool, wait);
    REQUIRE(wait_for([&] { return one.waiting() == 1; }));
    w.stop();
    const auto r = w.get();
    CHECK(r.stopped());
    CHECK(r.status("s") == lf::step_status::stopped);
  }
  SECTION("timed out") {
    const auto r = submit<TestType>(pool, wait, lf::run_timeout{20ms}).get();
    CHECK(r.timed_out());
    CHECK(r.status("s") == lf::step_status::cancelled);
  }
  CHECK(held.inside == 1);
  CHECK(one.waiting() == 0);
  CHECK(waited.calls == 0);
  open = true;
  CHECK(h.get().ok());
  CHECK(one.held() == 0);
}

TEMPLATE_TEST_CASE("a slot handed to a step of a paused run waits with it, and a cancellation gives it back", "[limit]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  gauge held, waited, third;
  std::atomic<bool> open{false};
  const lf::limit one{1};
  const auto hold = limited_step<TestType>(holder{held, &open}, one);
  const auto wait = limited_step<TestType>(holder{waited}, one);
  const auto later = limited_step<TestType>(holder{third}, one);
  lf::executor pool{2};
  auto h = submit<TestType>(pool, hold);
  REQUIRE(wait_for([&] { return held.inside.load() == 1; }));
  auto w = submit<TestType>(pool, wait);
  REQUIRE(wait_for([&] { return one.waiting() == 1; }));
  w.pause();
  open = true;
  CHECK(h.get().ok());
  // The holder's slot went to the paused run's step, which waits for resume() with it.
  REQUIRE(wait_for([&] { return w.waiting() == 1; }));
  CHECK(one.held() == 1);
  CHECK(one.waiting() == 0);
  auto l = submit<TestType>(pool, later);
  REQUIRE(wait_for([&] { return one.waiting() == 1; }));
  CHECK(third.calls == 0);
  w.cancel();  // the slot passes on to the third run's step
  const auto r = w.get();
  CHECK(r.status("s") == lf::step_status::cancelled);
  CHECK(waited.calls == 0);
  CHECK(l.get().ok());
  CHECK(third.calls == 1);
  CHECK(one.held() == 0);
}

TEMPLATE_TEST_CASE("a limited step that fails frees its slot after its last attempt", "[limit]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  gauge g;
  std::atomic<int> attempts{0};
  auto boom = [&]() -> int {
    g.enter();
    ++attempts;
    std::this_thread::sleep_for(1ms);
    g.leave();
    throw std::runtime_error("the service said no");
  };
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"f">(lf::step<"boom">(boom).concurrency(1).retry(lf::retry{2}));
    } else {
      lf::runtime_flow f{"f"};
      f.add("boom", boom).concurrency(1).retry(lf::retry{2});
      return f;
    }
  }();
  lf::executor pool{3};
  std::vector<decltype(submit<TestType>(pool, flow))> runs;
  for (int i = 0; i != 5; ++i) runs.push_back(submit<TestType>(pool, flow));
  for (auto& r : runs) {
    const auto result = r.get();
    CHECK(result.status("boom") == lf::step_status::failed);
    CHECK(std::string(result.error_message()).find("the service said no") != std::string::npos);
  }
  CHECK(attempts == 10);
  CHECK(g.most == 1);
}

TEST_CASE("a limit lets at least one step run at once", "[limit]") {
  CHECK_THROWS_AS(lf::limit{0}, lf::usage_error);
  CHECK_THROWS_WITH(lf::limit{0}, Catch::Matchers::Contains("at least 1 step run at once, not 0"));
  CHECK_THROWS_AS(lf::step<"x">([] { return 1; }).concurrency(0), lf::usage_error);
  lf::runtime_flow f{"f"};
  CHECK_THROWS_AS(f.add("x", [] { return 1; }).concurrency(0), lf::usage_error);
  const lf::limit three{3};
  const lf::limit copy = three;  // copies share one limit
  CHECK(copy.capacity() == 3);
  CHECK(copy.held() == 0);
}

// Control of a running flow: pause (running steps finish, no other starts), resume, stop (steps not
// started are marked stopped; a checkpointed run resumes later); a paused run ends when cancelled or
// when its executor is destroyed.
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "catch.hpp"

namespace lf = lightflow;

namespace {
// a (held until the test lets it go) -> b -> c, each counting its runs.
struct gate_flow {
  std::atomic<bool> a_started{false}, release_a{false};
  std::atomic<int> ran_a{0}, ran_b{0}, ran_c{0};
  auto make() {
    return lf::flow<"ctl">(lf::step<"a">([this] {
                             a_started = true;
                             while (!release_a) std::this_thread::yield();
                             ++ran_a;
                             return 1;
                           }),
                           lf::step<"b", "a">([this](int v) { ++ran_b; return v + 1; }),
                           lf::step<"c", "b">([this](int v) { ++ran_c; return v + 1; }));
  }
};

template <class Handle>
void wait_until_waiting(const Handle& h, std::size_t n) {
  while (h.waiting() < n) std::this_thread::yield();
}
}  // namespace

TEST_CASE("a paused run lets running steps finish and starts no other until resumed", "[control]") {
  gate_flow g;
  const auto f = g.make();
  lf::executor pool{2};
  auto handle = pool.submit(f);
  while (!g.a_started) std::this_thread::yield();
  handle.pause();
  CHECK(handle.paused());
  g.release_a = true;          // a finishes while the run is paused
  wait_until_waiting(handle, 1);  // b became ready and waits
  CHECK(g.ran_a == 1);
  CHECK(g.ran_b == 0);
  CHECK_FALSE(handle.done());
  handle.resume();
  auto r = handle.get();
  REQUIRE(r.ok());
  CHECK(r.get<"c">() == 3);
  CHECK(g.ran_b == 1);
  CHECK(g.ran_c == 1);
}

TEST_CASE("stopping a paused run marks the steps not started stopped", "[control]") {
  gate_flow g;
  const auto f = g.make();
  lf::executor pool{2};
  auto handle = pool.submit(f);
  while (!g.a_started) std::this_thread::yield();
  handle.pause();
  g.release_a = true;
  wait_until_waiting(handle, 1);
  handle.stop();
  auto r = handle.get();
  CHECK(r.stopped());
  CHECK(r.status("a") == lf::step_status::succeeded);
  CHECK(r.status("b") == lf::step_status::stopped);
  CHECK(r.status("c") == lf::step_status::stopped);
  CHECK(g.ran_b + g.ran_c == 0);
  CHECK(r.error_message() == "lightflow: flow \"ctl\": the run was stopped; 2 steps stopped");
}

TEST_CASE("a stopped run with a checkpoint resumes later without running what finished", "[control][checkpoint]") {
  gate_flow g;
  const auto f = g.make();
  lf::memory_store store;
  lf::executor pool{2};
  auto handle = pool.submit(f, lf::checkpoint{store, "ctl-1"});
  while (!g.a_started) std::this_thread::yield();
  handle.pause();
  g.release_a = true;
  wait_until_waiting(handle, 1);
  handle.stop();
  CHECK(handle.get().stopped());
  auto resumed = pool.resume(f, lf::checkpoint{store, "ctl-1"});
  REQUIRE(resumed.ok());
  CHECK(resumed.get<"c">() == 3);
  CHECK(g.ran_a == 1);  // restored
  CHECK(g.ran_b == 1);
  CHECK(g.ran_c == 1);
}

TEST_CASE("cancelling a paused run ends it", "[control]") {
  gate_flow g;
  const auto f = g.make();
  lf::executor pool{2};
  auto handle = pool.submit(f);
  while (!g.a_started) std::this_thread::yield();
  handle.pause();
  g.release_a = true;
  wait_until_waiting(handle, 1);
  handle.cancel();  // would hang in get() if the waiting step were not handed back
  auto r = handle.get();
  CHECK(r.status("b") == lf::step_status::cancelled);
  CHECK(r.status("c") == lf::step_status::cancelled);
}

TEST_CASE("destroying an executor with a paused run ends the run", "[control][shutdown]") {
  gate_flow g;
  const auto f = g.make();
  std::optional<decltype(std::declval<lf::executor&>().submit(f))> handle;  // outlives the executor
  {
    lf::executor pool{2};
    handle.emplace(pool.submit(f));
    while (!g.a_started) std::this_thread::yield();
    handle->pause();
    g.release_a = true;
    wait_until_waiting(*handle, 1);
  }
  CHECK(handle->done());
  auto r = handle->get();
  CHECK(r.status("b") == lf::step_status::cancelled);
}

TEST_CASE("a runtime flow's run pauses and resumes too", "[control][runtime]") {
  std::atomic<bool> started{false}, release{false};
  std::atomic<int> after{0};
  lf::runtime_flow f{"rt"};
  f.add("a", [&] {
    started = true;
    while (!release) std::this_thread::yield();
  });
  f.add("b", [&] { ++after; }).after("a");
  lf::executor pool{2};
  auto handle = pool.submit(f);
  while (!started) std::this_thread::yield();
  handle.pause();
  release = true;
  wait_until_waiting(handle, 1);
  CHECK(after == 0);
  handle.resume();
  CHECK(handle.get().ok());
  CHECK(after == 1);
}

// Every control call is safe at any moment of a run's life, including as it ends and after: a pause
// racing the run's end once registered an ended run with the executor (a use after free, and a hang
// in ~executor). 20,000 rounds, the mixes in turn, static and runtime flows alternately; CI runs it under ASan and TSan.
TEST_CASE("control calls racing the end of their run: 20,000 rounds", "[control][stress]") {
  const auto sf = lf::flow<"race">(lf::step<"a">([] { return 1; }), lf::step<"b", "a">([](int v) { return v + 1; }));
  lf::runtime_flow rf{"race"};
  rf.add("a", [] { return 1; });
  rf.add("b", [](lf::context& ctx) { return ctx.result<int>("a") + 1; }).after("a");
  // Each mix ends with a call that lets a paused run finish (resume, stop or cancel).
  enum mix { pause_resume, pause_stop, pause_cancel, stop_only, cancel_only, twice, mixes };
  auto drive = [](auto& h, int m) {
    switch (m) {
      case pause_resume: h.pause(); h.resume(); break;
      case pause_stop: h.pause(); h.stop(); break;
      case pause_cancel: h.pause(); h.cancel(); break;
      case stop_only: h.stop(); break;
      case cancel_only: h.cancel(); break;
      default: h.pause(); h.resume(); h.pause(); (void)h.paused(); (void)h.waiting(); h.resume(); break;
    }
  };
  int ok = 0, ended_early = 0;
  for (int round = 0; round != 4; ++round) {  // a fresh executor now and then: ~executor must not hang
    lf::executor pool{2};
    for (int i = 0; i != 5000; ++i) {
      const int m = i % mixes;
      if (i % 2 == 0) {
        auto h = pool.submit(sf);
        drive(h, m);
        h.wait();
        drive(h, m);  // after the end: does nothing
        auto r = h.get();
        (r.ok() ? ok : ended_early)++;
        if (r.ok()) CHECK(r.get<"b">() == 2);
      } else {
        auto h = pool.submit(rf);
        drive(h, m);
        h.wait();
        drive(h, m);
        auto r = h.get();
        (r.ok() ? ok : ended_early)++;
        if (r.ok()) CHECK(r.get<int>("b") == 2);
      }
    }
  }
  CHECK(ok + ended_early == 20000);
  CHECK(ok > 0);
}

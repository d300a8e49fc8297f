// Subflows (subflow.hpp): a flow run as a step of another, its steps expanded into the run as
// "<subflow>.<step>". Results by name, typed; the subflow's step after all of them; failures with
// the inner failure as cause; cancellation, run time limits and process stops reaching inner steps;
// checkpoints resumed inside the subflow. Every scenario runs through a static and a runtime flow,
// each with a subflow of its own kind and (runtime) of the other kind too.
#include <lightflow/lightflow.hpp>
#include <lightflow/subflow.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {

using two_kinds::run;
using two_kinds::submit;
using two_kinds::value_of;
using two_kinds::wait_for;

// The order in which steps ended: each step takes the next number as it ends.
struct sequence {
  std::atomic<int> next{0};
  int take() { return next.fetch_add(1); }
};

// "parse": "read" takes what it is offered (the run's input alone; the subflow's dependency's output
// in a subflow) and doubles it, "check" adds 1 to read's, "other" takes nothing. Each notes when it
// ended in `order[0..2]`.
template <class Kind>
auto parse_flow(sequence& seq, std::vector<int>& order) {
  auto note = [&seq, &order](int at) { order[static_cast<std::size_t>(at)] = seq.take(); };
  if constexpr (Kind::is_static) {
    return lf::flow<"parse">(lf::step<"read">([note](int n) { return note(0), n * 2; }),
                             lf::step<"check", "read">([note](int v) { return note(1), v + 1; }),
                             lf::step<"other">([note] { return note(2), 5; }));
  } else {
    lf::runtime_flow f{"parse"};
    // In a subflow, "list" is found in the flow around it (a step's reads look in its namespaces).
    f.add("read", [note](lf::context& ctx) { return note(0), ctx.result<int>("list") * 2; });
    f.add("check", [note](lf::context& ctx) { return note(1), ctx.result<int>("read") + 1; }).after("read");
    f.add("other", [note] { return note(2), 5; });
    return f;
  }
}

// "nightly": "list" (20), subflow "files" of `inner` after it, "report" after "files", taking
// "files.check"'s output.
template <class Kind, class Inner>
auto nightly(const Inner& inner, sequence& seq, int& report_at) {
  if constexpr (Kind::is_static) {
    return lf::flow<"nightly">(lf::step<"list">([] { return 20; }), lf::subflow<"files", "list">(inner),
                               lf::step<"report", "files.check">([&](int v) { return report_at = seq.take(), v * 10; })
                                   .template after<"files">());
  } else {
    lf::runtime_flow f{"nightly"};
    auto list = f.add("list", [] { return 20; });
    auto files = f.subflow("files", inner).after(list);
    f.add("report", [&](lf::context& ctx) { return report_at = seq.take(), ctx.result<int>("files.check") * 10; })
        .after(files);
    return f;
  }
}

// The subflow_error that step `name` of `r` failed with.
template <class Result>
lf::subflow_error subflow_error_of(const Result& r, std::string_view name) {
  try {
    std::rethrow_exception(r.step(name).error);
  } catch (const lf::subflow_error& e) {
    return e;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("a subflow's steps run in the run, typed, named \"<subflow>.<step>\", before its own step",
                   "[subflow]", two_kinds::static_flows, two_kinds::runtime_flows) {
  sequence seq;
  std::vector<int> order(3, -1);
  int report_at = -1;
  const auto flow = nightly<TestType>(parse_flow<TestType>(seq, order), seq, report_at);
  std::ostringstream text;
  text << flow;
  // The subflow's step runs after the subflow's last steps; its first steps after its dependency.
  CHECK(text.str().find("files <- files.check, files.other") != std::string::npos);
  CHECK(text.str().find("files.read <- list") != std::string::npos);

  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(value_of<"files.read", int>(r) == 40);  // offered "list"'s output
  CHECK(value_of<"files.check", int>(r) == 41);
  CHECK(value_of<"files.other", int>(r) == 5);
  CHECK(value_of<"report", int>(r) == 410);
  CHECK(r.status("files") == lf::step_status::succeeded);
  for (int at : order) CHECK((at >= 0 && at < report_at));  // "report" waited for every step of the subflow
}

TEST_CASE("a runtime flow takes a static flow as a subflow, its first steps offered the run's values", "[subflow]") {
  std::atomic<bool> first_done{false}, base_after_first{false};
  auto inner = lf::flow<"sums">(lf::step<"base">([&](const lf::values& in) {
                                  base_after_first = first_done.load();
                                  return *in.find(two_kinds::input_key) + 1;
                                }),
                                lf::step<"twice", "base">([](int b) { return b * 2; }));
  lf::runtime_flow f{"outer"};
  auto first = f.add("first", [&] { first_done = true; });
  f.subflow("typed", inner).after(first);
  f.add("last", [](lf::context& ctx) { return ctx.result<int>("typed.twice") + 1; }).after("typed");
  lf::executor pool{2};
  const auto r = pool.run(f, two_kinds::input<two_kinds::runtime_flows>(4));
  REQUIRE(r.ok());
  CHECK(r.get<int>("typed.twice") == 10);
  CHECK(r.get<int>("last") == 11);
  CHECK(base_after_first);  // its first step ran after the subflow's dependency
}

namespace {
// "top": subflow "mid" of "leaf" ("x" throws, "y" after x, "z" alone), and "after" after "top".
template <class Kind>
auto nested(std::atomic<int>& z_ran) {
  auto boom = []() -> int { throw std::runtime_error("boom"); };
  auto z = [&z_ran] { return ++z_ran; };
  if constexpr (Kind::is_static) {
    auto leaf = lf::flow<"leaf">(lf::step<"x">(boom), lf::step<"y", "x">([](int v) { return v; }), lf::step<"z">(z));
    auto mid = lf::flow<"mid">(lf::subflow<"mid">(leaf));
    return lf::flow<"top">(lf::subflow<"top">(mid), lf::step<"after">([] {}).template after<"top">());
  } else {
    lf::runtime_flow leaf{"leaf"};
    leaf.add("x", boom);
    leaf.add("y", [](lf::context& ctx) { return ctx.result<int>("x"); }).after("x");
    leaf.add("z", z);
    lf::runtime_flow mid{"mid"};
    mid.subflow("mid", leaf);
    lf::runtime_flow top{"top"};
    top.add("after", [] {}).after(top.subflow("top", mid));
    return top;
  }
}
}  // namespace

TEMPLATE_TEST_CASE("a subflow whose step failed fails with a subflow_error naming that step and keeping its error",
                   "[subflow]", two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<int> z_ran{0};
  const auto flow = nested<TestType>(z_ran);
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  CHECK_FALSE(r.ok());
  CHECK(r.status("top.mid.x") == lf::step_status::failed);
  CHECK(r.status("top.mid.y") == lf::step_status::skipped);
  CHECK(r.status("top.mid.z") == lf::step_status::succeeded);  // the rest of the subflow still ran
  CHECK(z_ran == 1);
  // Both subflows' steps failed, each naming the innermost step that failed, not the nested subflow.
  CHECK(r.status("top.mid") == lf::step_status::failed);
  CHECK(r.status("top") == lf::step_status::failed);
  for (const char* name : {"top.mid", "top"}) {
    const lf::subflow_error e = subflow_error_of(r, name);
    CHECK(e.step() == "top.mid.x");
    CHECK(lf::describe(e.cause()) == "boom");
    CHECK(std::string(e.what()) == "lightflow: subflow \"" + std::string(name) + "\": its step \"top.mid.x\" failed: boom");
  }
  CHECK(r.status("after") == lf::step_status::skipped);
}

TEMPLATE_TEST_CASE("a subflow whose dependency failed is skipped, not failed", "[subflow]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  auto broken = []() -> int { throw std::invalid_argument("no list"); };
  std::atomic<int> ran{0};
  auto count = [&ran] { return ++ran; };
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"n">(lf::step<"list">(broken), lf::subflow<"files", "list">(lf::flow<"i">(lf::step<"a">(count))));
    } else {
      lf::runtime_flow inner{"i"};
      inner.add("a", count);
      lf::runtime_flow f{"n"};
      f.add("list", broken);
      f.subflow("files", inner).after("list");
      return f;
    }
  }();
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  CHECK(r.status("files.a") == lf::step_status::skipped);
  CHECK(r.status("files") == lf::step_status::skipped);
  CHECK(ran == 0);
}

TEMPLATE_TEST_CASE("an empty subflow's step runs after the subflow's dependencies", "[subflow]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<bool> listed{false}, after_list{false};
  auto list = [&listed] { listed = true; };
  auto check = [&] { after_list = listed.load(); };
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"n">(lf::step<"list">(list), lf::subflow<"none", "list">(lf::flow<"e">()),
                           lf::step<"check">(check).template after<"none">());
    } else {
      lf::runtime_flow f{"n"};
      f.add("list", list);
      f.add("check", check).after(f.subflow("none", lf::runtime_flow{"e"}).after("list"));
      return f;
    }
  }();
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(r.status("none") == lf::step_status::succeeded);
  CHECK(after_list);
}

namespace {
// "n": "list", subflow "files" ("wait" runs until its run stops it, noting that it started; "next"
// after it), "report" after "files".
template <class Kind>
auto waiting(std::atomic<bool>& started) {
  auto wait = [&started](lf::step_context& sc) {
    started = true;
    while (!sc.stop_requested()) std::this_thread::sleep_for(1ms);
    return 1;
  };
  if constexpr (Kind::is_static) {
    auto inner = lf::flow<"i">(lf::step<"wait">([wait](int, lf::step_context& sc) { return wait(sc); }),
                               lf::step<"next", "wait">([](int v) { return v; }));
    return lf::flow<"n">(lf::step<"list">([] { return 0; }), lf::subflow<"files", "list">(inner),
                         lf::step<"report">([] {}).template after<"files">());
  } else {
    lf::runtime_flow inner{"i"};
    inner.add("wait", [wait](lf::context& ctx) { return wait(ctx); });
    inner.add("next", [](lf::context& ctx) { return ctx.result<int>("wait"); }).after("wait");
    lf::runtime_flow f{"n"};
    f.add("list", [] { return 0; });
    f.add("report", [] {}).after(f.subflow("files", inner).after("list"));
    return f;
  }
}
}  // namespace

TEMPLATE_TEST_CASE("a run's cancellation and time limit reach the steps of its subflows", "[subflow]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  lf::executor pool{2};
  SECTION("cancelled") {
    std::atomic<bool> started{false};
    const auto flow = waiting<TestType>(started);
    auto handle = submit<TestType>(pool, flow);
    REQUIRE(wait_for([&] { return started.load(); }));
    handle.cancel();  // "wait" returns only once this reaches it
    const auto& r = handle.get();
    CHECK(r.cancelled());
    CHECK(r.status("files.next") == lf::step_status::cancelled);
    CHECK(r.status("files") == lf::step_status::cancelled);
    CHECK(r.status("report") == lf::step_status::cancelled);
  }
  SECTION("stopped") {
    std::atomic<bool> started{false};
    const auto flow = waiting<TestType>(started);
    auto handle = submit<TestType>(pool, flow);
    REQUIRE(wait_for([&] { return started.load(); }));
    handle.stop();
    const auto& r = handle.get();
    CHECK(r.stopped());
    CHECK(r.status("files.next") == lf::step_status::stopped);
    CHECK(r.status("files") == lf::step_status::stopped);
  }
  SECTION("timed out") {
    std::atomic<bool> started{false};
    const auto r = run<TestType>(pool, waiting<TestType>(started), lf::run_timeout{20ms});
    CHECK(r.timed_out());
    CHECK(started);
    CHECK(r.status("files.next") == lf::step_status::cancelled);
    CHECK(r.status("files") == lf::step_status::cancelled);
  }
}

namespace {
// "n": subflow "files" ("a" runs `slow`, "b" after it), "report" after "files".
template <class Kind, class Slow>
auto held(Slow slow) {
  if constexpr (Kind::is_static) {
    auto inner = lf::flow<"i">(lf::step<"a">(slow), lf::step<"b", "a">([](int v) { return v; }));
    return lf::flow<"n">(lf::subflow<"files">(inner), lf::step<"report">([] {}).template after<"files">());
  } else {
    lf::runtime_flow inner{"i"};
    inner.add("a", slow);
    inner.add("b", [](lf::context& ctx) { return ctx.result<int>("a"); }).after("a");
    lf::runtime_flow f{"n"};
    f.add("report", [] {}).after(f.subflow("files", inner));
    return f;
  }
}
}  // namespace

TEMPLATE_TEST_CASE("a subflow is a namespace: its process can be paused and stopped alone", "[subflow]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<bool> release{false}, started{false};
  auto slow = [&] {
    started = true;
    while (!release) std::this_thread::sleep_for(1ms);
    return 1;
  };
  const auto flow = held<TestType>(slow);
  lf::executor pool{2};
  auto handle = submit<TestType>(pool, flow, lf::process{"files"});
  REQUIRE(wait_for([&] { return started.load(); }));
  handle.pause("files");
  release = true;
  REQUIRE(wait_for([&] { return handle.waiting("files") == 1; }));  // "files.b" is ready and waits
  handle.stop("files");
  const auto& r = handle.get();
  CHECK(r.status("files.a") == lf::step_status::succeeded);
  CHECK(r.status("files.b") == lf::step_status::stopped);
  CHECK(r.status("files") == lf::step_status::stopped);  // stopped as its steps were: a resumed run runs it
  CHECK(r.status("report") == lf::step_status::skipped);
}

TEMPLATE_TEST_CASE("a subflow's process time limit fails the subflow with the step it cancelled", "[subflow]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  // "files.a" runs until its process has timed out (the run tells its observers), so "files.b" is
  // cancelled by the time limit before it can start.
  struct listener : lf::observer {
    std::atomic<bool> timed_out{false};
    void message(const lf::run_event&, lf::log_level, std::string_view text) noexcept override {
      if (text.find("process \"files\" timed out") != std::string_view::npos) timed_out = true;
    }
  } heard;
  auto slow = [&heard] {
    while (!heard.timed_out) std::this_thread::sleep_for(1ms);
    return 1;
  };
  const auto flow = held<TestType>(slow);
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow, lf::process{"files"}.timeout(1ms), lf::observe{heard});
  CHECK(r.timed_out("files"));
  CHECK(r.status("files.a") == lf::step_status::succeeded);
  CHECK(r.status("files.b") == lf::step_status::cancelled);
  REQUIRE(r.status("files") == lf::step_status::failed);
  const lf::subflow_error e = subflow_error_of(r, "files");
  CHECK(e.step() == "files.b");
  CHECK_FALSE(e.cause());
  CHECK(std::string(e.what()) == "lightflow: subflow \"files\": its step \"files.b\" was cancelled");
  CHECK(r.status("report") == lf::step_status::skipped);
}

TEMPLATE_TEST_CASE("a resumed run resumes inside its subflow: only the steps that had not succeeded run",
                   "[subflow]", two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<int> reads{0}, checks{0};
  std::atomic<bool> fail{true};
  auto read = [&](int n) { return ++reads, n * 2; };
  auto check = [&](int v) {
    ++checks;
    if (fail) throw std::runtime_error("not yet");
    return v + 1;
  };
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      auto inner = lf::flow<"parse">(lf::step<"read">(read), lf::step<"check", "read">(check));
      return lf::flow<"nightly">(lf::step<"list">([] { return 20; }), lf::subflow<"files", "list">(inner),
                                 lf::step<"report", "files.check">([](int v) { return v * 10; }));
    } else {
      lf::runtime_flow inner{"parse"};
      inner.add("read", [read](lf::context& ctx) { return read(ctx.result<int>("list")); });
      inner.add("check", [check](lf::context& ctx) { return check(ctx.result<int>("read")); }).after("read");
      lf::runtime_flow f{"nightly"};
      f.add("list", [] { return 20; });
      f.subflow("files", inner).after("list");
      f.add("report", [](lf::context& ctx) { return ctx.result<int>("files.check") * 10; }).after("files");
      return f;
    }
  }();
  lf::executor pool{2};
  lf::memory_store store;
  const auto first = run<TestType>(pool, flow, lf::checkpoint{store, "night"});
  REQUIRE(first.status("files") == lf::step_status::failed);
  CHECK(subflow_error_of(first, "files").step() == "files.check");
  fail = false;
  const auto again = pool.resume(flow, lf::checkpoint{store, "night"});
  REQUIRE(again.ok());
  CHECK(reads == 1);  // restored from the first run's checkpoint, under the same run id and store
  CHECK(checks == 2);
  CHECK(again.step("files.read").restored);
  CHECK(value_of<"report", int>(again) == 410);
}

// Processes (process.hpp), the Go original's: a namespace of a merged flow with its own before and
// after callbacks and time limit (lightflow::process options), paused, resumed and stopped alone
// while the rest of the run goes on. Every scenario runs through a static and a runtime flow.
#include <lightflow/lightflow.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
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

// What the steps and callbacks did, in order.
struct probe {
  std::mutex mutex;
  std::vector<std::string> log;
  std::atomic<bool> charge_started{false}, release_charge{true};
  std::atomic<int> audit{0}, charge{0}, receipt{0}, pack{0}, label{0}, notify{0};

  void note(std::string what) {
    std::lock_guard lock(mutex);
    log.push_back(std::move(what));
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex);
    return log;
  }
  std::size_t count(const std::string& what) {
    const auto all = seen();
    return static_cast<std::size_t>(std::count(all.begin(), all.end(), what));
  }
  std::ptrdiff_t at(const std::string& what) {
    const auto all = seen();
    return std::find(all.begin(), all.end(), what) - all.begin();
  }
  int charge_step() {
    charge_started = true;
    while (!release_charge) std::this_thread::yield();
    ++charge;
    note("pay.charge");
    return 1;
  }
};

// "order": process "pay" (audit; charge -> receipt), "ship" (pack -> label), and "end.notify" after
// "pay.receipt".
template <class Kind>
auto make_order(probe& p) {
  auto audit = [&p] {
    ++p.audit;
    p.note("pay.audit");
    return 0;
  };
  auto receipt = [&p] {
    ++p.receipt;
    p.note("pay.receipt");
    return 2;
  };
  auto pack = [&p] {
    ++p.pack;
    return 3;
  };
  auto label = [&p] {
    ++p.label;
    return 4;
  };
  auto notify = [&p] {
    ++p.notify;
    return 5;
  };
  if constexpr (Kind::is_static) {
    const auto pay = lf::flow<"pay">(lf::step<"audit">(audit), lf::step<"charge">([&p] { return p.charge_step(); }),
                                     lf::step<"receipt", "charge">([receipt](int) { return receipt(); }));
    const auto ship =
        lf::flow<"ship">(lf::step<"pack">(pack), lf::step<"label", "pack">([label](int) { return label(); }));
    const auto end = lf::flow<"end">(lf::step<"notify">(notify));
    return lf::merge<"order">(pay, ship, end, lf::edge<"pay.receipt", "end.notify">);
  } else {
    lf::runtime_flow pay{"pay"}, ship{"ship"}, end{"end"}, order{"order"};
    pay.add("audit", audit);
    pay.add("charge", [&p] { return p.charge_step(); });
    pay.add("receipt", receipt).after("charge");
    ship.add("pack", pack);
    ship.add("label", label).after("pack");
    end.add("notify", notify);
    order.merge(pay).merge(ship).merge(end);
    order.at("end.notify").after("pay.receipt");
    return order;
  }
}

using two_kinds::submit;

// Waits until `pred()` holds (the test's own timeout ends a hang).
template <class Pred>
void wait_for(Pred pred) {
  while (!pred()) std::this_thread::yield();
}

}  // namespace

TEMPLATE_TEST_CASE("a process's callbacks run once, before its first step and after its last", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  std::size_t before_steps = 0;
  bool after_ok = false;
  auto r = submit<TestType>(pool, order,
                            lf::process{"pay"}
                                .before([&](const lf::run_event& e) {
                                  before_steps = e.steps;
                                  p.note("before " + std::string(e.process));
                                })
                                .after([&](const lf::run_event& e) {
                                  after_ok = e.ok;
                                  p.note("after " + std::string(e.process));
                                }))
               .get();
  REQUIRE(r.ok());
  CHECK(p.count("before pay") == 1);
  CHECK(p.count("after pay") == 1);
  CHECK(before_steps == 3);
  CHECK(after_ok);
  // Both roots of "pay" (audit, charge) wait for the before callback; the after one follows the last step.
  CHECK(p.at("before pay") < p.at("pay.audit"));
  CHECK(p.at("before pay") < p.at("pay.charge"));
  CHECK(p.at("pay.receipt") < p.at("after pay"));
  CHECK(r.namespace_status("pay") == lf::step_status::succeeded);
  CHECK_FALSE(r.timed_out("pay"));
}

TEMPLATE_TEST_CASE("a must before-process callback that throws fails the process's steps; the rest runs", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  bool later_called = false;
  auto r =
      submit<TestType>(
          pool, order,
          lf::process{"pay"}
              .before(lf::flow_callback([](const lf::run_event&) { throw std::runtime_error("till closed"); }).must())
              .before([&](const lf::run_event&) { later_called = true; })
              .after([&](const lf::run_event& e) { p.note(e.ok ? "after ok" : "after not ok"); }))
          .get();
  CHECK_FALSE(r.ok());
  CHECK_FALSE(later_called);  // a must failure ends its list
  CHECK(p.audit + p.charge + p.receipt == 0);
  CHECK(r.status("pay.audit") == lf::step_status::failed);
  CHECK(r.status("pay.charge") == lf::step_status::failed);
  CHECK(r.status("pay.receipt") == lf::step_status::skipped);
  CHECK(r.status("end.notify") == lf::step_status::skipped);
  CHECK(r.status("ship.label") == lf::step_status::succeeded);
  CHECK(p.count("after not ok") == 1);
  const auto failures = r.callback_failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].point == lf::callback_point::before_process);
  CHECK(failures[0].step == "pay");
  CHECK(failures[0].must);
  CHECK_THAT(r.error_message(),
             Catch::Matchers::Contains("before-process") && Catch::Matchers::Contains("till closed"));
}

TEMPLATE_TEST_CASE("a process callback that is not must is listed and changes nothing else", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  struct listener : lf::observer {
    std::mutex mutex;
    std::vector<std::string> lines;
    void message(const lf::run_event&, lf::log_level, std::string_view text) noexcept override {
      std::lock_guard lock(mutex);
      lines.emplace_back(text);
    }
  } heard;
  lf::executor pool{2};
  int after_called = 0;
  auto r = submit<TestType>(pool, order,
                            lf::process{"ship"}
                                .before([](const lf::run_event&) { throw std::runtime_error("no boxes"); })
                                .after([](const lf::run_event&) { throw std::runtime_error("no van"); })
                                .after([&](const lf::run_event&) { ++after_called; }),
                            lf::observe{heard})
               .get();
  REQUIRE(heard.lines.size() == 2);
  CHECK(heard.lines[0] == "the before-process callback of process \"ship\" threw: no boxes");
  CHECK(r.ok());
  CHECK(p.pack == 1);
  CHECK(after_called == 1);
  const auto failures = r.callback_failures();
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].point == lf::callback_point::before_process);
  CHECK(failures[1].point == lf::callback_point::after_process);
  CHECK(failures[1].step == "ship");
  CHECK_FALSE(failures[1].must);
}

TEMPLATE_TEST_CASE("a must after-process callback that throws makes the result not ok and ends its list", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  bool later_called = false;
  auto r =
      submit<TestType>(
          pool, order,
          lf::process{"ship"}
              .after(lf::flow_callback([](const lf::run_event&) { throw std::runtime_error("manifest lost"); }).must())
              .after([&](const lf::run_event&) { later_called = true; }))
          .get();
  CHECK_FALSE(r.ok());
  CHECK_FALSE(later_called);
  CHECK(r.status("ship.label") == lf::step_status::succeeded);  // what ran stands
  CHECK(r.status("end.notify") == lf::step_status::succeeded);
  CHECK_THAT(r.error_message(), Catch::Matchers::Contains("its must after-process callback failed: manifest lost"));
}

TEMPLATE_TEST_CASE("a process's time limit cancels its steps not started; the rest of the run goes on", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  p.release_charge = false;
  const auto order = make_order<TestType>(p);
  struct watcher : lf::observer {
    probe* p;
    explicit watcher(probe* to) : p(to) {}
    void message(const lf::run_event&, lf::log_level, std::string_view text) noexcept override {
      if (text.find("process \"pay\" timed out after 20 ms") != std::string_view::npos) p->release_charge = true;
    }
  } w{&p};
  lf::executor pool{2};
  bool after_ok = true;
  auto r = submit<TestType>(pool, order,
                            lf::process{"pay"}.timeout(20ms).after([&](const lf::run_event& e) { after_ok = e.ok; }),
                            lf::observe{w})
               .get();  // "charge" ends once the time limit has passed: "receipt" has not started then
  CHECK_FALSE(r.ok());
  CHECK(r.timed_out("pay"));
  CHECK_FALSE(r.timed_out("ship"));
  CHECK_FALSE(r.timed_out());
  CHECK(r.status("pay.charge") == lf::step_status::succeeded);  // it was running: it finished
  CHECK(r.status("pay.receipt") == lf::step_status::cancelled);
  CHECK(r.status("end.notify") == lf::step_status::skipped);
  CHECK(r.status("ship.label") == lf::step_status::succeeded);
  CHECK(r.namespace_status("pay") == lf::step_status::cancelled);
  CHECK(p.receipt == 0);
  CHECK_FALSE(after_ok);
}

TEMPLATE_TEST_CASE("pausing one namespace holds its steps while the others run; resuming it lets them go", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  p.release_charge = false;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  auto handle = submit<TestType>(pool, order);
  wait_for([&] { return p.charge_started.load() && p.audit == 1; });
  handle.pause("pay");
  CHECK(handle.paused("pay"));
  CHECK_FALSE(handle.paused("ship"));
  CHECK_FALSE(handle.paused());
  p.release_charge = true;                               // a running step of it finishes
  wait_for([&] { return handle.waiting("pay") == 1; });  // "receipt" became ready and waits
  wait_for([&] { return p.label == 1; });                // the rest of the run goes on meanwhile
  CHECK(p.receipt == 0);
  CHECK_FALSE(handle.done());
  handle.resume("pay");
  CHECK_FALSE(handle.paused("pay"));
  auto r = handle.get();
  REQUIRE(r.ok());
  CHECK(p.receipt == 1);
  CHECK(p.notify == 1);
  CHECK(p.charge == 1);
}

TEMPLATE_TEST_CASE("stopping one namespace stops its steps not started and skips what follows them", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  p.release_charge = false;
  const auto order = make_order<TestType>(p);
  lf::memory_store store;
  lf::executor pool{2};
  auto handle = submit<TestType>(pool, order, lf::checkpoint{store, "order-1"});
  wait_for([&] { return p.charge_started.load(); });
  handle.stop("pay");
  p.release_charge = true;
  auto r = handle.get();
  CHECK_FALSE(r.ok());
  CHECK(r.stopped());
  CHECK(r.status("pay.charge") == lf::step_status::succeeded);
  CHECK(r.status("pay.receipt") == lf::step_status::stopped);
  CHECK(r.status("end.notify") == lf::step_status::skipped);
  CHECK(r.status("ship.label") == lf::step_status::succeeded);
  CHECK(r.namespace_status("pay") == lf::step_status::stopped);
  CHECK(p.receipt + p.notify == 0);
  // The checkpoint resumes it: what finished is not run again.
  auto resumed = pool.resume(order, lf::checkpoint{store, "order-1"});  // the input comes from the store
  REQUIRE(resumed.ok());
  CHECK(p.charge == 1);
  CHECK(p.pack == 1);
  CHECK(p.receipt == 1);
  CHECK(p.notify == 1);
}

TEMPLATE_TEST_CASE("cancelling a run ends the steps its paused namespace holds", "[process]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  probe p;
  p.release_charge = false;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  auto handle = submit<TestType>(pool, order);
  wait_for([&] { return p.charge_started.load() && p.audit == 1; });  // only "receipt" will wait
  handle.pause("pay");
  p.release_charge = true;
  wait_for([&] { return handle.waiting("pay") == 1; });
  handle.cancel();  // would hang in get() if the held step were not handed back
  auto r = handle.get();
  CHECK(r.status("pay.receipt") == lf::step_status::cancelled);
  CHECK(p.receipt == 0);
}

TEMPLATE_TEST_CASE("a process whose steps were all restored from a checkpoint calls no callback", "[process]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  lf::memory_store store;
  lf::executor pool{2};
  int calls = 0;
  const auto pay =
      lf::process{"pay"}.before([&](const lf::run_event&) { ++calls; }).after([&](const lf::run_event&) { ++calls; });
  REQUIRE(submit<TestType>(pool, order, lf::checkpoint{store, "order-2"}, pay).get().ok());
  CHECK(calls == 2);
  auto again = pool.resume(order, lf::checkpoint{store, "order-2"}, pay);
  REQUIRE(again.ok());
  CHECK(calls == 2);
  CHECK(p.charge == 1);
}

TEMPLATE_TEST_CASE("a namespace the flow does not have is refused", "[process]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  probe p;
  const auto order = make_order<TestType>(p);
  lf::executor pool{2};
  CHECK_THROWS_WITH(submit<TestType>(pool, order, lf::process{"pa"}),
                    Catch::Matchers::Contains("flow \"order\" has no namespace \"pa\""));
  CHECK_THROWS_AS(submit<TestType>(pool, order, lf::process{"pay.charge"}), lf::unknown_step);  // a step
  CHECK_THROWS_AS(submit<TestType>(pool, order, lf::process{"pay"}, lf::process{"pay"}), lf::usage_error);
  lf::memory_store store;
  CHECK_THROWS_AS(submit<TestType>(pool, order, lf::checkpoint{store, "order-3"}, lf::process{"pa"}), lf::unknown_step);
  CHECK(lf::runs(store, "order").empty());  // refused before anything was stored
  CHECK(p.audit + p.charge + p.pack == 0);  // nothing ran
  auto handle = submit<TestType>(pool, order);
  CHECK_THROWS_AS(handle.pause("shop"), lf::unknown_step);
  CHECK_THROWS_AS(handle.stop("shop"), lf::unknown_step);
  CHECK_THROWS_AS(handle.waiting("shop"), lf::unknown_step);
  auto r = handle.get();
  CHECK(r.ok());
  CHECK_THROWS_AS(r.timed_out("shop"), lf::unknown_step);
}

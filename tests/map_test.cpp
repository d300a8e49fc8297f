// Map steps (map_step.hpp): a step that runs its callable on each element of its dependency's output
// in parallel, whose output is the vector of the results in order; retries and time limits per
// element, failures kept with their index, cancellation, checkpoints. Every scenario runs through a
// static and a runtime flow.
#include <lightflow/lightflow.hpp>
#include <lightflow/map_step.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
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

using two_kinds::run;
using two_kinds::submit;
using two_kinds::wait_for;

// Leaves the map step as it is.
struct as_is {
  template <class Step>
  decltype(auto) operator()(Step&& s) const {
    return std::forward<Step>(s);
  }
};

// "nightly": "list" makes 0..n-1, "parse" maps `fn` over it (changed by `setup`: retries, ...), and
// "sum" adds up its results, longs.
template <class Kind, class F, class Setup = as_is>
auto nightly(int n, F fn, Setup setup = {}) {
  auto list = [n] {
    std::vector<int> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
  };
  auto add_up = [](const std::vector<long>& v) { return std::accumulate(v.begin(), v.end(), 0L); };
  if constexpr (Kind::is_static) {
    return lf::flow<"nightly">(lf::step<"list">(list), setup(lf::map_step<"parse", "list">(fn)),
                               lf::step<"sum", "parse">(add_up));
  } else {
    lf::runtime_flow f{"nightly"};
    f.add("list", list);
    setup(f.map("parse", "list", fn));
    f.add("sum", [add_up](lf::context& ctx) { return add_up(ctx.result<std::vector<long>>("parse")); }).after("parse");
    return f;
  }
}

// The map_error step "parse" of result `r` failed with.
template <class Result>
lf::map_error map_error_of(const Result& r) {
  try {
    std::rethrow_exception(r.step("parse").error);
  } catch (const lf::map_error& e) {
    return e;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("a map step's output is its elements' results, typed and in order", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  const auto flow = nightly<TestType>(10000, [](const int& x) { return 2L * x; });
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(two_kinds::value_of<"sum", long>(r) == 99990000L);
  const auto parsed = two_kinds::value_of<"parse", std::vector<long>>(r);
  REQUIRE(parsed.size() == 10000);
  for (std::size_t i = 0; i != parsed.size(); ++i) REQUIRE(parsed[i] == 2L * static_cast<long>(i));
  CHECK(r.step("parse").attempts == 1);
}

TEMPLATE_TEST_CASE("a map step's elements run on several threads", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  std::mutex m;
  std::set<std::thread::id> threads;
  auto seen = [&] {
    std::lock_guard lock(m);
    return threads.size();
  };
  // Element 0 returns only once another thread has run an element: the step's thread alone would wait.
  const auto flow = nightly<TestType>(64, [&](const int& x) {
    {
      std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
    }
    return x == 0 && !wait_for([&] { return seen() >= 2; }) ? -1L : 1L;
  });
  lf::executor pool{4};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(two_kinds::value_of<"sum", long>(r) == 64);
  CHECK(seen() >= 2);
}

TEMPLATE_TEST_CASE("a map step's concurrency limit bounds how many of its elements run at once", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::mutex m;
  std::set<std::thread::id> threads;
  std::atomic<int> inside{0}, most{0};
  // Element 0 stays until a second element runs beside it (when `together`: the limit allows two).
  auto counted = [&](const int& x, bool together) {
    const int now = ++inside;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    {
      std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
    }
    const bool met = !together || x != 0 || wait_for([&] { return most.load() >= 2; });
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    --inside;
    return met ? 1L : -1L;
  };
  auto body = [&](const int& x) { return counted(x, false); };
  lf::executor pool{4};
  SECTION("its own: at most two at once, and two do run together") {
    // The first element waits until a second one runs beside it: a helper with the second slot.
    const auto flow = nightly<TestType>(
        64, [&](const int& x) { return counted(x, true); },
        [](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).concurrency(2); });
    const auto r = run<TestType>(pool, flow);
    REQUIRE(r.ok());
    CHECK(two_kinds::value_of<"sum", long>(r) == 64);
    CHECK(most == 2);
  }
  SECTION("a shared limit of one: the step's thread alone") {
    const lf::limit one{1};
    const auto flow = nightly<TestType>(
        64, body, [&](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).limit(one); });
    const auto r = run<TestType>(pool, flow);
    REQUIRE(r.ok());
    CHECK(most == 1);
    CHECK(threads.size() == 1);
    CHECK(one.held() == 0);
  }
}

TEMPLATE_TEST_CASE("each element of a map step is retried by itself", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  auto calls = std::make_shared<std::vector<std::atomic<int>>>(20);
  const auto flow = nightly<TestType>(
      20,
      [calls](const int& x) {
        if (++(*calls)[static_cast<std::size_t>(x)] < 2 && x % 2 == 1) throw std::runtime_error("flaky");
        return static_cast<long>(x);
      },
      [](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).retry(lf::retry{3}); });
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(two_kinds::value_of<"sum", long>(r) == 190);
  for (int x = 0; x != 20; ++x) CHECK((*calls)[static_cast<std::size_t>(x)] == (x % 2 == 1 ? 2 : 1));
  CHECK(r.step("parse").attempts == 1);  // the step itself ran once
}

TEMPLATE_TEST_CASE("a map step whose elements fail keeps every failure with its index", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  auto calls = std::make_shared<std::vector<std::atomic<int>>>(6);
  const auto flow = nightly<TestType>(
      6,
      [calls](const int& x) {
        ++(*calls)[static_cast<std::size_t>(x)];
        if (x == 1 || x == 4) throw std::runtime_error("bad " + std::to_string(x));
        return static_cast<long>(x);
      },
      [](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).retry(lf::retry{2}); });
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  CHECK_FALSE(r.ok());
  CHECK(r.status("parse") == lf::step_status::failed);
  CHECK(r.status("sum") == lf::step_status::skipped);
  CHECK(r.error_message().find("map step \"parse\": 2 of its 6 elements failed; the first, element 1: bad 1") !=
        std::string::npos);
  const lf::map_error e = map_error_of(r);
  CHECK(e.count() == 6);
  CHECK(e.not_run() == 0);
  REQUIRE(e.failed().size() == 2);
  CHECK(e.failed()[0].index == 1);
  CHECK(e.failed()[1].index == 4);
  CHECK(lf::describe(e.failed()[1].error) == "bad 4");
  for (int x = 0; x != 6; ++x) CHECK((*calls)[static_cast<std::size_t>(x)] == (x == 1 || x == 4 ? 2 : 1));
}

TEMPLATE_TEST_CASE("each element of a map step has its own time limit", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  const auto flow = nightly<TestType>(
      4,
      [](const int& x, std::stop_token token) {
        if (x == 2) (void)wait_for([&] { return token.stop_requested(); });  // until its limit
        return static_cast<long>(x);
      },
      [](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).timeout(30ms); });
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  CHECK(r.status("parse") == lf::step_status::failed);
  const lf::map_error e = map_error_of(r);
  REQUIRE(e.failed().size() == 1);
  CHECK(e.failed()[0].index == 2);
  CHECK_THROWS_AS(std::rethrow_exception(e.failed()[0].error), lf::timeout_error);
  CHECK(lf::describe(e.failed()[0].error) == "lightflow: element 2 of map step \"parse\" timed out after 30 ms");
}

TEMPLATE_TEST_CASE("a cancelled run runs no more elements of a map step", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  std::atomic<bool> started{false};
  std::atomic<int> calls{0};
  const auto flow = nightly<TestType>(1000, [&](const int& x, std::stop_token token) {
    if (x == 0) {
      started = true;
      (void)wait_for([&] { return token.stop_requested(); });
    }
    ++calls;
    return 1L;
  });
  lf::executor pool{2};
  auto handle = submit<TestType>(pool, flow);
  REQUIRE(wait_for([&] { return started.load(); }));
  handle.cancel();
  const auto r = handle.get();
  CHECK(r.status("parse") == lf::step_status::failed);
  CHECK(r.status("sum") == lf::step_status::cancelled);
  const lf::map_error e = map_error_of(r);
  CHECK(e.failed().empty());
  CHECK(e.not_run() > 0);  // at least the rest of element 0's chunk
  CHECK(calls + static_cast<int>(e.not_run()) == 1000);
  CHECK(r.error_message().find("elements did not run (its run was cancelled)") != std::string::npos);
}

TEMPLATE_TEST_CASE("a map step's results of any type are kept apart, bools and types without a default too", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  // std::vector<bool> packs its elements into shared words; a type without a default waits in a slot.
  struct only_made {
    explicit only_made(int v) : value(v) {}
    int value;
  };
  auto even = [](const int& x) { return x % 2 == 0; };
  auto made = [](const int& x) { return only_made{x}; };
  auto list = [] {
    std::vector<int> v(5000);
    std::iota(v.begin(), v.end(), 0);
    return v;
  };
  auto flow = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"kinds">(lf::step<"list">(list), lf::map_step<"even", "list">(even),
                               lf::map_step<"made", "list">(made));
    } else {
      lf::runtime_flow f{"kinds"};
      f.add("list", list);
      f.map("even", "list", even);
      f.map("made", "list", made);
      return f;
    }
  }();
  lf::executor pool{4};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  const auto evens = two_kinds::value_of<"even", std::vector<bool>>(r);
  const auto all = two_kinds::value_of<"made", std::vector<only_made>>(r);
  REQUIRE(evens.size() == 5000);
  REQUIRE(all.size() == 5000);
  for (std::size_t i = 0; i != 5000; ++i) {
    REQUIRE(evens[i] == (i % 2 == 0));
    REQUIRE(all[i].value == static_cast<int>(i));
  }
}

TEMPLATE_TEST_CASE("a map step over no elements outputs an empty vector", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  std::atomic<int> calls{0};
  const auto flow = nightly<TestType>(0, [&](const int&) { return static_cast<long>(++calls); });
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(two_kinds::value_of<"parse", std::vector<long>>(r).empty());
  CHECK(two_kinds::value_of<"sum", long>(r) == 0);
  CHECK(calls == 0);
}

TEMPLATE_TEST_CASE("a map step whose callable returns nothing has no output", "[map]", two_kinds::static_flows,
                   two_kinds::runtime_flows) {
  std::atomic<int> total{0};
  auto touch = [&total](const int& x) { total += x; };
  auto report = [&total] { return total.load(); };
  auto flow = [&] {
    auto list = [] { return std::vector<int>{1, 2, 3, 4}; };
    if constexpr (TestType::is_static) {
      return lf::flow<"touch">(lf::step<"list">(list), lf::map_step<"each", "list">(touch),
                               lf::step<"report">(report).template after<"each">());
    } else {
      lf::runtime_flow f{"touch"};
      f.add("list", list);
      f.map("each", "list", touch);
      f.add("report", report).after("each");
      return f;
    }
  }();
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  CHECK(two_kinds::value_of<"report", int>(r) == 10);
}

TEMPLATE_TEST_CASE("a map step's output is checkpointed: a resumed run does not map again", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<int> calls{0};
  std::atomic<bool> fail{true};
  auto flow = [&] {
    auto list = [] { return std::vector<int>{1, 2, 3}; };
    auto parse = [&calls](const int& x) {
      ++calls;
      return static_cast<long>(x) * 10;
    };
    auto check = [&fail] {
      if (fail) throw std::runtime_error("not yet");
      return 1;
    };
    if constexpr (TestType::is_static) {
      return lf::flow<"resumed">(lf::step<"list">(list), lf::map_step<"parse", "list">(parse),
                                 lf::step<"check">(check).template after<"parse">());
    } else {
      lf::runtime_flow f{"resumed"};
      f.add("list", list);
      f.map("parse", "list", parse);
      f.add("check", check).after("parse");
      return f;
    }
  }();
  lf::memory_store store;
  lf::executor pool{2};
  const auto first = run<TestType>(pool, flow, lf::checkpoint{store, "night-1"});
  CHECK(first.status("check") == lf::step_status::failed);
  CHECK(calls == 3);
  fail = false;
  const auto again = pool.resume(flow, lf::checkpoint{store, "night-1"});
  REQUIRE(again.ok());
  CHECK(again.step("parse").restored);
  CHECK(calls == 3);
  CHECK(two_kinds::value_of<"parse", std::vector<long>>(again) == std::vector<long>{10, 20, 30});
}

TEMPLATE_TEST_CASE("a resumed run runs only the elements of a map step that had not succeeded", "[map][checkpoint]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  constexpr int n = 40;
  std::array<std::atomic<int>, n> calls{};
  std::atomic<bool> broken{true};  // elements 3, 8, 13... fail until fixed
  const auto flow = nightly<TestType>(n, [&](const int& x) {
    ++calls[static_cast<std::size_t>(x)];
    if (broken && x % 5 == 3) throw std::runtime_error("unreadable");
    return 3L * x;
  });
  lf::memory_store store;
  lf::executor pool{2};
  const auto first = run<TestType>(pool, flow, lf::checkpoint{store, "night-2"});
  REQUIRE(first.status("parse") == lf::step_status::failed);
  CHECK(map_error_of(first).failed().size() == n / 5);
  std::size_t saved = 0;
  for (const auto& key : store.list("nightly", "night-2")) saved += key.rfind("elem/parse/", 0) == 0 ? 1 : 0;
  CHECK(saved == n - n / 5);  // one record per element that succeeded

  broken = false;
  for (auto& c : calls) c = 0;
  const auto again = pool.resume(flow, lf::checkpoint{store, "night-2"});
  REQUIRE(again.ok());
  for (int x = 0; x != n; ++x) CHECK(calls[static_cast<std::size_t>(x)] == (x % 5 == 3 ? 1 : 0));
  std::vector<long> expected(n);
  for (int x = 0; x != n; ++x) expected[static_cast<std::size_t>(x)] = 3L * x;
  CHECK(two_kinds::value_of<"parse", std::vector<long>>(again) == expected);
  CHECK(two_kinds::value_of<"sum", long>(again) == 3L * n * (n - 1) / 2);
}

TEMPLATE_TEST_CASE("a map step's elements that return nothing are saved too, in a file store", "[map][checkpoint]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::array<std::atomic<int>, 12> touched{};
  std::atomic<bool> broken{true};
  auto touch = [&](const int& x) {
    ++touched[static_cast<std::size_t>(x)];
    if (broken && x >= 9) throw std::runtime_error("not now");
  };
  auto flow = [&] {
    auto list = [] {
      std::vector<int> v(12);
      std::iota(v.begin(), v.end(), 0);
      return v;
    };
    if constexpr (TestType::is_static) {
      return lf::flow<"touch">(lf::step<"list">(list), lf::map_step<"each", "list">(touch));
    } else {
      lf::runtime_flow f{"touch"};
      f.add("list", list);
      f.map("each", "list", touch);
      return f;
    }
  }();
  const auto dir = std::filesystem::temp_directory_path() / ("lightflow-map-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    lf::file_store store(dir, lf::durability::durable);
    lf::executor pool{2};
    CHECK(run<TestType>(pool, flow, lf::checkpoint{store, "t"}).status("each") == lf::step_status::failed);
  }
  broken = false;
  for (auto& t : touched) t = 0;
  {
    lf::file_store store(dir, lf::durability::durable);  // read back from the files
    lf::executor pool{2};
    REQUIRE(pool.resume(flow, lf::checkpoint{store, "t"}).ok());
  }
  for (int x = 0; x != 12; ++x) CHECK(touched[static_cast<std::size_t>(x)] == (x >= 9 ? 1 : 0));
  std::filesystem::remove_all(dir);
}

TEMPLATE_TEST_CASE("a map step's element record that is not its own is refused", "[map][checkpoint]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<bool> broken{true};
  std::atomic<int> calls{0};
  const auto flow = nightly<TestType>(4, [&](const int& x) {
    ++calls;
    if (broken && x == 3) throw std::runtime_error("unreadable");
    return 1L;
  });
  lf::memory_store store;
  lf::executor pool{2};
  REQUIRE(run<TestType>(pool, flow, lf::checkpoint{store, "n"}).status("parse") == lf::step_status::failed);
  broken = false;
  const std::string key = GENERATE(as<std::string>{}, "elem/parse/3", "elem/parse/three", "elem/junk");
  CAPTURE(key);
  lf::memory_store copy;  // element 0's record saved again under `key`
  for (const auto& k : store.list("nightly", "n")) copy.save("nightly", "n", k, *store.load("nightly", "n", k));
  copy.save("nightly", "n", key, *store.load("nightly", "n", "elem/parse/0"));
  calls = 0;
  const auto again = [&] {
    try {
      return std::optional(pool.resume(flow, lf::checkpoint{copy, "n"}));
    } catch (const lf::checkpoint_error& e) {  // a key that names no element: refused as the run opens
      CHECK(std::string(e.what()).find("names no element") != std::string::npos);
      return decltype(std::optional(pool.resume(flow, lf::checkpoint{copy, "n"}))){};
    }
  }();
  if (key == "elem/parse/3") {
    REQUIRE(again.has_value());
    CHECK(again->status("parse") == lf::step_status::failed);
    CHECK(lf::describe(again->step("parse").error).find("holds element 0") != std::string::npos);
  } else {
    CHECK_FALSE(again.has_value());
  }
  CHECK(calls == 0);  // nothing was mapped with the record
  CHECK(copy.load("nightly", "n", key).has_value());  // nor was it erased
}

// "keep": "list" makes 0..n-1, "parse" maps `fn` over it keeping going (retried: `attempts`), and
// "sum" adds up the results of the elements that succeeded, and counts the others.
template <class Kind, class F>
auto keep_going_flow(int n, F fn, unsigned attempts) {
  auto list = [n] {
    std::vector<int> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
  };
  auto add_up = [](const std::vector<lf::outcome<long>>& v) {
    std::pair<long, int> sum_and_failures{0, 0};
    for (const auto& o : v) o ? void(sum_and_failures.first += *o) : void(++sum_and_failures.second);
    return sum_and_failures;
  };
  if constexpr (Kind::is_static) {
    return lf::flow<"keep">(lf::step<"list">(list),
                            lf::map_step<"parse", "list">(fn, lf::keep_going).retry(lf::retry{attempts}),
                            lf::step<"sum", "parse">(add_up));
  } else {
    lf::runtime_flow f{"keep"};
    f.add("list", list);
    f.map("parse", "list", fn, lf::keep_going).retry(lf::retry{attempts});
    f.add("sum", [add_up](lf::context& ctx) { return add_up(ctx.result<std::vector<lf::outcome<long>>>("parse")); })
        .after("parse");
    return f;
  }
}

TEMPLATE_TEST_CASE("a map step that keeps going succeeds with each element's outcome", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  constexpr int n = 30;
  std::array<std::atomic<int>, n> calls{};
  const auto flow = keep_going_flow<TestType>(
      n,
      [&](const int& x) {
        ++calls[static_cast<std::size_t>(x)];
        if (x % 3 == 0) throw std::runtime_error("bad element " + std::to_string(x));
        return 10L * x;
      },
      2);
  lf::executor pool{2};
  const auto r = run<TestType>(pool, flow);
  REQUIRE(r.ok());
  const auto out = two_kinds::value_of<"parse", std::vector<lf::outcome<long>>>(r);
  REQUIRE(out.size() == n);
  long sum = 0;
  for (int x = 0; x != n; ++x) {
    const auto& o = out[static_cast<std::size_t>(x)];
    CHECK(o.ok() == (x % 3 != 0));
    CHECK(calls[static_cast<std::size_t>(x)] == (x % 3 == 0 ? 2 : 1));  // failures after their retries
    if (o) {
      CHECK(*o == 10L * x);
      CHECK(o.error() == nullptr);
      sum += *o;
    } else {
      CHECK(lf::describe(o.error()) == "bad element " + std::to_string(x));
      CHECK_THROWS_WITH(o.value(), "bad element " + std::to_string(x));
    }
  }
  CHECK(two_kinds::value_of<"sum", std::pair<long, int>>(r) == std::pair<long, int>{sum, n / 3});
}

TEMPLATE_TEST_CASE("a map step that keeps going is checkpointed with its failures' messages", "[map][checkpoint]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  std::atomic<int> calls{0};
  std::atomic<bool> down{true};  // "check" fails until the service is up
  auto fn = [&](const int& x) {
    ++calls;
    if (x == 2) throw std::runtime_error("element two is broken");
    return static_cast<long>(x);
  };
  auto check = [&down] {
    if (down) throw std::runtime_error("down");
    return 1;
  };
  auto flow = [&] {
    auto list = [] { return std::vector<int>{0, 1, 2, 3}; };
    if constexpr (TestType::is_static) {
      return lf::flow<"keep">(lf::step<"list">(list), lf::map_step<"parse", "list">(fn, lf::keep_going),
                              lf::step<"check">(check).template after<"parse">());
    } else {
      lf::runtime_flow f{"keep"};
      f.add("list", list);
      f.map("parse", "list", fn, lf::keep_going);
      f.add("check", check).after("parse");
      return f;
    }
  }();
  lf::memory_store store;
  lf::executor pool{2};
  const auto first = run<TestType>(pool, flow, lf::checkpoint{store, "k"});
  REQUIRE(first.status("parse") == lf::step_status::succeeded);
  REQUIRE(first.status("check") == lf::step_status::failed);
  CHECK(calls == 4);
  down = false;
  const auto again = pool.resume(flow, lf::checkpoint{store, "k"});
  REQUIRE(again.ok());
  CHECK(calls == 4);  // restored as a whole, its failure too
  const auto out = two_kinds::value_of<"parse", std::vector<lf::outcome<long>>>(again);
  REQUIRE(out.size() == 4);
  CHECK(*out[3] == 3);
  REQUIRE_FALSE(out[2].ok());
  CHECK_THROWS_AS(out[2].value(), lf::restored_error);
  CHECK(lf::describe(out[2].error()) == "element two is broken");
}

namespace {
// Every element event, as observers see them.
struct element_log final : lf::observer {
  std::mutex mutex;
  std::vector<lf::element_event> started, finished;
  void element_started(const lf::element_event& e) noexcept override {
    std::lock_guard lock(mutex);
    started.push_back(e);
  }
  void element_finished(const lf::element_event& e) noexcept override {
    std::lock_guard lock(mutex);
    finished.push_back(e);
  }
};
}  // namespace

TEMPLATE_TEST_CASE("a map step's elements are observed, traced, counted in progress, results and drawings", "[map]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  constexpr int n = 20;
  std::array<std::atomic<int>, n> calls{};
  std::atomic<bool> broken{true};  // element 19 fails (twice) until fixed; 0, 7, 14 fail their first attempt
  const auto flow = nightly<TestType>(
      n,
      [&](const int& x) {
        const int call = ++calls[static_cast<std::size_t>(x)];
        if ((x == 19 && broken) || (x % 7 == 0 && call == 1)) throw std::runtime_error("element " + std::to_string(x));
        return 1L;
      },
      [](auto&& step) -> decltype(auto) { return std::forward<decltype(step)>(step).retry(lf::retry{2}); });
  lf::memory_store store;
  lf::executor pool{2};
  element_log log;
  lf::trace_recorder trace;
  std::ostringstream lines;
  lf::progress_printer progress(lines, std::chrono::hours(1), lf::progress_line::plain);
  const auto first = run<TestType>(pool, flow, lf::checkpoint{store, "o"}, lf::observe(log), lf::observe(trace),
                                    lf::observe(progress));
  REQUIRE(first.status("parse") == lf::step_status::failed);

  CHECK(log.started.size() == n + 4);  // 3 retried, and 19's second attempt
  std::array<int, n> ends{};
  for (const auto& e : log.finished) {
    CHECK(e.step == "parse");
    CHECK(e.elements == n);
    CHECK_FALSE(e.restored);
    if (!e.last) continue;
    ++ends[e.element];
    CHECK(e.status == (e.element == 19 ? lf::step_status::failed : lf::step_status::succeeded));
    CHECK(e.attempt == (e.element == 19 || e.element % 7 == 0 ? 2u : 1u));
  }
  for (int x = 0; x != n; ++x) CHECK(ends[static_cast<std::size_t>(x)] == 1);
  const lf::element_counts counts = first.step("parse").elements;
  CHECK(counts.total == n);
  CHECK(counts.succeeded == n - 1);
  CHECK(counts.failed == 1);
  CHECK(counts.restored == 0);
  CHECK(first.step("list").elements.total == 0);  // not a map step

  std::size_t element_slices = 0;
  for (const auto& slice : trace.slices()) element_slices += slice.element != lf::trace_recorder::no_element ? 1 : 0;
  CHECK(element_slices == n + 4);  // one per element attempt
  CHECK(trace.chrome_trace().find("\"name\":\"parse[19]\"") != std::string::npos);
  CHECK(lines.str().find("20/20 elements done, 1 failed") != std::string::npos);
  CHECK(lf::to_dot(first).find("19/20 elements, 1 failed") != std::string::npos);

  broken = false;  // resumed: 19 elements restored, told with attempt 0
  element_log again_log;
  const auto again = pool.resume(flow, lf::checkpoint{store, "o"}, lf::observe(again_log));
  REQUIRE(again.ok());
  std::size_t restored = 0;
  for (const auto& e : again_log.finished) restored += e.restored && e.attempt == 0 ? 1 : 0;
  CHECK(restored == n - 1);
  CHECK(again_log.started.size() == 1);
  CHECK(again.step("parse").elements.restored == n - 1);
  CHECK(again.step("parse").elements.succeeded == 1);
  CHECK(lf::to_dot(again).find("20/20 elements, 19 restored") != std::string::npos);
}

TEST_CASE("a static map step maps over the run's input", "[map]") {
  const auto flow = lf::flow<"squares">(lf::map_step<"square">([](const int& x) { return x * x; }));
  lf::executor pool{2};
  const auto r = pool.run(flow, std::vector<int>{1, 2, 3});
  REQUIRE(r.ok());
  CHECK(r.get<"square">() == std::vector<int>{1, 4, 9});
}

// lightflow/fmt.hpp: fmt formatters for statuses, callback points, run results and flows.
#include <lightflow/fmt.hpp>
#include <lightflow/lightflow.hpp>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "catch.hpp"

namespace lf = lightflow;

TEST_CASE("statuses and callback points format as words, with fmt's width and alignment", "[fmt]") {
  CHECK(fmt::format("{}", lf::step_status::skipped_by_condition) == "skipped by condition");
  CHECK(fmt::format("[{:>9}]", lf::step_status::failed) == "[   failed]");
  CHECK(fmt::format("[{:<9}]", lf::step_status::succeeded) == "[succeeded]");
  CHECK(fmt::format("{}", lf::callback_point::after_step) == "after-step");
}

TEST_CASE("flows format as their name and steps with dependencies", "[fmt]") {
  const auto f = lf::flow<"orders">(lf::step<"load">([] { return 1; }), lf::step<"charge", "load">([](int x) { return x; }),
                                    lf::step<"ship", "load", "charge">([](int, int) {}));
  CHECK(fmt::format("{}", f) == "flow \"orders\", 3 steps: load; charge <- load; ship <- load, charge");

  lf::runtime_flow rf{"rt"};
  rf.add("a", [] {});
  rf.add("b", [] {}).after("a");
  CHECK(fmt::format("{}", rf) == "flow \"rt\", 2 steps: a; b <- a");
  rf.add("c", [] {}).after("missing");
  CHECK_THROWS_AS(fmt::format("{}", rf), lf::flow_error);  // a flow that cannot run cannot be shown either
}

TEST_CASE("run results format as one line, or one more line per step with {:l}", "[fmt]") {
  lf::executor pool{1};
  const auto f = lf::flow<"orders">(lf::step<"load">([] { return 1; }),
                                    lf::step<"charge", "load">([](int) -> int { throw std::runtime_error("card declined"); }),
                                    lf::step<"ship", "charge">([](int) {}));
  auto r = pool.run(f);
  const std::string id = std::to_string(r.run_id());
  CHECK(fmt::format("{}", r) == "flow \"orders\" run " + id +
                                    ": not ok, 3 steps (1 succeeded, 1 failed, 1 skipped): step \"charge\" failed: "
                                    "card declined; 1 step skipped");
  const std::string long_form = fmt::format("{:l}", r);
  CHECK(long_form.find("\n  load: succeeded in ") != std::string::npos);
  CHECK(long_form.find(" ms, 1 attempt\n  charge: failed in ") != std::string::npos);
  CHECK(long_form.find(", 1 attempt: card declined\n  ship: skipped") != std::string::npos);

  lf::runtime_flow rf{"rt"};
  rf.add("a", [] { return 2; });
  auto rr = pool.run(rf);
  CHECK(fmt::format("{}", rr) == "flow \"rt\" run " + std::to_string(rr.run_id()) + ": ok, 1 step (1 succeeded)");
  // operator<< writes the same text (one code path: detail/summary.hpp).
  std::ostringstream out;
  out << r << '|' << rr << '|' << f << '|' << lf::step_status::failed;
  CHECK(out.str() == fmt::format("{}|{}|{}|{}", r, rr, f, lf::step_status::failed));
  CHECK_THROWS_AS(fmt::format(fmt::runtime("{:x}"), rr), fmt::format_error);
}

#ifdef LIGHTFLOW_TEST_SPDLOG
#include <lightflow/spdlog.hpp>
#include <spdlog/sinks/ostream_sink.h>

TEST_CASE("lightflow/spdlog.hpp: a logger writes each line to an spdlog logger at its level", "[fmt][spdlog]") {
  std::ostringstream out;
  auto target = std::make_shared<spdlog::logger>("lightflow", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  target->set_pattern("[%l] %v");
  target->set_level(spdlog::level::trace);
  lf::logger log = lf::spdlog_logger(target);  // info and above
  lf::executor pool{1};
  int calls = 0;
  auto f = lf::flow<"orders">(lf::step<"charge">([&calls] {
                                if (++calls == 1) throw std::runtime_error("declined");
                                return 1;
                              }).retry(lf::retry{2}),
                              lf::step<"ship", "charge">([](int) { throw std::runtime_error("no stock"); }));
  auto r = pool.run(f, lf::observe(log));
  CHECK_FALSE(r.ok());
  const std::string text = out.str();
  CHECK(text.find("[warning] flow \"orders\" run 1: step \"charge\" failed on attempt 1: declined; it will be tried again\n") !=
        std::string::npos);
  CHECK(text.find("[error] flow \"orders\" run 1: step \"ship\" failed: no stock\n") != std::string::npos);
  CHECK(text.find("[warning] flow \"orders\" run 1: ended not ok") != std::string::npos);
  CHECK(text.find("[debug]") == std::string::npos);
  CHECK(lf::spdlog_level(lf::log_level::debug) == spdlog::level::debug);
  CHECK(lf::spdlog_level(lf::log_level::error) == spdlog::level::err);
}
#endif

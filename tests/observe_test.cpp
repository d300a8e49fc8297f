// Seeing what a run did: observers (order and content of events), the Chrome trace (parsed back),
// DOT and Mermaid drawings, the progress printer.
#include <lightflow/lightflow.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/json_reader.hpp"
#include "support/log_lines.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Records every event as a line.
class recorder final : public lf::observer {
 public:
  explicit recorder(std::string tag = "") : tag_(std::move(tag)) {}
  void run_started(const lf::run_event& e) noexcept override { add("run start " + std::string(e.flow) + " " + std::to_string(e.steps)); }
  void step_started(const lf::step_event& e) noexcept override {
    add("start " + std::string(e.step) + " " + std::to_string(e.attempt));
  }
  void step_finished(const lf::step_event& e) noexcept override {
    add("end " + std::string(e.step) + " " + std::to_string(e.attempt) + " " + std::string(lf::to_string(e.status)) +
        (e.last ? "" : " (again)") + (e.error ? " error" : ""));
  }
  void run_finished(const lf::run_event& e) noexcept override { add("run end " + std::string(e.flow)); }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  static std::vector<std::string>* shared;  // where tagged recorders also write, in call order

 private:
  void add(std::string line) noexcept {
    std::lock_guard lock(mutex_);
    lines_.push_back(line);
    if (shared != nullptr && !tag_.empty()) shared->push_back(tag_ + ": " + line);
  }
  std::string tag_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};
std::vector<std::string>* recorder::shared = nullptr;

std::size_t index_of(const std::vector<std::string>& lines, const std::string& line) {
  auto it = std::find(lines.begin(), lines.end(), line);
  REQUIRE(it != lines.end());
  return static_cast<std::size_t>(it - lines.begin());
}

auto make_flow(std::atomic<int>& calls) {
  return lf::flow<"shop">(
      lf::step<"load">([&calls](lf::step_context& ctx) {
        ++calls;
        if (ctx.attempt() == 1) throw std::runtime_error("flaky");
        return 1;
      }).retry(lf::retry{2}),
      lf::step<"price", "load">([](int v) { return v * 2; }),
      lf::step<"fail", "load">([](int) -> int { throw std::runtime_error("broken"); }),
      lf::step<"after_fail", "fail">([](int v) { return v; }));
}
}  // namespace

TEST_CASE("an observer is told of the run and of every attempt, in order", "[observe]") {
  std::atomic<int> calls{0};
  const auto f = make_flow(calls);
  lf::executor pool{2};
  recorder rec;
  auto result = pool.run(f, lf::observe(rec));
  CHECK_FALSE(result.ok());
  const auto lines = rec.lines();
  REQUIRE(lines.size() == 2 + 2 * 2 + 2 + 2 + 1);  // run x2, load x2 attempts, price, fail, after_fail's end
  CHECK(lines.front() == "run start shop 4");
  CHECK(lines.back() == "run end shop");
  CHECK(index_of(lines, "start load 1") < index_of(lines, "end load 1 failed (again) error"));
  CHECK(index_of(lines, "end load 1 failed (again) error") < index_of(lines, "start load 2"));
  CHECK(index_of(lines, "end load 2 succeeded") < index_of(lines, "start price 1"));
  CHECK(index_of(lines, "end fail 1 failed error") < index_of(lines, "end after_fail 0 skipped"));
}

TEST_CASE("executor-wide observers come first, then the run's own; both see every run", "[observe]") {
  std::vector<std::string> calls;
  recorder::shared = &calls;
  {
    recorder global("global"), own("own");
    lf::executor pool{1};
    pool.observe(global);
    auto f = lf::flow<"tiny">(lf::step<"a">([] { return 1; }));
    CHECK(pool.run(f, lf::observe(own)).ok());
    CHECK(pool.run(f).ok());
    CHECK(global.lines().size() == 8);
    CHECK(own.lines().size() == 4);
    lf::runtime_flow rf{"rt"};
    rf.add("x", [] {});
    CHECK(pool.run(rf, lf::observe(own)).ok());
    CHECK(own.lines().size() == 8);
    CHECK(own.lines()[4] == "run start rt 1");
  }
  recorder::shared = nullptr;
  REQUIRE(calls.size() >= 2);
  CHECK(calls[0] == "global: run start tiny 1");
  CHECK(calls[1] == "own: run start tiny 1");
}

TEST_CASE("a Chrome trace has one slice per attempt, on its worker's row, and parses as JSON", "[observe][trace]") {
  std::atomic<int> calls{0};
  const auto f = make_flow(calls);
  lf::executor pool{2};
  lf::trace_recorder trace;
  auto result = pool.run(f, lf::observe(trace));
  CHECK_FALSE(result.ok());

  const auto doc = test_json::parse(trace.chrome_trace());
  const auto& events = doc["traceEvents"].arr();
  std::multiset<std::string> names;
  std::set<double> tids, named_tids;
  for (const auto& e : events) {
    if (e["ph"].str() == "M") {
      CHECK(e["name"].str() == "thread_name");
      named_tids.insert(e["tid"].num());
      continue;
    }
    REQUIRE(e["ph"].str() == "X");
    names.insert(e["name"].str());
    tids.insert(e["tid"].num());
    CHECK(e["cat"].str() == "shop");
    CHECK(e["ts"].num() >= 0);
    CHECK(e["dur"].num() >= 0);
    CHECK(e["args"]["run"].num() == static_cast<double>(result.run_id()));
    if (e["name"].str() == "load") {
      const double attempt = e["args"]["attempt"].num();
      CHECK(e["args"]["status"].str() == (attempt == 1 ? "failed" : "succeeded"));
    }
    CHECK(e["tid"].num() < pool.worker_count() + 8);
  }
  CHECK(names == std::multiset<std::string>{"load", "load", "price", "fail"});  // after_fail did not run
  CHECK(tids == named_tids);
  CHECK(trace.slices().size() == 4);
}

TEST_CASE("DOT and Mermaid drawings of flows and of runs", "[observe][diagram]") {
  auto f = lf::flow<"etl">(lf::step<"extract">([] { return 1; }),
                           lf::step<"load \"all\"", "extract">([](int v) { return v; }).after<"clean">(),
                           lf::step<"clean">([] {}));
  const std::string dot = lf::to_dot(f);
  CHECK(contains(dot, "digraph \"etl\" {"));
  CHECK(contains(dot, "n1 [label=\"load \\\"all\\\"\"]"));
  CHECK(contains(dot, "n0 -> n1;"));
  CHECK(contains(dot, "n2 -> n1 [style=dashed];"));  // ordering only
  const std::string mermaid = lf::to_mermaid(f);
  CHECK(contains(mermaid, "flowchart LR"));
  CHECK(contains(mermaid, "n1[\"load #quot;all#quot;\"]"));
  CHECK(contains(mermaid, "n0 --> n1"));
  CHECK(contains(mermaid, "n2 -.-> n1"));

  std::atomic<int> calls{0};
  lf::executor pool{2};
  lf::memory_store store;
  const auto shop = make_flow(calls);
  (void)pool.run(shop, lf::checkpoint{store, "d"});
  auto resumed = pool.resume(shop, lf::checkpoint{store, "d"});
  const std::string run_dot = lf::to_dot(resumed);
  // Each step's status in words under its name (a PNG has no tooltips), in its status's colour.
  CHECK(contains(run_dot, "n2 [label=\"fail\\nfailed\", fillcolor=\"#f08080\", tooltip=\"fail: failed\"]"));
  CHECK(contains(run_dot, "n0 [label=\"load\\nsucceeded, restored\", fillcolor=\"#8fd18f\", tooltip=\"load: succeeded\", "
                          "peripheries=2]"));  // restored: a double border
  CHECK(contains(run_dot, "n3 [label=\"after_fail\\nskipped\", fillcolor=\"#f5d76e\", tooltip=\"after_fail: skipped\"]"));
  // A legend of the statuses present and of the double border, nothing else.
  CHECK(contains(run_dot, "legend [shape=plaintext"));
  CHECK(contains(run_dot, "<td bgcolor=\"#8fd18f\">succeeded</td>"));
  CHECK(contains(run_dot, "<td bgcolor=\"#f08080\">failed</td>"));
  CHECK(contains(run_dot, "<td bgcolor=\"#f5d76e\">skipped</td>"));
  CHECK_FALSE(contains(run_dot, ">cancelled<"));
  CHECK(contains(run_dot, "double border: restored from a checkpoint"));
  CHECK_FALSE(contains(run_dot, "dashed arrow"));
  CHECK(contains(dot, "dashed arrow: runs after, receives no output"));  // the flow above has one
  // A step's attempts, when it took more than one.
  const std::string first_dot = lf::to_dot(pool.run(shop));
  CHECK(contains(first_dot, "n0 [label=\"load\\nsucceeded, 2 attempts\""));
  const std::string run_mermaid = lf::to_mermaid(resumed);
  CHECK(contains(run_mermaid, "classDef failed fill:#f08080"));
  CHECK(contains(run_mermaid, "class n0,n1 succeeded"));
  CHECK(contains(run_mermaid, "class n2 failed"));

  lf::runtime_flow rf{"rt"};
  rf.add("a", [] {});
  rf.add("b", [] {}).after("a");
  CHECK(contains(lf::to_dot(rf), "n0 -> n1;"));
  CHECK(contains(lf::to_mermaid(rf), "n0 --> n1"));
  CHECK_FALSE(contains(lf::to_dot(rf), "legend"));  // nothing to explain
}

TEST_CASE("DOT drawings put a merged flow's steps inside a box per flow, nested", "[observe][diagram]") {
  auto billing = lf::flow<"billing">(lf::step<"invoice">([] { return 1; }), lf::step<"charge", "invoice">([](int v) { return v; }));
  auto shipping = lf::flow<"shipping">(lf::step<"pack">([] { return 2; }));
  auto orders = lf::merge<"orders">(billing, shipping, lf::edge<"billing.charge", "shipping.pack">);
  auto top = lf::merge<"top">(orders, lf::flow<"audit">(lf::step<"log">([] { return 0; })));
  auto check = [](const std::string& dot) {
    // top.orders.billing.invoice is "invoice" inside "billing" inside "orders"; the edges keep their ids.
    const auto orders_at = dot.find("subgraph \"cluster_orders\" {\n    label=\"orders\";");
    const auto billing_at = dot.find("subgraph \"cluster_orders.billing\" {\n      label=\"billing\";");
    const auto invoice_at = dot.find("label=\"invoice\"");
    REQUIRE(orders_at != std::string::npos);
    REQUIRE(billing_at != std::string::npos);
    CHECK(orders_at < billing_at);
    CHECK(billing_at < invoice_at);
    CHECK(contains(dot, "subgraph \"cluster_orders.shipping\""));
    CHECK(contains(dot, "subgraph \"cluster_audit\""));
    CHECK(contains(dot, "tooltip=\"orders.billing.invoice\""));  // the full name
  };
  check(lf::to_dot(top));
  // The same from a runtime flow the static one is merged into (by name, so no "top." prefix).
  lf::runtime_flow rf{"rt"};
  rf.merge(top, lf::merge_mode::unify);
  check(lf::to_dot(rf));
}

TEST_CASE("the progress printer counts steps (not attempts) and failures", "[observe][progress]") {
  std::atomic<int> calls{0};
  const auto f = make_flow(calls);
  lf::executor pool{2};
  std::ostringstream out;
  lf::progress_printer progress(out, std::chrono::milliseconds(0), false);
  (void)pool.run(f, lf::observe(progress));
  CHECK(progress.done() == 4);
  CHECK(progress.failed() == 1);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() >= 2);  // after each step (no interval), then at the end
  const std::string& last_line = lines.back();
  CHECK(contains(last_line, "shop: 4/4 steps done, 1 failed, "));
  CHECK(contains(last_line, " s"));
}

TEST_CASE("the progress printer rewrites its line only on a terminal unless told", "[observe][progress]") {
  std::ostringstream log;  // a log file or a pipe: never a terminal
  CHECK_FALSE(lf::progress_printer(log).rewrites());
  CHECK(lf::progress_printer(log, std::chrono::milliseconds(0), lf::progress_line::rewrite).rewrites());
  CHECK_FALSE(lf::progress_printer(log, std::chrono::milliseconds(0), lf::progress_line::plain).rewrites());
  CHECK(lf::progress_printer(log, std::chrono::milliseconds(0), true).rewrites());
  // The standard streams: as the terminal says (under CTest, not a terminal).
  CHECK(lf::progress_printer(std::cerr).rewrites() == (::isatty(2) == 1));
  std::atomic<int> calls{0};
  const auto f = make_flow(calls);
  lf::executor pool{2};
  lf::progress_printer progress(log, std::chrono::milliseconds(0));
  (void)pool.run(f, lf::observe(progress));
  CHECK(log.str().find('\r') == std::string::npos);  // plain lines for a log
  CHECK(log.str().back() == '\n');
}

TEMPLATE_TEST_CASE("a logger writes retries, failures, callback failures and run ends, at their levels", "[observe][logger]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  log_lines logged;
  lf::logger info = logged.logger();  // info and above
  log_lines quiet_lines;
  lf::logger errors_only = quiet_lines.logger(lf::log_level::error);
  std::atomic<int> calls{0};
  auto flaky = [&calls]() -> int {
    if (++calls < 2) throw std::runtime_error("card declined");
    return 1;
  };
  auto broken = [] { throw std::runtime_error("no stock"); };
  auto refuse = [](const lf::step_event&) { throw std::runtime_error("quota"); };
  lf::executor pool{2};
  pool.observe(info);
  auto run = [&](auto& f) {
    if constexpr (TestType::is_static) return pool.run(f, lf::observe(errors_only));
    else return pool.run(f, lf::values{}, lf::observe(errors_only));
  };
  std::string flow_ok;
  if constexpr (TestType::is_static) {
    auto f = lf::flow<"orders">(lf::step<"charge">(flaky).retry(lf::retry{3}),
                                lf::step<"ship", "charge">([&](int) { broken(); }),
                                lf::step<"notify">([] {}).after_step(lf::step_callback(refuse)),
                                lf::step<"audit">([] {}).before_step(lf::step_callback(refuse).must()));
    auto r = run(f);
    CHECK_FALSE(r.ok());
    auto fine = lf::flow<"fine">(lf::step<"a">([] {}));
    CHECK(pool.run(fine).ok());
  } else {
    lf::runtime_flow f{"orders"};
    f.add("charge", flaky).retry(lf::retry{3});
    f.add("ship", broken).after("charge");
    f.add("notify", [] {}).after_step(lf::step_callback(refuse));
    f.add("audit", [] {}).before_step(lf::step_callback(refuse).must());
    auto r = run(f);
    CHECK_FALSE(r.ok());
    lf::runtime_flow fine{"fine"};
    fine.add("a", [] {});
    CHECK(pool.run(fine, lf::values{}).ok());
  }
  using lf::log_level;
  CHECK(logged.has(log_level::warning, "flow \"orders\" run 1: step \"charge\" failed on attempt 1: card declined; it will be tried again"));
  CHECK(logged.has(log_level::error, "flow \"orders\" run 1: step \"ship\" failed: no stock"));
  CHECK(logged.has(log_level::warning, "flow \"orders\" run 1: the after-step callback of step \"notify\" threw: quota"));
  CHECK(logged.has(log_level::error, "flow \"orders\" run 1: a must before-step callback of step \"audit\" threw: quota"));
  CHECK(logged.has(log_level::warning, "flow \"orders\" run 1: ended not ok"));
  CHECK(logged.has(log_level::info, "flow \"fine\" run 2: ended ok"));
  CHECK(logged.count(log_level::debug, "") == 0);  // below the logger's level
  // The run's own logger, at error: only the errors, and only of its run.
  CHECK(quiet_lines.lines.size() == 2);
  CHECK(quiet_lines.has(log_level::error, "step \"ship\" failed: no stock"));
  CHECK(quiet_lines.has(log_level::error, "a must before-step callback of step \"audit\" threw"));
}

TEMPLATE_TEST_CASE("a logger at debug sees every attempt; a refused checkpoint is logged as an error", "[observe][logger]",
                   two_kinds::static_flows, two_kinds::runtime_flows) {
  log_lines logged;
  lf::logger debug = logged.logger(lf::log_level::debug);
  lf::executor pool{1};
  pool.observe(debug);
  lf::memory_store store;
  if constexpr (TestType::is_static) {
    auto f = lf::flow<"small">(lf::step<"a">([] { return 1; }));
    CHECK(pool.run(f).ok());
    CHECK_THROWS_AS(pool.resume(f, lf::checkpoint{store, "missing"}), lf::checkpoint_error);
  } else {
    lf::runtime_flow f{"small"};
    f.add("a", [] { return 1; });
    CHECK(pool.run(f, lf::values{}).ok());
    CHECK_THROWS_AS(pool.resume(f, lf::checkpoint{store, "missing"}), lf::checkpoint_error);
  }
  using lf::log_level;
  CHECK(logged.has(log_level::debug, "flow \"small\" run 1: started (1 step)"));
  CHECK(logged.has(log_level::debug, "flow \"small\" run 1: step \"a\" attempt 1 started"));
  CHECK(logged.has(log_level::debug, "flow \"small\" run 1: step \"a\" attempt 1 succeeded"));
  CHECK(logged.has(log_level::error, "flow \"small\": refused to resume: there is no checkpoint of run \"missing\""));
}

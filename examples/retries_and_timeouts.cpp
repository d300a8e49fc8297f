// A flow that meets a flaky service and a slow one: retries with backoff, a timeout that stops a
// step that hangs, a progress line, a Chrome trace (trace.json) and a drawing of the run (run.dot).
//
//   prices (flaky: fails twice) --> quote --> report
//   stock (hangs past its 50 ms timeout) --> reserve (skipped)
//
#include <lightflow/lightflow.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {
std::atomic<int> price_calls{0};

double fetch_prices(lf::step_context& ctx) {
  ++price_calls;
  if (ctx.attempt() < 3) throw std::runtime_error("prices service: 503 (attempt " + std::to_string(ctx.attempt()) + ")");
  return 19.99;
}

int check_stock(lf::step_context& ctx) {
  // A call that hangs: it waits until its stop token tells it to give up.
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, ctx.stop_token(), [] { return false; });
  return 0;
}
}  // namespace

int main() {
  const auto flow = lf::flow<"quote">(
      lf::step<"prices">(fetch_prices).retry(lf::retry{4, lf::backoff{5ms, 2.0, 100ms, 0.5}}.never_on<std::invalid_argument>()),
      lf::step<"quote", "prices">([](double price) { return price * 3; }),
      lf::step<"report", "quote">([](double total) { return "3 items: " + std::to_string(total); }),
      lf::step<"stock">(check_stock).timeout(50ms),
      lf::step<"reserve", "stock">([](int n) { return n; }));

  lf::executor pool{2};
  lf::trace_recorder trace;
  lf::progress_printer progress(std::cout, 0ms, false);
  auto result = pool.run(flow, lf::observe(trace), lf::observe(progress));

  for (const auto& step : result.steps())
    std::printf("%-8s %-10s attempts %u\n", std::string(step.name).c_str(), std::string(lf::to_string(step.status)).c_str(),
                step.attempts);
  std::printf("prices was called %d times; report: %s\n", price_calls.load(), result.get<"report">().c_str());
  std::printf("%s\n", result.error_message().c_str());

  std::ofstream("trace.json") << trace.chrome_trace();
  std::ofstream("run.dot") << lf::to_dot(result);
  std::printf("wrote trace.json (%zu slices) and run.dot\n", trace.slices().size());
}

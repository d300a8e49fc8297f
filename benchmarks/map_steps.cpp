// Map steps (issue 15) against oneTBB's parallel_for, OpenMP's parallel for, Taskflow's for_each_index
// (when built with -DLIGHTFLOW_TASKFLOW_DIR, see CMakeLists.txt) and a sequential loop, in one program
// and run, and against a runtime fan-out of as many steps (what a map step replaces):
// each element's body is `2 * x + 1` on an int, stored as a long. Every contender makes the vector
// of results in each run (a map step's output is a new vector). Figures: ns per element, the median
// of the runs, the contenders alternated run by run. Then the map with a checkpoint (each element
// saved as it succeeds) in a memory store and a file store, against the map without.
//
// usage: lightflow_bench_map [threads (default 2)] [largest size exponent, 3-6 (default 6)]
#include <lightflow/lightflow.hpp>

#include <omp.h>
#include <unistd.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#if LIGHTFLOW_BENCH_TASKFLOW
#include <taskflow/algorithm/for_each.hpp>
#include <taskflow/taskflow.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace lf = lightflow;
using bench_clock = std::chrono::steady_clock;

namespace {

int g_threads = 2;
thread_local std::uint64_t counter = 0;
[[gnu::noinline]] void work() { ++counter; }

long element(int x) { return 2L * x + 1; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void compare(std::size_t n) {
  std::vector<int> input(n);
  std::iota(input.begin(), input.end(), 0);
  const std::span<const int> items(input);
  long sink = 0;

  // lightflow: a static flow whose "list" hands out the input (a span: no copy), mapped by "map".
  const auto flow = lf::flow<"bench">(lf::step<"list">([items] { return items; }),
                                      lf::map_step<"map", "list">([](const int& x) { return element(x); }));
  lf::executor pool{static_cast<std::size_t>(g_threads - 1)};  // and the calling thread
  // A runtime fan-out of n steps (source, n - 2 steps, sink), built once: what a map replaces.
  lf::runtime_flow fan{"fan"};
  fan.add("source", [] { work(); });
  for (std::size_t i = 1; i + 1 < n; ++i) fan.add(std::to_string(i), [] { work(); }).after("source");
  auto end = fan.add("sink", [] { work(); });
  for (std::size_t i = 1; i + 1 < n; ++i) end.after(std::to_string(i));
  fan.check();
#if LIGHTFLOW_BENCH_TASKFLOW
  // Taskflow: a for_each_index task, built once and run again (as a Taskflow user re-runs a graph),
  // writing into a vector made in each run; its executor has as many threads as the others use.
  tf::Executor tf_executor(static_cast<std::size_t>(g_threads));
  tf::Taskflow tf_flow;
  std::vector<long> tf_out;
  tf_flow.for_each_index(std::size_t{0}, n, std::size_t{1}, [&](std::size_t i) { tf_out[i] = element(input[i]); });
#endif

  const std::function<void()> contenders[] = {
      [&] {  // sequential
        std::vector<long> out(n);
        for (std::size_t i = 0; i != n; ++i) out[i] = element(input[i]);
        sink += out.back();
      },
      [&] {  // lightflow map step
        const auto r = pool.run(flow);
        if (!r.ok()) std::abort();
        sink += r.get<"map">().back();
      },
      [&] {  // oneTBB parallel_for
        std::vector<long> out(n);
        oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
          for (std::size_t i = range.begin(); i != range.end(); ++i) out[i] = element(input[i]);
        });
        sink += out.back();
      },
      [&] {  // OpenMP parallel for
        std::vector<long> out(n);
        const auto size = static_cast<std::int64_t>(n);
#pragma omp parallel for num_threads(g_threads) schedule(static)
        for (std::int64_t i = 0; i < size; ++i)
          out[static_cast<std::size_t>(i)] = element(input[static_cast<std::size_t>(i)]);
        sink += out.back();
      },
      [&] {  // lightflow runtime fan-out of n steps
        if (!pool.run(fan, lf::values{}).ok()) std::abort();
      },
#if LIGHTFLOW_BENCH_TASKFLOW
      [&] {  // Taskflow for_each_index
        tf_out = std::vector<long>(n);
        tf_executor.run(tf_flow).wait();
        sink += tf_out.back();
      },
#endif
  };
  constexpr int k = sizeof(contenders) / sizeof(contenders[0]);
  std::vector<double> ns[k];
  for (auto& c : contenders) c();  // warm up
  const int reps = n >= 1000000 ? 9 : n >= 100000 ? 25 : 101;
  for (int r = 0; r != reps; ++r)
    for (int j = 0; j != k; ++j) {
      const int c = (r + j) % k;  // each follows each of the others equally often
      const auto start = bench_clock::now();
      contenders[c]();
      ns[c].push_back(std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() /
                      static_cast<double>(n));
    }
  const double seq = median(ns[0]), lf_map = median(ns[1]), tbb = median(ns[2]), omp = median(ns[3]),
               fan_run = median(ns[4]);
#if LIGHTFLOW_BENCH_TASKFLOW
  const double tf = median(ns[5]);
  std::printf("%9zu | %6.2f | %8.2f %8.2f %8.2f %8.2f | %8.2f | %5.2f %5.2f %5.2f\n", n, seq, lf_map, tbb, omp, tf,
              fan_run, lf_map / tbb, lf_map / tf, lf_map / fan_run);
#else
  std::printf("%9zu | %6.2f | %8.2f %8.2f %8.2f | %8.2f | %5.2f %5.2f\n", n, seq, lf_map, tbb, omp, fan_run,
              lf_map / tbb, lf_map / fan_run);
#endif
  std::fflush(stdout);
  if (sink == 42) std::puts("");  // keeps the results alive
}

// The cost of saving each element as it succeeds: the same map, with a checkpoint in a memory
// store and in a file store (fast and durable: one fdatasync per group commit), a new run id each
// run (a run id that had finished would be restored, not run). ns per element, medians.
void checkpointed(std::size_t n) {
  std::vector<int> input(n);
  std::iota(input.begin(), input.end(), 0);
  // A map over the run's input (saved once with the run), which every column passes the same way.
  const auto flow = lf::flow<"bench">(lf::map_step<"map">([](const int& x) { return element(x); }));
  lf::executor pool{static_cast<std::size_t>(g_threads - 1)};
  const auto dir = std::filesystem::temp_directory_path() / ("lightflow-bench-map-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  lf::file_store fast(dir / "fast", lf::durability::fast), durable(dir / "durable", lf::durability::durable);
  int id = 0;
  auto timed = [&](auto&& run) {
    const auto start = bench_clock::now();
    run();
    return std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() / static_cast<double>(n);
  };
  const int reps = n >= 100000 ? 5 : 15;
  std::vector<double> plain, memory, in_fast, in_durable;
  for (int r = 0; r != reps; ++r) {
    plain.push_back(timed([&] {
      if (!pool.run(flow, input).ok()) std::abort();
    }));
    memory.push_back(timed([&] {
      lf::memory_store store;
      if (!pool.run(flow, input, lf::checkpoint{store, "r"}).ok()) std::abort();
    }));
    in_fast.push_back(timed([&] {
      if (!pool.run(flow, input, lf::checkpoint{fast, "r" + std::to_string(++id)}).ok()) std::abort();
    }));
    in_durable.push_back(timed([&] {
      if (!pool.run(flow, input, lf::checkpoint{durable, "r" + std::to_string(++id)}).ok()) std::abort();
    }));
  }
  std::printf("%9zu | %8.1f | %8.1f %8.1f %8.1f\n", n, median(plain), median(memory), median(in_fast),
              median(in_durable));
  std::fflush(stdout);
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_threads = std::max(2, std::atoi(argv[1]));
  const int largest = argc > 2 ? std::clamp(std::atoi(argv[2]), 3, 6) : 6;
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(g_threads));
  std::printf("map steps, %d threads; ns per element (the fan-out: per step)\n\n", g_threads);
#if LIGHTFLOW_BENCH_TASKFLOW
  std::printf("%9s | %6s | %8s %8s %8s %8s | %8s | %s\n", "elements", "seq", "lf map", "tbb pfor", "omp for",
              "tf f_e_i", "lf fan", "map/tbb, map/tf, map/fan");
#else
  std::printf("%9s | %6s | %8s %8s %8s | %8s | %s\n", "elements", "seq", "lf map", "tbb pfor", "omp for", "lf fan",
              "map/tbb, map/fan");
#endif
  for (int e = 3; e <= largest; ++e) compare(static_cast<std::size_t>(std::pow(10, e)));
  std::printf("\nthe same map with a checkpoint, each element saved as it succeeds; ns per element\n\n");
  std::printf("%9s | %8s | %8s %8s %8s\n", "elements", "none", "memory", "file fast", "file durable");
  for (int e = 3; e <= std::min(largest, 5); ++e) checkpointed(static_cast<std::size_t>(std::pow(10, e)));
  return 0;
}

// Runtime-built flows of 1e3 to 1e6 steps against oneTBB's flow graph, OpenMP task depend and a
// sequential loop, in one program and run: construction and execution timed separately, and the
// memory each graph holds per step. Task bodies add one to a per-thread counter.
//
// usage: lightflow_bench_runtime [threads (default 2)] [largest size exponent, 3-6 (default 6)]
#include <lightflow/lightflow.hpp>

#include <malloc.h>
#include <omp.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lf = lightflow;
using bench_clock = std::chrono::steady_clock;

namespace {

thread_local std::uint64_t counter = 0;
[[gnu::noinline]] void work() { ++counter; }

int g_threads = 2;

/// A graph as dependency lists (CSR), with a topological order: the same shape for every contender.
struct shape {
  explicit shape(std::string shape_name) : name(std::move(shape_name)) {}
  std::string name;
  std::uint32_t n = 0;
  std::vector<std::uint32_t> offsets{0}, deps, order;
  void add(std::initializer_list<std::uint32_t> ds) {
    for (auto d : ds) deps.push_back(d);
    offsets.push_back(static_cast<std::uint32_t>(deps.size()));
    order.push_back(n++);
  }
};

shape chain(std::uint32_t n) {
  shape s("chain " + std::to_string(n));
  s.add({});
  for (std::uint32_t i = 1; i != n; ++i) s.add({i - 1});
  return s;
}
shape fan_out(std::uint32_t n) {  // source, n - 2 steps, sink
  shape s("fan-out " + std::to_string(n));
  s.add({});
  for (std::uint32_t i = 1; i + 1 < n; ++i) s.add({0});
  for (std::uint32_t i = 1; i + 1 < n; ++i) s.deps.push_back(i);
  s.offsets.push_back(static_cast<std::uint32_t>(s.deps.size()));
  s.order.push_back(s.n++);
  return s;
}
shape wavefront(std::uint32_t side) {
  shape s("wavefront " + std::to_string(side) + "x" + std::to_string(side));
  for (std::uint32_t r = 0; r != side; ++r)
    for (std::uint32_t c = 0; c != side; ++c) {
      const std::uint32_t i = r * side + c;
      if (r == 0 && c == 0) s.add({});
      else if (r == 0) s.add({i - 1});
      else if (c == 0) s.add({i - side});
      else s.add({i - side, i - 1});
    }
  return s;
}
shape tree(std::uint32_t depth) {  // a binary tree: each step depends on its parent
  shape s("binary tree depth " + std::to_string(depth));
  const std::uint32_t n = (1u << depth) - 1;
  s.add({});
  for (std::uint32_t i = 1; i != n; ++i) s.add({(i - 1) / 2});
  return s;
}

double live_bytes() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}
double ms_since(bench_clock::time_point t0) { return std::chrono::duration<double, std::milli>(bench_clock::now() - t0).count(); }

/// Median ns per step of `run()` over `reps` runs, after one warm-up run.
double ns_per_step(std::uint32_t n, int reps, const std::function<void()>& run) {
  run();
  std::vector<double> ns;
  for (int r = 0; r != reps; ++r) {
    const auto t0 = bench_clock::now();
    run();
    ns.push_back(ms_since(t0) * 1e6 / n);
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

void compare(const shape& s) {
  const std::uint32_t n = s.n;
  const int reps = n >= 500000 ? 7 : n >= 50000 ? 15 : 41;
  const double seq = ns_per_step(n, reps, [&] {
    for (std::uint32_t i = 0; i != n; ++i) work();
  });

  // lightflow: a runtime_flow, checked once (the first run checks it; timed with construction).
  // The executor, like oneTBB's task arena (made at its first run, after oneTBB's measurement), is
  // the scheduler every flow shares: made before the measurement. What its deques grow to during
  // the run is counted, and so is one run's state (alive while its result is).
  double lf_build = 0, lf_bytes = 0;
  lf::executor pool{static_cast<std::size_t>(g_threads - 1)};  // + the calling thread
  malloc_trim(0);
  double before = live_bytes();
  auto t0 = bench_clock::now();
  auto f = std::make_unique<lf::runtime_flow>(s.name);
  {
    std::vector<lf::step_handle> steps;
    steps.reserve(n);
    for (std::uint32_t i = 0; i != n; ++i) {
      auto h = f->add("s" + std::to_string(i), [] { work(); });
      for (std::uint32_t e = s.offsets[i]; e != s.offsets[i + 1]; ++e) f->depend(h, steps[s.deps[e]]);
      steps.push_back(h);
    }
    f->check();
    lf_build = ms_since(t0) * 1e6 / n;
  }
  {
    auto result = pool.run(*f);
    if (!result.ok()) std::abort();
    lf_bytes = (live_bytes() - before) / n;
  }

  // oneTBB flow graph: continue_nodes and edges, built once, re-run.
  using namespace oneapi::tbb::flow;
  malloc_trim(0);
  before = live_bytes();
  t0 = bench_clock::now();
  auto g = std::make_unique<graph>();
  std::vector<continue_node<continue_msg>> nodes;
  nodes.reserve(n);
  for (std::uint32_t i = 0; i != n; ++i) {
    nodes.emplace_back(*g, [](const continue_msg&) { work(); });
    for (std::uint32_t e = s.offsets[i]; e != s.offsets[i + 1]; ++e) make_edge(nodes[s.deps[e]], nodes[i]);
  }
  const double tbb_build = ms_since(t0) * 1e6 / n;
  const double tbb_bytes = (live_bytes() - before) / n;

  // Runs alternate (lightflow, lightflow without step times, oneTBB), so that the machine's slow and
  // fast moments fall on all alike.
  double lf_run = 0, lf_untimed_run = 0, tbb_run = 0;
  {
    auto run_lf = [&] {
      if (!pool.run(*f).ok()) std::abort();
    };
    auto run_lf_untimed = [&] {
      if (!pool.run(*f, lf::no_step_times).ok()) std::abort();
    };
    auto run_tbb = [&] {
      nodes[0].try_put(continue_msg());
      g->wait_for_all();
    };
    run_lf();
    run_lf_untimed();
    run_tbb();
    std::vector<double> lf_ns, lf_untimed_ns, tbb_ns;
    auto timed = [&](std::vector<double>& into, auto&& run) {
      const auto start = bench_clock::now();
      run();
      into.push_back(ms_since(start) * 1e6 / n);
    };
    auto median = [](std::vector<double>& v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    // The order rotates, so that each follows each of the others equally often (what ran just
    // before changes a run's figure: caches, the other thread's wake-up).
    for (int r = 0; r != reps; ++r)
      for (int k = 0; k != 3; ++k) switch ((r + k) % 3) {
          case 0: timed(lf_ns, run_lf); break;
          case 1: timed(lf_untimed_ns, run_lf_untimed); break;
          default: timed(tbb_ns, run_tbb); break;
        }
    lf_run = median(lf_ns);
    lf_untimed_run = median(lf_untimed_ns);
    tbb_run = median(tbb_ns);
  }
  nodes.clear();
  g.reset();
  f.reset();

  // OpenMP task depend: the tasks are made by each run (construction is part of it).
  double omp_run = 0;
  {
    std::vector<char> token(n);
    std::vector<int> deps(s.deps.begin(), s.deps.end()), first(s.offsets.begin(), s.offsets.end());
    omp_run = ns_per_step(n, reps, [&] {
      char* t = token.data();
      const int* d = deps.data();
      (void)t, (void)d;  // used only in the depend clauses
#pragma omp parallel num_threads(g_threads)
#pragma omp single
      {
        for (std::uint32_t i = 0; i != n; ++i) {
          const int lo = first[i], hi = first[i + 1];
#pragma omp task depend(iterator(x = lo : hi), in : t[d[x]]) depend(out : t[i])
          work();
        }
#pragma omp taskwait
      }
    });
  }
  std::printf("%-26s %8u | %6.1f | %7.1f %7.1f %7.1f %7.1f | %7.1f %7.1f | %6.0f %6.0f | %5.2f %5.2f\n", s.name.c_str(), n,
              seq, lf_run, lf_untimed_run, tbb_run, omp_run, lf_build, tbb_build, lf_bytes, tbb_bytes, lf_run / tbb_run,
              lf_untimed_run / tbb_run);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_threads = std::max(2, std::atoi(argv[1]));
  const int largest = argc > 2 ? std::clamp(std::atoi(argv[2]), 3, 6) : 6;
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(g_threads));
  std::printf("runtime flows, %d threads; execution and construction in ns per step, memory in bytes per step\n\n", g_threads);
  std::printf("%-26s %8s | %6s | %7s %7s %7s %7s | %7s %7s | %6s %6s | %s\n", "shape", "steps", "seq", "lf run", "lf nt",
              "tbb run", "omp run", "lf make", "tbb make", "lf B", "tbb B", "lf/tbb, nt/tbb run");
  std::printf("(lf nt: lightflow with lf::no_step_times, no clock read per step)\n");
  for (int e = 3; e <= largest; ++e) {
    const auto n = static_cast<std::uint32_t>(std::pow(10, e));
    compare(chain(n));
    compare(fan_out(n));
    compare(wavefront(static_cast<std::uint32_t>(std::lround(std::sqrt(n)))));
  }
  for (std::uint32_t depth : {10u, 13u, 17u, 20u})
    if (depth <= static_cast<std::uint32_t>(largest) * 10 / 3 + 1) compare(tree(depth));
  if (largest == 6) compare(wavefront(1024));
  return 0;
}

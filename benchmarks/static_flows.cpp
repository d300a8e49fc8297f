// Static flows re-run many times: lightflow against oneTBB flow graph, OpenMP `task depend` and a
// plain sequential loop, on the same graphs, in one program and one run. Prints ns per step and the
// ratio to oneTBB. Every step's body adds one to a per-thread counter.
//
// usage: lightflow_bench_static [threads (default 2)] [milliseconds per measurement (default 200)]
#include <lightflow/lightflow.hpp>

#include <omp.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "support/generated_flows.hpp"

namespace lf = lightflow;
using bench_clock = std::chrono::steady_clock;

namespace {

thread_local std::uint64_t counter = 0;
[[gnu::noinline]] void work() { ++counter; }

int g_threads = 2;
double g_millis = 200;

/// Median ns per step of `run_once` (one run of a graph of `steps` steps), over 7 measurements.
double measure(std::size_t steps, const std::function<void(std::size_t)>& run_batch) {
  run_batch(64);  // warm up
  std::size_t batch = 64;
  for (;;) {  // find a batch that takes about the time asked for
    const auto t0 = bench_clock::now();
    run_batch(batch);
    const double ms = std::chrono::duration<double, std::milli>(bench_clock::now() - t0).count();
    if (ms > g_millis / 4 || batch > (1u << 26)) {
      batch = static_cast<std::size_t>(static_cast<double>(batch) * g_millis / std::max(ms, 0.01)) + 1;
      break;
    }
    batch *= 4;
  }
  std::vector<double> ns;
  for (int m = 0; m != 7; ++m) {
    const auto t0 = bench_clock::now();
    run_batch(batch);
    ns.push_back(std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count() /
                 static_cast<double>(batch * steps));
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

struct row {
  std::string shape;
  std::size_t steps;
  double sequential, lightflow, tbb, omp;
};

template <class Flow>
row compare(const char* shape, const Flow& flow, lf::executor& pool) {
  constexpr auto& g = Flow::graph;
  constexpr std::size_t n = Flow::size;
  row r{shape, n, 0, 0, 0, 0};

  r.sequential = measure(n, [](std::size_t runs) {
    for (std::size_t k = 0; k != runs; ++k)
      for (std::size_t i = 0; i != n; ++i) work();
  });

  r.lightflow = measure(n, [&](std::size_t runs) {
    for (std::size_t k = 0; k != runs; ++k) {
      auto result = pool.run(flow);
      if (!result.ok()) std::abort();
    }
  });

  {  // oneTBB flow graph, built once, re-run
    oneapi::tbb::flow::graph graph;
    std::vector<oneapi::tbb::flow::continue_node<oneapi::tbb::flow::continue_msg>> nodes;
    nodes.reserve(n);
    for (std::size_t i = 0; i != n; ++i)
      nodes.emplace_back(graph, [](const oneapi::tbb::flow::continue_msg&) { work(); });
    for (std::uint32_t i = 0; i != n; ++i)
      for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
        oneapi::tbb::flow::make_edge(nodes[g.deps[e]], nodes[i]);
    r.tbb = measure(n, [&](std::size_t runs) {
      for (std::size_t k = 0; k != runs; ++k) {
        for (std::uint32_t x = 0; x != g.root_count; ++x) nodes[g.roots[x]].try_put(oneapi::tbb::flow::continue_msg());
        graph.wait_for_all();
      }
    });
  }

  {  // OpenMP tasks with dependences, one parallel region around all runs
    std::vector<char> token(n);
    std::vector<int> deps(g.deps.begin(), g.deps.end());
    std::vector<int> first(g.dep_offsets.begin(), g.dep_offsets.end());
    r.omp = measure(n, [&](std::size_t runs) {
      char* t = token.data();
      const int* d = deps.data();
#pragma omp parallel num_threads(g_threads)
#pragma omp single
      for (std::size_t k = 0; k != runs; ++k) {
        for (std::uint32_t j = 0; j != n; ++j) {
          const std::uint32_t i = g.order[j];
          const int lo = first[i], hi = first[i + 1];
#pragma omp task depend(iterator(x = lo : hi), in : t[d[x]]) depend(out : t[i])
          work();
        }
#pragma omp taskwait
      }
    });
  }
  return r;
}

void print(const std::vector<row>& rows) {
  std::printf("\n%-26s %6s %10s %10s %10s %10s   %s\n", "shape (ns per step)", "steps", "sequential", "lightflow",
              "oneTBB", "OpenMP", "lightflow/oneTBB");
  for (const auto& r : rows)
    std::printf("%-26s %6zu %10.1f %10.1f %10.1f %10.1f   %.2f\n", r.shape.c_str(), r.steps, r.sequential, r.lightflow,
                r.tbb, r.omp, r.lightflow / r.tbb);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_threads = std::max(1, std::atoi(argv[1]));
  if (argc > 2) g_millis = std::max(1.0, std::atof(argv[2]));
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(g_threads));
  // lightflow's caller works beside its workers, so `threads - 1` workers make `threads` threads.
  lf::executor pool{static_cast<std::size_t>(std::max(1, g_threads - 1))};
  std::printf(
      "threads: %d (lightflow: %zu worker%s + the calling thread; oneTBB: max_allowed_parallelism %d; OpenMP: "
      "num_threads %d)\n",
      g_threads, pool.worker_count(), pool.worker_count() == 1 ? "" : "s", g_threads, g_threads);

  auto body = [] { work(); };
  std::vector<row> rows;
  rows.push_back(compare("chain 32", generated::make_flow<generated::chain<32>>(body), pool));
  rows.push_back(compare("fan-out 32 (source+sink)", generated::make_flow<generated::fan_out<32>>(body), pool));
  rows.push_back(compare("diamond", generated::make_flow<generated::diamond>(body), pool));
  rows.push_back(compare("wavefront 16x16", generated::make_flow<generated::wavefront<16, 16>>(body), pool));
  rows.push_back(compare("one run of a 1-step flow", generated::make_flow<generated::chain<1>>(body), pool));
  print(rows);
  std::printf("\n(ns per step; for the 1-step flow that is ns per run. Medians of 7 measurements of ~%.0f ms each.)\n",
              g_millis);
  return 0;
}

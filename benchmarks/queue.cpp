// Queued runs on PostgreSQL (postgres_queue.hpp, postgres_worker.hpp), on a server of the
// benchmark's own (initdb/pg_ctl as the tests do, fsync on): a 1,000-step runtime flow of ~1 µs steps
// (10 layers of 100, each step after two of the layer before) run
//   - without a checkpoint, and with a postgres_store checkpoint (the run on this process's executor);
//   - queued: R runs enqueued, then drained by one worker in this process (claim, run, end: the cost
//     of the queue per run and per step);
//   - queued and drained by 1, 2 and 4 worker processes (each an executor of 1 thread), started
//     together: runs and checkpointed steps per second;
//   - spread over 1, 2 and 4 worker processes a step at a time (enqueue_options::spread): steps per
//     second over runs of a 20-step flow, and the time per step of a 20-step chain (one step after
//     another: claim, open the checkpoint, run, end).
//
// usage: lightflow_bench_queue [runs (default 20)]
#include <lightflow/lightflow.hpp>
#include <lightflow/postgres_worker.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/postgres_server.hpp"

extern char** environ;
namespace lf = lightflow;
using bench_clock = std::chrono::steady_clock;

namespace {

constexpr int layers = 10, width = 100, steps = layers * width;
// Spread over workers, a step at a time: a smaller flow (each step opens the run's checkpoint), and a
// chain of it for the latency of one step after another.
constexpr int spread_layers = 4, spread_width = 5, spread_steps = spread_layers * spread_width, chain_steps = 20;
const lf::key<std::uint64_t> seed{"seed"};

std::uint64_t work(std::uint64_t v) {
  for (int i = 0; i != 750; ++i) v = v * 6364136223846793005ull + 1442695040888963407ull;
  return v;
}

lf::runtime_flow make_flow(int layers = ::layers, int width = ::width, const char* flow_name = "queued_bench") {
  lf::runtime_flow f{flow_name};
  auto name = [](int layer, int k) { return "l" + std::to_string(layer) + "_" + std::to_string(k); };
  for (int layer = 0; layer != layers; ++layer)
    for (int k = 0; k != width; ++k) {
      if (layer == 0) {
        f.add(name(0, k), [k](lf::context& ctx) { return work(ctx.get(seed) ^ static_cast<std::uint64_t>(k)); });
      } else {
        const std::string a = name(layer - 1, k), b = name(layer - 1, (k + 1) % width);
        auto step = f.add(name(layer, k), [a, b](lf::context& ctx) {
          return work(ctx.result<std::uint64_t>(a) ^ (a == b ? 0 : ctx.result<std::uint64_t>(b)));
        });
        step.after(a);
        if (a != b) step.after(b);  // (a chain: one dependency)
      }
    }
  return f;
}
lf::values input(std::uint64_t s) {
  lf::values v;
  v.set(seed, s);
  return v;
}
void check(const lf::runtime_result& r) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error_message().c_str());
    std::exit(1);
  }
}
double since(bench_clock::time_point t0) { return std::chrono::duration<double>(bench_clock::now() - t0).count(); }

// As a worker process: drains the queue with an executor of one thread.
int work_as_process(const char* conninfo, const char* schema, const char* name) {
  lf::postgres_store store(conninfo, schema);
  lf::executor pool{1};
  lf::postgres_worker worker(store, pool, {.name = name, .runs = 1});
  worker.serve(make_flow())
      .serve(make_flow(spread_layers, spread_width, "spread_bench"))
      .serve(make_flow(chain_steps, 1, "chain_bench"));
  (void)worker.drain();
  return 0;
}

// Starts `n` worker processes on `schema` and waits for them to drain it; seconds.
double drain_with_processes(const char* self, const std::string& conninfo, const std::string& schema, int n) {
  const auto t0 = bench_clock::now();
  std::vector<pid_t> children;
  for (int k = 0; k != n; ++k) {
    const std::string name = "w" + std::to_string(k);
    char* args[] = {
        const_cast<char*>(self),           const_cast<char*>("worker"),     const_cast<char*>(conninfo.c_str()),
        const_cast<char*>(schema.c_str()), const_cast<char*>(name.c_str()), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, args, environ) != 0) std::exit(1);
    children.push_back(pid);
  }
  for (pid_t pid : children) (void)::waitpid(pid, nullptr, 0);
  return since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "worker") return work_as_process(argv[2], argv[3], argv[4]);
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  test_postgres::server server(true);  // fsync on
  const auto flow = make_flow();
  std::printf("queued runs of a %d-step runtime flow (~1 us steps), PostgreSQL %s, local socket, fsync on; %d runs\n",
              steps, PQlibVersion() >= 150000 ? "15+" : "<15", runs);

  // Each process measures on a schema of its own (no run left from another measurement).
  std::vector<std::pair<int, double>> processes;  // workers -> seconds
  for (int n : {1, 2, 4}) {
    const std::string schema = "bench_p" + std::to_string(n);
    {
      lf::postgres_store store(server.conninfo(), schema);
      lf::postgres_queue queue(store);
      for (int i = 0; i != runs; ++i) (void)queue.enqueue(flow, input(static_cast<std::uint64_t>(i)));
    }
    processes.emplace_back(n, drain_with_processes(argv[0], server.conninfo(), schema, n));
  }
  // Spread runs: `runs` runs of the 20-step flow, their steps taken one by one by n processes; and
  // one 20-step chain, its steps one after another (the latency of a step: claim, open, run, end).
  std::vector<std::pair<int, double>> spread, chain;
  for (int n : {1, 2, 4}) {
    const std::string schema = "bench_s" + std::to_string(n), chain_schema = "bench_c" + std::to_string(n);
    {
      lf::postgres_store store(server.conninfo(), schema);
      lf::postgres_queue queue(store);
      const auto f = make_flow(spread_layers, spread_width, "spread_bench");
      for (int i = 0; i != runs; ++i) (void)queue.enqueue(f, input(static_cast<std::uint64_t>(i)), {.spread = true});
      lf::postgres_store chain_store(server.conninfo(), chain_schema);
      lf::postgres_queue chain_queue(chain_store);
      (void)chain_queue.enqueue(make_flow(chain_steps, 1, "chain_bench"), input(1), {.spread = true});
    }
    spread.emplace_back(n, drain_with_processes(argv[0], server.conninfo(), schema, n));
    chain.emplace_back(n, drain_with_processes(argv[0], server.conninfo(), chain_schema, n));
  }

  lf::executor pool{2};
  std::vector<double> plain;
  for (int i = 0; i != runs; ++i) {
    const auto t0 = bench_clock::now();
    check(pool.run(flow, input(static_cast<std::uint64_t>(i))));
    plain.push_back(since(t0));
  }
  std::sort(plain.begin(), plain.end());
  const double none = plain[plain.size() / 2];

  lf::postgres_store store(server.conninfo(), "bench_one");
  std::vector<double> direct;
  for (int i = 0; i != runs; ++i) {
    const auto t0 = bench_clock::now();
    check(pool.run(flow, input(static_cast<std::uint64_t>(i)), lf::checkpoint{store, "direct-" + std::to_string(i)}));
    direct.push_back(since(t0));
  }
  std::sort(direct.begin(), direct.end());
  const double stored = direct[direct.size() / 2];

  lf::postgres_queue queue(store);
  auto t0 = bench_clock::now();
  for (int i = 0; i != runs; ++i) (void)queue.enqueue(flow, input(static_cast<std::uint64_t>(i)));
  const double enqueue = since(t0);
  lf::postgres_worker worker(store, pool, {.runs = 1});
  worker.serve(flow);
  t0 = bench_clock::now();
  const std::size_t drained = worker.drain();
  const double queued = since(t0) / static_cast<double>(drained);

  std::printf("%-52s %10s %10s %12s\n", "", "ms/run", "x plain", "ns/step added");
  std::printf("%-52s %10.2f %10.2f %12s\n", "no checkpoint (executor of 2)", none * 1e3, 1.0, "-");
  std::printf("%-52s %10.2f %10.2f %12.0f\n", "postgres_store checkpoint (executor of 2)", stored * 1e3, stored / none,
              (stored - none) * 1e9 / steps);
  std::printf("%-52s %10.2f %10.2f %12.0f\n", "queued, one worker in this process (1 run at once)", queued * 1e3,
              queued / none, (queued - none) * 1e9 / steps);
  std::printf("enqueue: %.0f us per run; one worker: %.0f checkpointed steps/s\n", enqueue * 1e6 / runs,
              steps / queued);
  std::printf("%-52s %10s %12s %12s\n", "worker processes (executor of 1 thread each)", "s", "runs/s", "steps/s");
  for (const auto& [n, seconds] : processes)
    std::printf("%-52d %10.2f %12.1f %12.0f\n", n, seconds, runs / seconds, runs * steps / seconds);
  std::printf("spread over worker processes, a step at a time (%d runs of %d steps; a %d-step chain)\n", runs,
              spread_steps, chain_steps);
  std::printf("%-52s %10s %12s %16s\n", "worker processes", "s", "steps/s", "chain ms/step");
  for (std::size_t k = 0; k != spread.size(); ++k)
    std::printf("%-52d %10.2f %12.0f %16.2f\n", spread[k].first, spread[k].second,
                runs * spread_steps / spread[k].second, chain[k].second * 1e3 / chain_steps);
  return 0;
}

// The cost of checkpointing: a 1,000-step flow of ~1 µs steps run without checkpoints and with
// memory_store, file_store (fast) and file_store (durable), side by side; with sqlite_store and
// postgres_store too when the benchmark is built with SQLite and libpq (a PostgreSQL server of its
// own, as the tests start one, with fsync on); and the binary serializer's throughput.
//
// usage: lightflow_bench_checkpoint [runs per measurement (default 20)]
#include <lightflow/lightflow.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include "support/generated_flows.hpp"
#ifdef LIGHTFLOW_BENCH_SQLITE
#include <lightflow/sqlite_store.hpp>
#endif
#ifdef LIGHTFLOW_BENCH_POSTGRES
#include <lightflow/postgres_store.hpp>

#include "support/postgres_server.hpp"
#endif

namespace lf = lightflow;
using bench_clock = std::chrono::steady_clock;

namespace {

int g_runs = 20;

// About 1 µs of work that depends on the step's inputs.
std::uint64_t work(std::uint64_t v) {
  for (int i = 0; i != 750; ++i) v = v * 6364136223846793005ull + 1442695040888963407ull;
  return v;
}
auto step_body = [](const auto&... in) -> std::uint64_t { return work((std::uint64_t{1} ^ ... ^ in)); };

/// Median µs per run of `run(i)` over g_runs runs (after 3 warm-up runs); `cleanup(i)`, if given, is
/// called after each run, untimed, and its median goes to `*cleanup_us`.
double median_us(const std::function<void(int)>& run, const std::function<void(int)>& cleanup = {},
                 double* cleanup_us = nullptr) {
  for (int i = 0; i != 3; ++i) {
    run(-1 - i);
    if (cleanup) cleanup(-1 - i);
  }
  std::vector<double> us, cleanups;
  for (int i = 0; i != g_runs; ++i) {
    const auto t0 = bench_clock::now();
    run(i);
    const auto t1 = bench_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (cleanup) {
      cleanup(i);
      cleanups.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - t1).count());
    }
  }
  std::sort(us.begin(), us.end());
  if (cleanup_us != nullptr && !cleanups.empty()) {
    std::sort(cleanups.begin(), cleanups.end());
    *cleanup_us = cleanups[cleanups.size() / 2];
  }
  return us[us.size() / 2];
}

// A run id: the letter, then the number. (Not `"f" + std::to_string(i)`: g++ 12 at -O3 warns about
// that expression's inlined copies, a known false positive of -Wrestrict and -Wstringop-overflow.)
std::string run_id(char letter, int i) {
  std::string id(1, letter);
  id += std::to_string(i);
  return id;
}

template <class Flow>
void compare(const char* shape, const Flow& flow, lf::executor& pool) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lightflow-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto check = [](const auto& result) {
    if (!result.ok()) {
      std::fprintf(stderr, "%s\n", result.error_message().c_str());
      std::exit(1);
    }
  };
  const double none = median_us([&](int) { check(pool.run(flow, std::uint64_t{3})); });
  lf::memory_store memory;
  // Each checkpointed run has a fresh run id; its records are erased after it, untimed (the median
  // time of that erase is printed apart: removing a file just synced can take milliseconds here).
  const double mem = median_us(
      [&](int i) { check(pool.run(flow, std::uint64_t{3}, lf::checkpoint{memory, run_id('m', i)})); },
      [&](int i) { memory.erase(Flow::name.view(), run_id('m', i)); });
  double erase_us[2] = {0, 0};
  auto with_file = [&](lf::durability d, double* erase) {
    lf::file_store store(dir, d);
    return median_us([&](int i) { check(pool.run(flow, std::uint64_t{3}, lf::checkpoint{store, run_id('f', i)})); },
                     [&](int i) { store.erase(Flow::name.view(), run_id('f', i)); }, erase);
  };
  const double fast = with_file(lf::durability::fast, &erase_us[0]);
  const double durable = with_file(lf::durability::durable, &erase_us[1]);
  std::filesystem::remove_all(dir);
  const double n = Flow::size;
  std::printf("%-28s %10.0f %10.0f %10.0f %10.0f   %5.2f %5.2f %5.2f   %6.0f %6.0f %6.0f\n", shape, none, mem, fast, durable,
              mem / none, fast / none, durable / none, (mem - none) * 1000 / n, (fast - none) * 1000 / n,
              (durable - none) * 1000 / n);
  std::printf("%-28s erasing a run's records afterwards (untimed above): file fast %.0f µs, durable %.0f µs\n", "",
              erase_us[0], erase_us[1]);
  // The database stores: µs per run, ratio to no checkpoint, ns per step added.
  auto with_database = [&](const char* name, auto& store, char letter) {
    const double us = median_us([&](int i) { check(pool.run(flow, std::uint64_t{3}, lf::checkpoint{store, run_id(letter, i)})); },
                                [&](int i) { store.erase(Flow::name.view(), run_id(letter, i)); });
    std::printf("%-28s %s: %.0f µs per run, %.2fx, %.0f ns per step added\n", "", name, us, us / none, (us - none) * 1000 / n);
  };
#ifdef LIGHTFLOW_BENCH_SQLITE
  {
    std::filesystem::create_directories(dir);
    lf::sqlite_store store((dir / "runs.db").string());
    with_database("sqlite_store (WAL, synchronous=FULL)", store, 's');
    std::filesystem::remove_all(dir);
  }
#endif
#ifdef LIGHTFLOW_BENCH_POSTGRES
  try {
    static test_postgres::server server(true);  // durable: fsync on
    lf::postgres_store store(server.conninfo(), "bench");
    with_database("postgres_store (local server, Unix socket, fsync on)", store, 'p');
  } catch (const std::exception& e) {  // no server programs here (Debian: postgresql)
    std::printf("%-28s postgres_store: not measured (%s)\n", "", e.what());
  }
#endif
  (void)with_database;
}

template <class T>
void throughput(const char* what, const T& value) {
  lf::binary_serializer s;
  std::vector<std::byte> bytes;
  s.write(value, bytes);
  const double mb = static_cast<double>(bytes.size()) / 1e6;
  const double write_us = median_us([&](int) {
    std::vector<std::byte> out;
    s.write(value, out);
    if (out.size() != bytes.size()) std::abort();
  });
  const double read_us = median_us([&](int) {
    T back = s.read<T>(bytes);
    if (back.size() != value.size()) std::abort();
  });
  std::printf("%-36s %8.2f MB   write %8.0f µs (%7.0f MB/s)   read %8.0f µs (%7.0f MB/s)\n", what, mb, write_us,
              mb / write_us * 1e6, read_us, mb / read_us * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_runs = std::max(3, std::atoi(argv[1]));
  lf::executor pool{1};  // one worker and the calling thread: 2 threads
  std::printf("1,000 steps of ~1 µs, 2 threads; µs per run (median of %d), ratio to no checkpoint, ns per step added\n\n", g_runs);
  std::printf("%-28s %10s %10s %10s %10s   %5s %5s %5s   %6s %6s %6s\n", "shape", "none", "memory", "file fast",
              "durable", "mem", "fast", "dur.", "mem", "fast", "dur.");
  compare("fan-out (source, 998, sink)", generated::make_flow<generated::fan_out<998>, "fan-out 1000">(step_body), pool);
  compare("layered 50 x 20", generated::make_flow<generated::layered<50, 20>, "layered 1000">(step_body), pool);

  std::printf("\nbinary_serializer\n");
  throughput("vector<double>, 1 MiB", std::vector<double>(131072, 3.25));
  std::map<std::string, int> m;
  for (int i = 0; i != 10000; ++i) m.emplace("key-" + std::to_string(i), i);
  throughput("map<string, int>, 10,000 entries", m);
  return 0;
}

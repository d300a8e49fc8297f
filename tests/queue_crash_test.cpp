// Queued runs survive their workers and their database: worker processes (forked, each a
// postgres_worker on its own executor) run queued runs of a static and a runtime flow (a third of
// them spread over the workers step by step) while this
// process SIGKILLs them at random moments (and starts new ones), SIGSTOPs one past its lease and lets
// it go on, and crashes PostgreSQL (`pg_ctl -m immediate`) once. Every step execution is counted in a
// side file, one write() per execution. Then:
// - every run succeeded, once, and its outputs equal an uninterrupted run's;
// - a step whose record was committed when a worker was killed never ran again (runs that a stopped
//   worker held are left out of this check: a worker that wakes after losing its lease may start a
//   step before it learns it lost the run; its writes are refused, which the outputs check);
// - every step ran at least once.
// LIGHTFLOW_QUEUE_CRASH_KILLS sets the number of kills (default 100); the README has the long form.
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lightflow/lightflow.hpp>
#include <lightflow/postgres_worker.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/generated_flows.hpp"
#include "support/postgres_server.hpp"

namespace lf = lightflow;
using namespace std::chrono_literals;

namespace {

using shape = generated::wavefront<3, 4>;  // 12 steps
int side_file = -1;                        // where a worker's steps count their executions ("<run number> <step>\n")

// A step's output carries the run's number in its low 16 bits, so that every step knows its run.
std::uint64_t step_body(std::size_t index, std::uint64_t mixed, std::uint64_t run) {
  if (side_file >= 0) {
    const std::string line = std::to_string(run) + " " + std::to_string(index) + "\n";
    (void)!::write(side_file, line.data(), line.size());
  }
  std::this_thread::sleep_for(10ms);
  for (int i = 0; i != 100; ++i) mixed = mixed * 6364136223846793005ull + 1442695040888963407ull;
  return (mixed & ~std::uint64_t{0xffff}) | run;
}

template <std::size_t I>
auto counted_step() {
  return generated::make_step<shape, I>([](const auto&... in) -> std::uint64_t {
    return step_body(I, (std::uint64_t{I} ^ ... ^ in), ((in & 0xffff) | ...));
  });
}
template <std::size_t... I>
auto make_static_flow(std::index_sequence<I...>) {
  return lf::flow<"crashq_static">(counted_step<I>()...);
}
using static_type = decltype(make_static_flow(std::make_index_sequence<shape::size>{}));
const lf::key<std::uint64_t> run_key{"run"};

lf::runtime_flow make_runtime_flow() {
  lf::runtime_flow f{"crashq_runtime"};
  const auto& g = static_type::graph;
  for (std::uint32_t i = 0; i != shape::size; ++i) {
    std::vector<std::string> deps;
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e) deps.emplace_back(g.names[g.deps[e]]);
    auto h = f.add(g.names[i], [i, deps](lf::context& ctx) -> std::uint64_t {
      std::uint64_t v = i;
      if (deps.empty()) v ^= ctx.get(run_key);
      for (const auto& d : deps) v ^= ctx.result<std::uint64_t>(d);
      return step_body(i, v, ctx.get(run_key));
    });
    for (const auto& d : deps) h.after(d);
  }
  return f;
}
lf::values runtime_input(std::uint64_t run) {
  lf::values v;
  v.set(run_key, run);
  return v;
}
// Odd runs are static, even runs runtime.
bool is_static(std::uint64_t run) { return run % 2 == 1; }

const std::string schema = "crashq";

// The first column of every row `sql` returns, on a connection of this process's own (no thread).
std::vector<std::string> column(const std::string& sql) {
  PGconn* c = PQconnectdb(test_postgres::shared().conninfo().c_str());
  PGresult* r = PQexec(c, sql.c_str());
  std::vector<std::string> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK)
    for (int i = 0; i != PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("lightflow-test: " + sql + " failed");
  return out;
}

// How often each (run, step) ran so far, from the side file.
std::map<std::pair<std::uint64_t, std::uint64_t>, int> executions(const std::string& path) {
  std::map<std::pair<std::uint64_t, std::uint64_t>, int> out;
  std::ifstream in(path);
  std::uint64_t run = 0, step = 0;
  while (in >> run >> step) ++out[{run, step}];
  return out;
}

// A worker process: serves both flows until it is killed (or its database goes away for good).
pid_t spawn_worker(const std::string& side_path, int number) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);  // not Catch2's report
  side_file = ::open(side_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  try {
    lf::postgres_store store(test_postgres::shared().conninfo(), schema);
    lf::executor pool{2};
    lf::postgres_worker worker(
        store, pool,
        {.name = "w" + std::to_string(number), .lease = 300ms, .poll = 50ms, .max_claims = 1000, .runs = 2});
    const auto s = make_static_flow(std::make_index_sequence<shape::size>{});
    const auto r = make_runtime_flow();
    worker.serve<std::uint64_t>(s).serve(r);
    std::stop_source never;
    worker.run(never.get_token());
  } catch (...) {
    std::_Exit(3);  // the server went away (its crash): the test starts another worker
  }
  std::_Exit(0);
}

int kills_wanted() {
  const char* given = std::getenv("LIGHTFLOW_QUEUE_CRASH_KILLS");
  return given != nullptr ? std::atoi(given) : 100;
}

}  // namespace

TEST_CASE(
    "queued runs end once, with an uninterrupted run's outputs, while workers are killed, stopped and the server "
    "crashes",
    "[queue][postgres][crash]") {
  const std::string side_path = "/tmp/lightflow-queue-crash-" + std::to_string(::getpid());
  { std::ofstream(side_path, std::ios::trunc); }
  std::map<std::string, std::uint64_t> number_of;  // run id -> run number
  const auto enqueue = [&](int count) {
    lf::postgres_store store(test_postgres::shared().conninfo(), schema);
    lf::postgres_queue queue(store);
    const auto s = make_static_flow(std::make_index_sequence<shape::size>{});
    const auto r = make_runtime_flow();
    for (int k = 0; k != count; ++k) {
      const std::uint64_t n = number_of.size() + 1;
      const lf::enqueue_options spread{.spread = n % 3 == 0};  // a third spread over the workers step by step
      number_of[is_static(n) ? queue.enqueue(s, n, spread) : queue.enqueue(r, runtime_input(n), spread)] = n;
    }
  };  // (its connections closed before the next fork: a child must not share one)
  enqueue(60);

  std::mt19937 random(20261208);
  std::vector<pid_t> workers;
  std::vector<int> names;  // each worker's number: it is named "w<number>"
  int spawned = 0;
  const auto start = [&](std::size_t slot) {
    workers[slot] = spawn_worker(side_path, spawned);
    names[slot] = spawned++;
  };
  workers.resize(3), names.resize(3);
  for (std::size_t k = 0; k != workers.size(); ++k) start(k);
  std::set<std::uint64_t> held_by_stopped;                              // runs left out of the never-again check
  std::map<std::pair<std::uint64_t, std::uint64_t>, int> committed_at;  // (run, step) -> executions when seen committed
  const auto unfinished = [&] {
    return column("SELECT count(*) FROM " + schema + ".runs WHERE state <> 'succeeded'").front() != "0";
  };
  const int kills = kills_wanted();
  int done = 0;
  for (; done != kills; ++done) {
    if (!unfinished()) enqueue(20);  // the disturbances go on until there have been enough
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 60));
    for (std::size_t k = 0; k != workers.size(); ++k)  // a worker that exited (the server's crash) is replaced
      if (::waitpid(workers[k], nullptr, WNOHANG) == workers[k]) start(k);
    const std::size_t victim = random() % workers.size();
    if (done % 40 == 20) {  // stopped past its lease, then let go on
      ::kill(workers[victim], SIGSTOP);
      const std::string name = "'w" + std::to_string(names[victim]) + "'";
      for (const std::string& id : column("SELECT id FROM " + schema + ".runs WHERE worker = " + name +
                                          " AND state = 'running' UNION SELECT run FROM " + schema +
                                          ".steps WHERE worker = " + name + " AND state = 'running'"))
        held_by_stopped.insert(number_of[id]);
      std::this_thread::sleep_for(700ms);
      ::kill(workers[victim], SIGCONT);
      continue;
    }
    if (done == kills / 2 && test_postgres::shared().can_crash()) {  // (not a server of your own)
      test_postgres::shared().crash_and_restart();
      continue;
    }
    ::kill(workers[victim], SIGKILL);
    (void)::waitpid(workers[victim], nullptr, 0);
    std::this_thread::sleep_for(20ms);  // a COMMIT the server had received is done by now
    // The records first, then the executions: a step logs its execution before its record can be
    // committed, so every record read here has its execution in the file read after.
    const auto committed =
        column("SELECT run || ' ' || substr(key, 6) FROM " + schema + ".records WHERE key LIKE 'step/%'");
    const auto ran = executions(side_path);
    for (const std::string& row : committed) {
      std::istringstream fields(row);
      std::string id, step;
      fields >> id >> step;
      const std::pair<std::uint64_t, std::uint64_t> at{number_of.at(id), std::stoull(step.substr(1))};
      const auto count = ran.find(at);
      INFO("run " << id << " (number " << at.first << "), step " << step
                  << ": a record committed, no execution counted");
      REQUIRE(count != ran.end());
      committed_at.try_emplace(at, count->second);
    }
    start(victim);
  }
  // The rest of the runs finish undisturbed.
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (unfinished() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  for (pid_t w : workers) {
    ::kill(w, SIGKILL);
    (void)::waitpid(w, nullptr, 0);
  }
  INFO(done << " disturbances, " << spawned << " workers started");
  REQUIRE(column("SELECT count(*) FROM " + schema + ".runs WHERE state = 'succeeded'").front() ==
          std::to_string(number_of.size()));

  const auto ran = executions(side_path);
  std::size_t checked = 0;
  for (const auto& [at, count] : committed_at) {
    if (held_by_stopped.contains(at.first)) continue;
    INFO("run " << at.first << ", step " << at.second);
    CHECK(ran.at(at) == count);  // it never ran again once its record was committed
    ++checked;
  }
  CHECK(checked > 0);
  for (std::uint64_t n = 1; n <= number_of.size(); ++n)
    for (std::uint64_t i = 0; i != shape::size; ++i) CHECK(ran.contains({n, i}));

  // The outputs: read from each run's checkpoint (nothing runs), against uninterrupted runs.
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::executor pool{2};
  const auto s = make_static_flow(std::make_index_sequence<shape::size>{});
  const auto r = make_runtime_flow();
  for (const auto& [id, n] : number_of) {
    INFO("run " << id);
    if (is_static(n)) {
      auto saved = pool.resume<std::uint64_t>(s, lf::checkpoint{store, id});
      auto fresh = pool.run(s, n);
      REQUIRE(saved.ok());
      CHECK(saved.restored() == shape::size);
      CHECK(saved.get<"s00011">() == fresh.get<"s00011">());
    } else {
      auto saved = pool.resume(r, lf::checkpoint{store, id});
      auto fresh = pool.run(r, runtime_input(n));
      REQUIRE(saved.ok());
      CHECK(saved.restored() == shape::size);
      CHECK(saved.get<std::uint64_t>("s00011") == fresh.get<std::uint64_t>("s00011"));
    }
  }
  std::remove(side_path.c_str());
}

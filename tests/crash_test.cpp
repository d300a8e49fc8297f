// A child process runs a checkpointed flow on a file store (durable, then fast) and kills itself with SIGKILL at
// one chosen point of its store traffic: before or after the k-th save or flush. The kill points are
// counted, not timed, so every run of the test covers the same points. The parent resumes each run:
// the outputs must equal an uninterrupted run's, and no step whose record reached the log may run
// again. The same through a static flow and a runtime flow of the same shape; and a map step, whose
// elements each saved as it succeeded must not run again. (Torn writes inside a
// frame are covered by the file_store tests, which cut logs at every byte.)
#include <lightflow/lightflow.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/generated_flows.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

using shape = generated::wavefront<6, 9>;  // 54 steps: at least 112 kill points, all inside the run
std::array<std::atomic<int>, shape::size> invocations{};  // how often each step ran, in this process

// A little work (so that steps overlap and flushes batch differently), mixing the inputs into a
// number that depends on every step before it; deterministic.
std::uint64_t work(std::uint64_t v) {
  for (int i = 0; i != 2000; ++i) v = v * 6364136223846793005ull + 1442695040888963407ull;
  return v;
}

template <std::size_t I>
auto counted_step() {
  return generated::make_step<shape, I>([](const auto&... in) -> std::uint64_t {
    ++invocations[I];
    return work((std::uint64_t{I} ^ ... ^ in));
  });
}

template <std::size_t... I>
auto make_static_flow(std::index_sequence<I...>) {
  return lf::flow<"crash">(counted_step<I>()...);
}
using static_type = decltype(make_static_flow(std::make_index_sequence<shape::size>{}));

const lf::key<std::uint64_t> x_key{"x"};

/// The runtime flow of the same shape and steps: each reads its dependencies' results by name.
lf::runtime_flow make_runtime_flow() {
  lf::runtime_flow f{"crash"};
  const auto& g = static_type::graph;
  for (std::uint32_t i = 0; i != shape::size; ++i) {
    std::vector<std::string> deps;
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e) deps.emplace_back(g.names[g.deps[e]]);
    auto h = f.add(g.names[i], [i, deps](lf::context& ctx) -> std::uint64_t {
      ++invocations[i];
      std::uint64_t v = i;
      if (deps.empty()) v ^= ctx.get(x_key);
      for (const auto& d : deps) v ^= ctx.result<std::uint64_t>(d);
      return work(v);
    });
    for (const auto& d : deps) h.after(d);
  }
  return f;
}

template <class Kind>
auto make_flow() {
  if constexpr (Kind::is_static) return make_static_flow(std::make_index_sequence<shape::size>{});
  else return make_runtime_flow();
}
template <class Kind>
auto input() {
  return two_kinds::input<Kind>(std::uint64_t{7}, x_key);
}

// A file_store that counts the events of its traffic (a save or flush beginning, a save or flush
// ended) and kills the process at the `kill_at`-th one (never when kill_at is 0).
class killing_store {
 public:
  killing_store(lf::file_store& inner, int kill_at) : inner_(inner), kill_at_(kill_at) {}

  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    event();
    inner_.save(flow, run, key, bytes);
    event();
  }
  void flush() {
    event();
    inner_.flush();
    event();
  }
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    return inner_.load(flow, run, key);
  }
  std::vector<std::string> list(std::string_view flow, std::string_view run) { return inner_.list(flow, run); }
  void erase(std::string_view flow, std::string_view run) { inner_.erase(flow, run); }
  std::string location(std::string_view flow, std::string_view run) const { return inner_.location(flow, run); }
  bool deferred_durability() const { return inner_.deferred_durability(); }
  // Prepares even this small flow's log (durable: zeros after its frames, flushed as the run starts),
  // so that the kills fall on prepared logs too.
  bool prepare(std::string_view flow, std::string_view run, std::uint64_t bytes) {
    return inner_.prepare(flow, run, bytes + lf::file_store::prepare_threshold);
  }

  int events() const { return events_.load(); }

 private:
  void event() {
    if (events_.fetch_add(1) + 1 == kill_at_) ::kill(::getpid(), SIGKILL);
  }
  lf::file_store& inner_;
  int kill_at_;
  std::atomic<int> events_{0};
};
static_assert(lf::checkpoint_store<killing_store>);

// Runs `run(pool, store)` (true: its run was ok) in a child process whose store, in `dir`, kills it
// at its k-th event; returns whether it was killed (else it must have ended with its run ok).
template <class Run>
bool killed_at(int k, const fs::path& dir, lf::durability level, const Run& run) {
  const pid_t child = ::fork();  // no other thread exists here: the parent's executors are gone
  REQUIRE(child >= 0);
  if (child == 0) {
    lf::file_store files(dir, level);
    killing_store store(files, k);
    lf::executor pool{2};
    std::_Exit(run(pool, store) ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!was_killed) REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return was_killed;
}

}  // namespace

TEMPLATE_TEST_CASE("runs killed with SIGKILL at every point of their store traffic resume to the uninterrupted result",
                   "[checkpoint][crash]", two_kinds::static_flows, two_kinds::runtime_flows) {
  // Both levels batch their writes (the committer writes them); durable also fdatasyncs them. A
  // process crash must leave either level with a prefix of the records.
  const lf::durability level = GENERATE(lf::durability::durable, lf::durability::fast);
  CAPTURE(level == lf::durability::durable ? "durable" : "fast");
  const fs::path root = fs::temp_directory_path() / ("lightflow-crash-" + std::to_string(::getpid()));
  fs::remove_all(root);

  const auto flow = make_flow<TestType>();
  const auto& graph = static_type::graph;  // the runtime flow has the same names and dependencies
  std::uint64_t expected = 0;
  int events = 0;  // the store events of one uninterrupted checkpointed run
  {
    lf::executor pool{2};
    auto clean = pool.run(flow, input<TestType>());
    REQUIRE(clean.ok());
    expected = two_kinds::value_of<"s00053", std::uint64_t>(clean);

    lf::file_store files(root / "uninterrupted", level);
    killing_store counting(files, 0);
    REQUIRE(pool.run(flow, input<TestType>(), lf::checkpoint{counting, "victim"}).ok());
    events = counting.events();
  }
  // Each save is two events and every run saves its manifest, its input and each step once; the
  // flushes add a varying number (steps finishing together share one).
  const int save_events = 2 * (2 + static_cast<int>(shape::size));
  REQUIRE(events > save_events);

  int killed = 0, with_records = 0, finished = 0;
  for (int k = 1; k <= events + 4; ++k) {
    const fs::path dir = root / std::to_string(k);
    const bool was_killed = killed_at(k, dir, level, [&](lf::executor& pool, killing_store& store) {
      return pool.run(flow, input<TestType>(), lf::checkpoint{store, "victim"}).ok();
    });
    if (k <= save_events) CHECK(was_killed);  // every run has at least this many events
    killed += was_killed ? 1 : 0;
    finished += was_killed ? 0 : 1;

    lf::file_store store(dir, level);
    std::set<std::string> saved;  // the steps whose records survived the kill
    for (const auto& key : store.list("crash", "victim"))
      if (key.rfind("step/", 0) == 0) saved.insert(key.substr(5));
    with_records += saved.empty() ? 0 : 1;

    for (auto& n : invocations) n = 0;
    lf::executor pool{2};
    auto result = [&] {
      try {
        if constexpr (TestType::is_static) return pool.resume<std::uint64_t>(flow, lf::checkpoint{store, "victim"});
        else return pool.resume(flow, lf::checkpoint{store, "victim"});
      } catch (const lf::checkpoint_error&) {  // killed before its manifest and input were written
        return pool.run(flow, input<TestType>(), lf::checkpoint{store, "victim"});
      }
    }();
    REQUIRE(result.ok());
    CHECK(two_kinds::value_of<"s00053", std::uint64_t>(result) == expected);
    for (std::uint32_t i = 0; i != shape::size; ++i) {
      const bool had_record = saved.count(std::string(graph.names[i])) != 0;
      CHECK(invocations[i] == (had_record ? 0 : 1));  // saved steps never ran again; the others ran once
    }
    CHECK(result.restored() == saved.size());
    fs::remove_all(dir);
  }
  fs::remove_all(root);
  WARN("kill points: " << events + 4 << " (store events of an uninterrupted run: " << events
                       << "); killed: " << killed << ", of which with step records: " << with_records
                       << "; finished before the kill point: " << finished);
  CHECK(killed >= save_events);
  CHECK(killed >= 100);  // the CI-sized form: at least 100 kills
  CHECK(with_records > 0);
}

namespace {

// A map step's crash: "list" makes 48 numbers, "work" maps work() over them (one record per element
// as it succeeds), "total" adds them up.
constexpr std::size_t elements = 48;
std::array<std::atomic<int>, elements> element_calls{};  // how often each element ran, in this process

std::vector<std::uint64_t> numbers() {
  std::vector<std::uint64_t> v(elements);
  for (std::size_t i = 0; i != elements; ++i) v[i] = i;
  return v;
}
std::uint64_t work_element(const std::uint64_t& i) {
  ++element_calls[i];
  // Long enough (48 elements on 2 threads: about 12 ms) that the committer's timed flushes (every 5 ms
  // while records wait) fall inside the map, so that kills find some elements' records in the log
  // and not the step's.
  std::this_thread::sleep_for(std::chrono::microseconds(500));
  return work(i);
}
std::uint64_t total(const std::vector<std::uint64_t>& v) {
  std::uint64_t t = 0;
  for (const std::uint64_t x : v) t ^= x;
  return t;
}

template <class Kind>
auto make_map_flow() {
  if constexpr (Kind::is_static) {
    return lf::flow<"crashmap">(lf::step<"list">(numbers), lf::map_step<"work", "list">(work_element),
                                lf::step<"total", "work">(total));
  } else {
    lf::runtime_flow f{"crashmap"};
    f.add("list", numbers);
    f.map("work", "list", work_element);
    f.add("total", [](lf::context& ctx) { return total(ctx.result<std::vector<std::uint64_t>>("work")); }).after("work");
    return f;
  }
}

}  // namespace

TEMPLATE_TEST_CASE("runs killed with SIGKILL in the middle of a map step resume without running saved elements again",
                   "[checkpoint][crash][map]", two_kinds::static_flows, two_kinds::runtime_flows) {
  const lf::durability level = GENERATE(lf::durability::durable, lf::durability::fast);
  CAPTURE(level == lf::durability::durable ? "durable" : "fast");
  const fs::path root = fs::temp_directory_path() / ("lightflow-crashmap-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const auto flow = make_map_flow<TestType>();
  const auto run_in = [&](lf::executor& pool, killing_store& store) {
    if constexpr (TestType::is_static) return pool.run(flow, lf::checkpoint{store, "victim"});
    else return pool.run(flow, lf::values{}, lf::checkpoint{store, "victim"});
  };
  std::uint64_t expected = 0;
  int events = 0;
  {
    lf::file_store files(root / "uninterrupted", level);
    killing_store counting(files, 0);
    lf::executor pool{2};
    auto clean = run_in(pool, counting);
    REQUIRE(clean.ok());
    expected = two_kinds::value_of<"total", std::uint64_t>(clean);
    events = counting.events();
  }
  const int save_events = 2 * static_cast<int>(2 + 3 + elements);  // manifest, input, steps, elements
  REQUIRE(events > save_events);

  int killed = 0, mid_map = 0;
  for (int k = 1; k <= events + 4; ++k) {
    const fs::path dir = root / std::to_string(k);
    const bool was_killed =
        killed_at(k, dir, level, [&](lf::executor& pool, killing_store& store) { return run_in(pool, store).ok(); });
    killed += was_killed ? 1 : 0;

    lf::file_store files(dir, level);
    std::set<std::string> keys;  // the records that survived the kill
    for (const auto& key : files.list("crashmap", "victim")) keys.insert(key);
    const bool map_done = keys.count("step/work") != 0;
    std::size_t saved_elements = 0;
    for (std::size_t i = 0; i != elements; ++i) saved_elements += keys.count("elem/work/" + std::to_string(i));
    if (saved_elements != 0) CHECK(keys.count("step/list") != 0);  // never an element without its input
    mid_map += !map_done && saved_elements != 0 ? 1 : 0;

    for (auto& n : element_calls) n = 0;
    killing_store store(files, 0);
    lf::executor pool{2};
    auto result = [&] {
      try {
        return pool.resume(flow, lf::checkpoint{store, "victim"});
      } catch (const lf::checkpoint_error&) {  // killed before its manifest and input were written
        return run_in(pool, store);
      }
    }();
    REQUIRE(result.ok());
    CHECK(two_kinds::value_of<"total", std::uint64_t>(result) == expected);
    for (std::size_t i = 0; i != elements; ++i) {
      const bool had_record = map_done || keys.count("elem/work/" + std::to_string(i)) != 0;
      CHECK(element_calls[i] == (had_record ? 0 : 1));  // saved elements never ran again; the others once
    }
    fs::remove_all(dir);
  }
  fs::remove_all(root);
  WARN("kill points: " << events + 4 << "; killed: " << killed << ", of which in the middle of the map: " << mid_map);
  CHECK(killed >= save_events);
  CHECK(mid_map > 0);  // some kills fell between elements' records that had reached the log
}

// A child process runs a checkpointed flow and is killed with SIGKILL at many points; the parent
// resumes each run. The outputs must equal an uninterrupted run's, and no step whose record had
// reached the log may run again.
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

#include "catch.hpp"
#include "support/generated_flows.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using shape = generated::wavefront<4, 6>;
std::array<std::atomic<int>, shape::size> invocations{};  // how often each step ran, in this process

// Works a little (about 100 µs, so that kills land inside the run) and mixes its inputs into a
// number that depends on every step before it; deterministic.
std::uint64_t work(std::uint64_t v) {
  for (int i = 0; i != 80000; ++i) v = v * 6364136223846793005ull + 1442695040888963407ull;
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
auto make_flow(std::index_sequence<I...>) {
  return lf::flow<"crash">(counted_step<I>()...);
}

}  // namespace

TEST_CASE("runs killed with SIGKILL at many points resume to the uninterrupted result", "[checkpoint][crash]") {
  const char* env = std::getenv("LIGHTFLOW_CRASH_KILLS");
  const int kills = env != nullptr ? std::atoi(env) : 100;
  const fs::path root = fs::temp_directory_path() / ("lightflow-crash-" + std::to_string(::getpid()));
  fs::remove_all(root);

  const auto flow = make_flow(std::make_index_sequence<shape::size>{});
  std::uint64_t expected = 0;
  {
    lf::executor pool{2};
    auto clean = pool.run(flow, std::uint64_t{7});
    REQUIRE(clean.ok());
    expected = clean.get<"s00023">();
  }

  // The child: one checkpointed run on a durable file store.
  auto spawn = [&](const fs::path& dir) {
    const pid_t child = ::fork();  // no other thread exists here: the parent's executors are gone
    if (child == 0) {
      lf::file_store store(dir, lf::durability::durable);
      lf::executor pool{2};
      auto result = pool.run(flow, std::uint64_t{7}, lf::checkpoint{store, "victim"});
      std::_Exit(result.ok() ? 0 : 1);
    }
    return child;
  };

  // How long an uninterrupted child takes, so that the kills can be spread over it.
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t timed = spawn(root / "timed");
  REQUIRE(timed > 0);
  int status = 0;
  ::waitpid(timed, &status, 0);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  const auto duration = std::chrono::steady_clock::now() - t0;

  int with_records = 0, before_any_record = 0, mid_run = 0, finished = 0;
  for (int k = 0; k != kills; ++k) {
    const fs::path dir = root / std::to_string(k);
    const auto delay = duration * (k + 1) / (kills + 5);  // spread over the run, from its start to its end
    const pid_t child = spawn(dir);
    REQUIRE(child > 0);
    std::this_thread::sleep_for(delay);
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    const bool completed = WIFEXITED(status);
    finished += completed ? 1 : 0;

    lf::file_store store(dir);
    std::set<std::string> saved;  // the steps whose records survived the kill
    for (const auto& key : store.list("crash", "victim"))
      if (key.rfind("step/", 0) == 0) saved.insert(key.substr(5));
    (saved.empty() ? before_any_record : with_records) += 1;
    mid_run += !saved.empty() && !completed ? 1 : 0;

    for (auto& n : invocations) n = 0;
    lf::executor pool{2};
    auto result = [&] {
      try {
        return pool.resume<std::uint64_t>(flow, lf::checkpoint{store, "victim"});
      } catch (const lf::checkpoint_error&) {  // killed before its manifest and input were written
        return pool.run(flow, std::uint64_t{7}, lf::checkpoint{store, "victim"});
      }
    }();
    REQUIRE(result.ok());
    CHECK(result.get<"s00023">() == expected);
    for (std::uint32_t i = 0; i != shape::size; ++i) {
      const bool had_record = saved.count(std::string(decltype(flow)::graph.names[i])) != 0;
      CHECK(invocations[i] == (had_record ? 0 : 1));  // saved steps never ran again; the others ran once
    }
    CHECK(result.restored() == saved.size());
    fs::remove_all(dir);
  }
  fs::remove_all(root);
  const double run_ms = std::chrono::duration<double, std::milli>(duration).count();
  WARN("kills: " << kills << " over a run of " << run_ms
                 << " ms; killed mid-run (some records saved): " << mid_run << "; before any step record: "
                 << before_any_record << "; after the run finished: " << finished);
  CHECK(mid_run >= kills / 4);  // the kills really landed inside runs
}

// A run that fails on a simulated outage, and resumes once the service is back: the second run
// executes only the steps that had not succeeded.
//
//   fetch --> parse --> enrich (calls a service: down on the first run) --> report
//     |
//     +--> archive
//
#include <lightflow/lightflow.hpp>

#include <stdlib.h>  // mkdtemp

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace lf = lightflow;

namespace {
std::atomic<bool> service_up{false};
std::mutex log_mutex;

void note(const char* step) {
  std::lock_guard lock(log_mutex);
  std::printf("  running %s\n", step);
}
void print_run(const char* title, const auto& result) {
  std::string names;
  for (const auto& step : result.steps())
    if (!step.restored && step.status != lf::step_status::skipped) names += (names.empty() ? "" : ", ") + std::string(step.name);
  std::printf("%s: ran %s; restored %zu; %s\n", title, names.c_str(), result.restored(),
              result.ok() ? "succeeded" : result.error_message().c_str());
}
}  // namespace

int main(int argc, char** argv) {
  auto pipeline = lf::flow<"nightly report">(
      lf::step<"fetch">([](const std::string& day) {
        note("fetch");
        return std::vector<int>{3, 1, 4, 1, 5, 9, 2, static_cast<int>(day.size())};
      }),
      lf::step<"parse", "fetch">([](const std::vector<int>& raw) {
        note("parse");
        int sum = 0;
        for (int v : raw) sum += v;
        return sum;
      }),
      lf::step<"enrich", "parse">([](int sum) {
        note("enrich");
        if (!service_up) throw std::runtime_error("pricing service unavailable (HTTP 503)");
        return sum * 1.25;
      }),
      lf::step<"report", "enrich">([](double value) {
        note("report");
        return "total value " + std::to_string(value);
      }),
      lf::step<"archive", "fetch">([](const std::vector<int>& raw) {
        note("archive");
        return raw.size();
      }));

  // A durable file store: each step's output is on disk before its dependents start. In the
  // directory given as the first argument, or in a fresh one of the system's temporary directory
  // (never one shared with other users or checkouts).
  std::filesystem::path dir;
  if (argc > 1) {
    dir = argv[1];
  } else {
    std::string pattern = (std::filesystem::temp_directory_path() / "lightflow-example-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("lightflow example: mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  lf::file_store store(dir, lf::durability::durable);
  store.erase("nightly report", "2026-11-24");  // start the example afresh

  lf::executor pool{2};
  auto first = pool.run(pipeline, std::string("2026-11-24"), lf::checkpoint{store, "2026-11-24"});
  print_run("first run", first);

  service_up = true;  // the outage is over
  auto second = pool.resume<std::string>(pipeline, lf::checkpoint{store, "2026-11-24"});
  print_run("second run", second);
  std::printf("report: %s\n", second.get<"report">().c_str());
  if (argc > 1) {
    std::printf("records in %s\n", store.location("nightly report", "2026-11-24").c_str());
  } else {  // a temporary directory of our own: removed
    std::printf("records were in %s (removed; pass a directory to keep them)\n",
                store.location("nightly report", "2026-11-24").c_str());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return second.ok() ? 0 : 1;
}

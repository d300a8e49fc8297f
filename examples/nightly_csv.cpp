// A nightly job: list a directory of CSV files, parse each one in parallel (a map step: one element
// per file, retried on its own), join the per-file totals, write a report. Checkpointed: the first
// run fails on two unreadable files; once they are fixed, the run resumes from its checkpoint: it
// does not list the directory again, and parses only the two files that had failed (each file's
// totals were saved as soon as it was parsed, one checkpoint record per element).
//
//   list --> parse (one element per file) --> join --> report
//
#include <lightflow/lightflow.hpp>

#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

std::atomic<int> lists{0}, parses{0};

// One file's totals by region ("region,amount" lines after a header).
std::map<std::string, long> parse_csv(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line) || line != "region,amount")
    throw std::runtime_error(file.filename().string() + ": not a sales file (header \"" + line + "\")");
  std::map<std::string, long> totals;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    totals[line.substr(0, comma)] += std::stol(line.substr(comma + 1));
  }
  return totals;
}

// Day d's file: regions north, south, east with amounts d, 2d, 3d (two rows each).
void write_day(const fs::path& dir, int d, bool broken) {
  std::ofstream out(dir / ("day-" + std::to_string(d) + ".csv"));
  out << (broken ? "garbage\n" : "region,amount\n");
  for (int row = 0; row != 2; ++row) out << "north," << d << "\nsouth," << 2 * d << "\neast," << 3 * d << "\n";
}

fs::path fresh_directory(const char* tag) {
  std::string pattern = (fs::temp_directory_path() / (std::string("lightflow-") + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

int main() {
  const fs::path data = fresh_directory("csv"), checkpoints = fresh_directory("checkpoints");
  for (int d = 1; d <= 8; ++d) write_day(data, d, d == 3 || d == 6);  // days 3 and 6 are broken

  const auto nightly =
      lf::flow<"nightly">(lf::step<"list">([](const std::string& dir) {
                            ++lists;
                            std::vector<std::string> files;
                            for (const auto& entry : fs::directory_iterator(dir))
                              if (entry.path().extension() == ".csv") files.push_back(entry.path().string());
                            std::sort(files.begin(), files.end());
                            return files;
                          }),
                          lf::map_step<"parse", "list">([](const std::string& file) {
                            ++parses;
                            return parse_csv(file);
                          }).retry(lf::retry{2}),  // each file gets a second chance of its own
                          lf::step<"join", "parse">([](const std::vector<std::map<std::string, long>>& days) {
                            std::map<std::string, long> all;
                            for (const auto& day : days)
                              for (const auto& [region, amount] : day) all[region] += amount;
                            return all;
                          }),
                          lf::step<"report", "join">([](const std::map<std::string, long>& all) {
                            std::ostringstream text;
                            for (const auto& [region, amount] : all) text << region << " " << amount << "; ";
                            return text.str();
                          }));

  lf::file_store store(checkpoints, lf::durability::durable);
  lf::executor pool{2};
  const auto first = pool.run(nightly, data.string(), lf::checkpoint{store, "2026-12-07"});
  std::printf("first run: %s\n", first.ok() ? "succeeded" : first.error_message().c_str());
  try {
    std::rethrow_exception(first.step("parse").error);
  } catch (const lf::map_error& e) {
    for (const auto& failed : e.failed())
      std::printf("  file %zu failed: %s\n", failed.index, lf::describe(failed.error).c_str());
  }

  for (int d : {3, 6}) write_day(data, d, false);  // someone fixes the two files
  lists = 0, parses = 0;
  const auto second = pool.resume<std::string>(nightly, lf::checkpoint{store, "2026-12-07"});  // input: stored
  std::printf("resumed: %s; listed %d times, parsed %d files; report: %s\n", second.ok() ? "succeeded" : "failed",
              lists.load(), parses.load(), second.ok() ? second.get<"report">().c_str() : "none");

  fs::remove_all(data);
  fs::remove_all(checkpoints);
  return second.ok() ? 0 : 1;
}

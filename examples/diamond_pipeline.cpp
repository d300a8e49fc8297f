// A diamond data pipeline beside an independent branch. The upload fails (a simulated outage): the
// step after it is skipped, while the diamond and the archive branch finish.
//
//                     +--> stats -----+
//   load --> clean ---+               +--> report --> upload (fails) --> notify (skipped)
//     |               +--> histogram -+
//     +--> archive --> checksum
//
#ifdef LIGHTFLOW_SINGLE_HEADER
#include "lightflow.hpp"
#else
#include <lightflow/lightflow.hpp>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace lf = lightflow;

struct Stats {
  double mean;
  double stddev;
};

int main() {
  auto pipeline = lf::flow<"sensor pipeline">(
      lf::step<"load">([](const std::string& csv) {
        std::vector<double> values;
        std::istringstream in(csv);
        for (std::string field; std::getline(in, field, ',');) values.push_back(std::stod(field));
        return values;
      }),
      lf::step<"clean", "load">([](const std::vector<double>& raw) {
        std::vector<double> kept;
        std::copy_if(raw.begin(), raw.end(), std::back_inserter(kept), [](double v) { return v >= 0 && v < 100; });
        return kept;
      }),
      lf::step<"stats", "clean">([](const std::vector<double>& v) {
        const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
        double sq = 0;
        for (double x : v) sq += (x - mean) * (x - mean);
        return Stats{mean, std::sqrt(sq / static_cast<double>(v.size()))};
      }),
      lf::step<"histogram", "clean">([](const std::vector<double>& v) {
        std::array<int, 4> bins{};
        for (double x : v) ++bins[static_cast<std::size_t>(x / 25)];
        return bins;
      }),
      lf::step<"report", "stats", "histogram">([](const Stats& s, const std::array<int, 4>& bins) {
        return "mean " + std::to_string(s.mean) + ", stddev " + std::to_string(s.stddev) + ", bins " +
               std::to_string(bins[0]) + "/" + std::to_string(bins[1]) + "/" + std::to_string(bins[2]) + "/" +
               std::to_string(bins[3]);
      }),
      lf::step<"upload", "report">(
          [](const std::string&) -> int { throw std::runtime_error("storage service unavailable"); }),
      lf::step<"notify", "upload">([](int receipt) { return "sent receipt " + std::to_string(receipt); }),
      lf::step<"archive", "load">([](const std::vector<double>& raw) { return raw.size(); }),
      lf::step<"checksum", "archive">([](std::size_t n) { return n * 2654435761u; }));

  lf::executor pool{2};
  auto result = pool.run(pipeline, std::string("12.5,40,-3,77.25,99.9,150,63,8"));

  for (const auto& step : result.steps())
    std::printf("%-10s %s\n", std::string(step.name).c_str(), std::string(lf::to_string(step.status)).c_str());
  std::printf("report: %s\n", result.get<"report">().c_str());
  std::printf("checksum: %zu\n", result.get<"checksum">());
  std::printf("error: %s\n", result.error_message().c_str());
  std::printf("summary: %zu succeeded, %zu failed, %zu skipped\n", result.count(lf::step_status::succeeded),
              result.count(lf::step_status::failed), result.count(lf::step_status::skipped));
  try {
    (void)result.get<"notify">();
  } catch (const lf::bad_step_access& e) {
    std::printf("as expected: %s\n", e.what());
  }
  return result.status<"upload">() == lf::step_status::failed ? 0 : 1;
}

// Collects what a lightflow::logger writes, for tests to look through.
#ifndef LIGHTFLOW_TESTS_SUPPORT_LOG_LINES_HPP
#define LIGHTFLOW_TESTS_SUPPORT_LOG_LINES_HPP

#include <lightflow/logger.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct log_lines {
  std::mutex mutex;
  std::vector<std::pair<lightflow::log_level, std::string>> lines;

  /// A logger that appends here what is at `least` or above.
  lightflow::logger logger(lightflow::log_level least = lightflow::log_level::info) {
    return lightflow::logger(
        [this](lightflow::log_level level, std::string_view line) {
          std::lock_guard lock(mutex);
          lines.emplace_back(level, std::string(line));
        },
        least);
  }
  /// How many lines at `level` contain `part`.
  std::size_t count(lightflow::log_level level, const std::string& part) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& [l, text] : lines) n += l == level && text.find(part) != std::string::npos;
    return n;
  }
  bool has(lightflow::log_level level, const std::string& part) { return count(level, part) != 0; }
};

#endif
